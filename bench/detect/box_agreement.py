#!/usr/bin/env python3
"""How many of one run's detections another run still finds, frame by frame.

Usage: box_agreement.py REFERENCE.csv OTHER.csv [--iou 0.3]

Both files are `matthan eval --dump-boxes` output of the same clip (for a clip without ground truth, pass
`--gt-boxes` a csv that lists every frame with no box). Only detector boxes (source `pred`) count. A
reference box is found when the other run has a box of the same kind (car, bus and truck are one kind, as
in the engine's suppression) on the same frame overlapping it by IoU >= --iou, one to one, best score first.
Prints the reference's boxes, how many the other run found (agreement), and the other run's boxes that match
none of the reference's (new).
"""
import argparse
import csv
from collections import defaultdict

VEHICLES = {"car", "bus", "truck"}


def kind(label):
    return "vehicle" if label in VEHICLES else label


def read(path):
    frames = defaultdict(list)
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["source"] != "pred":
                continue
            box = tuple(float(row[k]) for k in ("x", "y", "w", "h"))
            frames[int(row["frame"])].append((kind(row["label"]), float(row["score"]), box))
    return frames


def iou(a, b):
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("other")
    ap.add_argument("--iou", type=float, default=0.3)
    args = ap.parse_args()
    ref, other = read(args.reference), read(args.other)
    total = found = new = 0
    for frame in sorted(set(ref) | set(other)):
        taken = set()
        for k, _, box in sorted(ref.get(frame, []), key=lambda d: -d[1]):
            total += 1
            best, best_iou = None, args.iou
            for i, (k2, _, box2) in enumerate(other.get(frame, [])):
                if i in taken or k2 != k:
                    continue
                v = iou(box, box2)
                if v >= best_iou:
                    best, best_iou = i, v
            if best is not None:
                taken.add(best)
                found += 1
        new += len(other.get(frame, [])) - len(taken)
    share = found / total if total else 0.0
    print(f"reference boxes {total}  found {found}  agreement {share:.3f}  new boxes {new}")


if __name__ == "__main__":
    main()
