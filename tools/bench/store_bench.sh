#!/usr/bin/env bash
# Store benchmark: write N synthetic events through the store API
# (build/tests/ct_store_bench: the agent's append path, a block sealed per
# second of event time, fsync per block), then time the CLI on that store:
# a selective query (one deploy), blame of one file, a full scan, verify.
#   tools/bench/store_bench.sh [N]      N defaults to 1000000 (10000000 for the 10M figures)
#   BENCH_DIR=/path  to put the store elsewhere (default: a temp dir under /var/tmp)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
CT=$BUILD/changetrace
N=${1:-1000000}
DIR=${BENCH_DIR:-$(mktemp -d /var/tmp/ct-store-bench.XXXXXX)}/store
trap 'rm -rf "$(dirname "$DIR")"' EXIT

# best of 3 wall-clock seconds of a command (output discarded)
t() {
  local best=
  for _ in 1 2 3; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N)
    best=$(echo "$s $e ${best:-999999}" | awk '{d = $2 - $1; print (d < $3 ? d : $3)}')
  done
  printf '%.3f' "$best"
}

echo "store benchmark: $N events, $(nproc) CPUs, $(uname -r), store on $(df --output=fstype "$(dirname "$DIR")" | tail -n1)"
w=$("$BUILD/tests/ct_store_bench" "$DIR" "$N")
echo "write:   $w"
last_deploy=$(( (N - 1) / 10000 / 2 ))
n_dep=$("$CT" query --store "$DIR" --deploy "d-$last_deploy" --json | wc -l)
echo "query --deploy d-$last_deploy ($n_dep events):  $(t "$CT" query --store "$DIR" --deploy "d-$last_deploy" --json) s"
n_blame=$("$CT" blame /etc/app/7.conf --store "$DIR" --json | wc -l)
echo "blame /etc/app/7.conf ($n_blame changes):  $(t "$CT" blame /etc/app/7.conf --store "$DIR" --json) s"
echo "full scan (query --comm nosuch, decodes every event):  $(t "$CT" query --store "$DIR" --comm nosuch) s"
s=$(date +%s.%N); v=$("$CT" verify --store "$DIR"); e=$(date +%s.%N)
echo "verify: $v  $(echo "$s $e" | awk '{printf "%.3f", $2 - $1}') s"
