#!/usr/bin/env bash
# The user-side code under valgrind (memcheck): the unit tests, then the
# CLI's store readers (query, timeline, blame, verify, diff) on a store
# written through the agent's store API. Any error fails (exit 1).
#   tests/valgrind.sh        (make valgrind)
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$PWD/build}
CT=$BUILD/changetrace
command -v valgrind >/dev/null || { echo "valgrind not installed (tools/install-deps.sh)"; exit 1; }
T=$(mktemp -d /tmp/ct-valgrind.XXXXXX)
trap 'rm -rf "$T"' EXIT
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --track-origins=yes)
fails=0

run() { # NAME CMD...
  local name=$1; shift
  "${VG[@]}" --log-file="$T/$name.vg" "$@" > "$T/$name.out" 2>&1
  local rc=$?
  if [ $rc -eq 99 ] || [ -s "$T/$name.vg" ]; then
    echo "FAIL valgrind $name"; sed 's/^/    | /' "$T/$name.vg" | head -n 40
    fails=$((fails + 1))
  else
    echo "ok valgrind $name (exit $rc)"
  fi
}

run unit_tests "$BUILD/tests/unit_tests"
"$BUILD/tests/ct_store_bench" "$T/store" 20000 > /dev/null
id=$("$CT" query --store "$T/store" --kind file --json --limit 1 | jq -r '.event_id')
run query "$CT" query --store "$T/store" --json
run query_filters "$CT" query --store "$T/store" --kind exec,file --comm nosuch --since 7d --deploy d-1
run timeline "$CT" timeline --store "$T/store" --since 3650d
run blame "$CT" blame /etc/app/7.conf --store "$T/store" --json
run verify "$CT" verify --store "$T/store"
run diff "$CT" diff "${id:-none}" --store "$T/store"
run status_down "$CT" status --socket "$T/none.sock"
run bad_flag "$CT" query --store "$T/store" --since yesterday-ish
# a damaged store: a flipped byte and a torn tail
seg=$(ls "$T"/store/seg-*.cts | head -n1)
printf '\xff' | dd of="$seg" bs=1 seek=2000 conv=notrunc 2>/dev/null
head -c 100 /dev/urandom >> "$seg"
run verify_damaged "$CT" verify --store "$T/store"
run query_damaged "$CT" query --store "$T/store" --json
[ $fails -eq 0 ] && echo "valgrind: clean" || echo "valgrind: $fails failed"
[ $fails -eq 0 ]
