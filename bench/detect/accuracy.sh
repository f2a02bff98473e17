#!/usr/bin/env bash
# Reproduces the table in docs/ACCURACY.md: `matthan eval` on every clip of ../shared/media plus
# Debian's vtest.avi and tree.avi. Usage: bench/detect/accuracy.sh [BUILD_DIR] [SHARED_DIR]
# MATTHAN_EVAL_ARGS is added to every `matthan eval` (e.g. "--mode keyframes --gop 2").
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
shared="${2:-${MATTHAN_SHARED_DIR:-$here/../../../shared}}"
m="$build/tools/matthan"
media="$shared/media"
models="$shared/models/yolo-fastest-1.1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# A one-camera config with the object detector, for the box columns.
cat > "$tmp/objects.yaml" <<YAML
cameras:
  - id: eval
    url: rtsp://127.0.0.1:1/unused
    detect:
      objects:
        model: {cfg: $models/yolo-fastest-1.1.cfg, weights: $models/yolo-fastest-1.1.weights, names: $models/coco.names, input: 320}
        labels: [person, bicycle, motorbike, car, bus, truck]
        min_score: {person: 0.25, default: 0.25}
YAML

row() {  # name, then eval arguments
  local name="$1"; shift
  local j
  # shellcheck disable=SC2086  # word splitting of the extra arguments is wanted
  j="$("$m" eval --json "$@" ${MATTHAN_EVAL_ARGS:-} 2>/dev/null)"
  python3 - "$name" "$j" <<'PY'
import json, sys
name, j = sys.argv[1], json.loads(sys.argv[2])
f = lambda d, k: "-" if not d else f"{d[k]:.3f}"
inc = j["incidents"]
kinds = {}
for i in inc:
    key = i["kind"] + (":" + i["label"] if i["label"] else "")
    kinds[key] = kinds.get(key, 0) + 1
print(f"| {name} | {j['frames']} | {f(j['motion'],'precision')} | {f(j['motion'],'recall')} | {f(j['motion'],'f1')} | "
      f"{f(j['boxes'],'precision')} | {f(j['boxes'],'recall')} | {len(inc)} {dict(sorted(kinds.items())) if kinds else ''} |")
PY
}

echo "| clip | frames | mask P | mask R | mask F | box P | box R | incidents |"
echo "|---|---|---|---|---|---|---|---|"
row "cdnet-highway (masks, motion)" --clip "$media/cdnet-highway/video03_cdnet_highway.avi" --gt-masks "$media/cdnet-highway/cdnet-highway-gt200" --gt-offset 1
for s in highwayi caviar1 hallandmonitor peopleandfoliage; do
  row "sbi-$s (masks, motion)" --clip "$media/sbi-$s/$s.mp4" --gt-masks "$media/sbi-$s/groundtruth"
  row "sbi-$s (boxes, yolo-fastest-1.1)" --clip "$media/sbi-$s/$s.mp4" --gt-boxes "$media/sbi-$s/gt_summary.csv" --config "$tmp/objects.yaml"
done
for w in WavingTrees TimeOfDay Camouflage MovedObject; do
  row "wallflower $w (motion)" --clip "$media/wallflower/$w.mp4"
done
row "wallflower WavingTrees (objects)" --clip "$media/wallflower/WavingTrees.mp4" --config "$tmp/objects.yaml"
data=/usr/share/doc/opencv-doc/examples/data
row "vtest.avi (objects)" --clip "$data/vtest.avi" --config "$tmp/objects.yaml"
row "tree.avi (motion)" --clip "$data/tree.avi"
row "tree.avi (objects)" --clip "$data/tree.avi" --config "$tmp/objects.yaml"
