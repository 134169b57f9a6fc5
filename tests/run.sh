#!/usr/bin/env bash
# changetrace test runner: unit tests, then end-to-end tests against the
# real kernel. Ends with "N passed, N failed[, N skipped]".
#   tests/run.sh [FILTER]   run only tests whose name contains FILTER
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-$PWD/build}
export CT=$BUILD/changetrace
FILTER=${1:-${TEST_FILTER:-}}
passed=0 failed=0 skipped=0
failures=()

# --- unit tests (C): lines "ok NAME" / "FAIL NAME: why" / "skip NAME"
if [ -x "$BUILD/tests/unit_tests" ]; then
  while IFS= read -r line; do
    echo "$line"
    case "$line" in
      "ok "*) passed=$((passed + 1)) ;;
      "FAIL "*) failed=$((failed + 1)); failures+=("unit: ${line#FAIL }") ;;
      "skip "*) skipped=$((skipped + 1)) ;;
    esac
  done < <("$BUILD/tests/unit_tests" "$FILTER" 2>&1)
fi

# --- end-to-end tests (bash): each tests/e2e/*.sh defines test_* functions,
# optionally setup_file/teardown_file; each test runs in its own subshell.
for f in tests/e2e/*.sh; do
  [ -e "$f" ] || continue
  tests=$(bash -c "source tests/lib.sh; source $f; declare -F" | awk '{print $3}' | grep '^test_' || true)
  [ -n "$FILTER" ] && tests=$(echo "$tests" | grep -- "$FILTER" || true)
  [ -z "$tests" ] && continue
  echo "== $f"
  # kept under build/ (a test cleaning up /tmp cannot take it) for a
  # failure's whole output
  out=$BUILD/test-logs/$(basename "$f" .sh).log
  mkdir -p "$(dirname "$out")"
  bash -c '
    source tests/lib.sh; source "$1"; shift
    ct_file_init
    if declare -F setup_file >/dev/null && ! setup_file; then
      for t in "$@"; do echo "FAIL $t: setup_file failed"; done
      teardown_file 2>/dev/null; ct_file_cleanup; exit 0
    fi
    for t in "$@"; do ct_run_one "$t"; done
    declare -F teardown_file >/dev/null && teardown_file
    ct_file_cleanup
  ' _ "$f" $tests 2>&1 | tee "$out"
  if [ ! -r "$out" ]; then
    failed=$((failed + 1)); failures+=("$f: its output $out is gone")
    continue
  fi
  passed=$((passed + $(grep -c '^ok ' "$out" || true)))
  skipped=$((skipped + $(grep -c '^skip ' "$out" || true)))
  nf=$(grep -c '^FAIL ' "$out" || true)
  failed=$((failed + nf))
  [ "$nf" -gt 0 ] && while IFS= read -r l; do failures+=("$f: ${l#FAIL }"); done < <(grep '^FAIL ' "$out")
done

if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "failures:"
  printf '  %s\n' "${failures[@]}"
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
