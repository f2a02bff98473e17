#!/usr/bin/env bash
# Keeps docs/PERFORMANCE.md and docs/ACCURACY.md user pages: each at most 200 lines (investigations go to dated
# entries under bench/journal/), and no source comment cites one of their headings or a NOTES.md (not in the
# repo). A comment cites the benchmark or test that measures a figure, or the journal entry it came from.
# Usage: check_docs.sh [SOURCE_DIR] (default: the repository holding this script). Registered with ctest as
# docs_check.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/../.." && pwd)}"
cd "$root"

max_lines=200
# Files allowed to cite a heading (none).
exceptions=()

status=0
for page in docs/PERFORMANCE.md docs/ACCURACY.md; do
  lines=$(wc -l <"$page")
  if ((lines > max_lines)); then
    echo "$page: $lines lines, more than $max_lines: move investigations to a dated entry under bench/journal/"
    status=1
  fi
done

# Source files: C/C++, Python, shell, CMake, YAML. This script names the patterns, so it is left out.
self="tests/docs/check_docs.sh"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git -C "$root" ls-files -- '*.cpp' '*.hpp' '*.h' '*.c' '*.py' '*.sh' '*.cmake' \
    '*CMakeLists.txt' '*.yaml' '*.yml')
else
  mapfile -t files < <(find . -path ./build -prune -o -path ./.git -prune -o -type f \( -name '*.cpp' -o \
    -name '*.hpp' -o -name '*.h' -o -name '*.c' -o -name '*.py' -o -name '*.sh' -o -name '*.cmake' -o \
    -name CMakeLists.txt -o -name '*.yaml' -o -name '*.yml' \) -print | sed 's|^\./||')
fi

# A heading citation: `PERFORMANCE.md "Heading"`, `ACCURACY.md, "Heading"`, or such a citation broken after the
# comma at the end of a line; and any NOTES.md.
pattern='(PERFORMANCE|ACCURACY)\.md,?[[:space:]]*"|(PERFORMANCE|ACCURACY)\.md,[[:space:]]*$|NOTES\.md'
for f in "${files[@]}"; do
  [[ "$f" == "$self" || ! -f "$f" ]] && continue
  skip=0
  for e in "${exceptions[@]}"; do [[ "$f" == "$e" ]] && skip=1; done
  ((skip)) && continue
  if hits=$(grep -nE "$pattern" "$f"); then
    while IFS= read -r hit; do
      echo "$f:$hit"
    done <<<"$hits"
    echo "  ^ cite a benchmark or test name, or a bench/journal/ entry, instead of a heading or NOTES.md"
    status=1
  fi
done

if ((status == 0)); then
  echo "docs check: PERFORMANCE.md and ACCURACY.md within $max_lines lines; no heading or NOTES.md citations" \
    "(${#exceptions[@]} files excepted)"
fi
exit "$status"
