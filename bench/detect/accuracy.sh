#!/usr/bin/env bash
# Reproduces the table in docs/ACCURACY.md: `matthan eval` on every clip of ../shared/media plus
# Debian's vtest.avi and tree.avi. Usage: bench/detect/accuracy.sh [BUILD_DIR] [SHARED_DIR]
# MATTHAN_EVAL_ARGS is added to every `matthan eval` (e.g. "--mode keyframes --gop 2").
# MATTHAN_ROWS, a bash regular expression, runs only the rows whose name matches (e.g. "boxes").
# Box rows run each camera with its own config from bench/detect/configs/ (model and crop chosen per
# camera, docs/ACCURACY.md); their model paths start with models/, which points at SHARED_DIR/models.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../../build}"
shared="${2:-${MATTHAN_SHARED_DIR:-$here/../../../shared}}"
m="$build/tools/matthan"
media="$shared/media"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The per-camera configs, next to a link to the shared models (config paths are relative to the file).
cp "$here"/configs/*.yaml "$tmp/"
ln -s "$(cd "$shared/models" && pwd)" "$tmp/models"

row() {  # name, then eval arguments
  local name="$1"; shift
  if [[ -n "${MATTHAN_ROWS:-}" && ! "$name" =~ $MATTHAN_ROWS ]]; then return 0; fi
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
# Each clip's boxes with the config of its kind of camera; peopleandfoliage is held out (never tuned on),
# so it is run with both people configs.
boxes() {  # clip, config name
  local model
  model="$(grep -o 'yolo-fastest-[^/]*\.weights' "$tmp/$2.yaml" | head -1)"
  row "sbi-$1 (boxes, $2: ${model%.weights})" --clip "$media/sbi-$1/$1.mp4" --gt-boxes "$media/sbi-$1/gt_summary.csv" \
    --config "$tmp/$2.yaml"
}
for s in highwayi caviar1 hallandmonitor peopleandfoliage; do
  row "sbi-$s (masks, motion)" --clip "$media/sbi-$s/$s.mp4" --gt-masks "$media/sbi-$s/groundtruth"
done
boxes highwayi road-far
boxes caviar1 people-far
boxes hallandmonitor people-near
boxes peopleandfoliage people-near
boxes peopleandfoliage people-far
for w in WavingTrees TimeOfDay Camouflage MovedObject; do
  row "wallflower $w (motion)" --clip "$media/wallflower/$w.mp4"
done
row "wallflower WavingTrees (objects, people-near)" --clip "$media/wallflower/WavingTrees.mp4" --config "$tmp/people-near.yaml"
data=/usr/share/doc/opencv-doc/examples/data
row "vtest.avi (objects, people-near)" --clip "$data/vtest.avi" --config "$tmp/people-near.yaml"
row "tree.avi (motion)" --clip "$data/tree.avi"
row "tree.avi (objects, people-near)" --clip "$data/tree.avi" --config "$tmp/people-near.yaml"
