#!/usr/bin/env bash
# Style gate, run by scripts/test.sh before the build: every C++ file is clang-formatted (.clang-format), and the
# C++ files the last change touched pass clang-tidy's bugprone and performance checks (.clang-tidy).
#   bash scripts/check-style.sh             format check, then tidy on the files changed since MATTHAN_TIDY_BASE
#   MATTHAN_TIDY_BASE=main~5 bash ...       tidy on everything changed since that revision (default HEAD~1)
#   bash scripts/check-style.sh --fix       reformat the tree in place instead of checking it
# tidy needs a build tree with compile_commands.json (scripts/build.sh exports it); without one it is skipped,
# saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.h' '*.cc')

if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi

unformatted=()
for f in "${files[@]}"; do
  clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || unformatted+=("$f")
done
if ((${#unformatted[@]} > 0)); then
  echo "style: ${#unformatted[@]} file(s) are not clang-formatted (fix with: bash scripts/check-style.sh --fix):"
  printf '  %s\n' "${unformatted[@]}"
  exit 1
fi
echo "style: ${#files[@]} C++ files clang-formatted"

[[ "${MATTHAN_STYLE_FORMAT_ONLY:-}" == 1 ]] && exit 0
build="${MATTHAN_BUILD_DIR:-build}"
if [[ ! -f "$build/compile_commands.json" ]]; then
  echo "style: no $build/compile_commands.json yet: clang-tidy skipped (scripts/build.sh makes it)"
  exit 0
fi
base="${MATTHAN_TIDY_BASE:-HEAD~1}"
if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
  echo "style: no revision $base (a history of one commit?): clang-tidy skipped"
  exit 0
fi
mapfile -t changed < <(git diff --name-only --diff-filter=AM "$base" -- '*.cpp' | grep -v '^tests/fuzz/' || true)
if ((${#changed[@]} == 0)); then
  echo "style: no C++ source changed since $base: nothing for clang-tidy"
  exit 0
fi
echo "style: clang-tidy on ${#changed[@]} file(s) changed since $base"
failed=0
for f in "${changed[@]}"; do
  if ! out=$(clang-tidy -p "$build" --quiet "$f" 2>&1); then
    failed=1
    echo "$out" | grep -E "(warning|error):" -A3
  fi
done
exit "$failed"
