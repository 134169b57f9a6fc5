#!/usr/bin/env bash
# The start-up comparison at scale: N watched files (default 20,000), all
# unchanged between restarts. How long the agent takes to compare them
# with its last known state (it must report nothing), and how soon a change
# made live while it compares is reported, against one made once it is
# done (the same settle time applies to both: the difference is the cost).
#
#   tools/bench/unobserved_bench.sh [N]   (make bench runs it; BENCH_UNOB_ROUNDS=3)
#
# Needs root. Works in a temp dir (removed at exit) with its own agent
# (started and stopped by pid), store, socket and pin dir.
# Results: a table on stdout and build/bench/unobserved.json.
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
CT=$BUILD/changetrace
N=${1:-20000}
ROUNDS=${BENCH_UNOB_ROUNDS:-3}
OUT=${BENCH_UNOB_OUT:-$BUILD/bench/unobserved.json}

[ "$(id -u)" -eq 0 ] || { echo "unobserved_bench: needs root" >&2; exit 1; }
for b in "$CT" jq awk; do command -v "$b" >/dev/null || { echo "unobserved_bench: $b missing" >&2; exit 1; }; done
mkdir -p "$(dirname "$OUT")"
D=$(mktemp -d /tmp/ct-unob-bench.XXXXXX)
W=$D/watched PIN=/sys/fs/bpf/ctunobbench_$$ SOCK=$D/ctl.sock
AG=
cleanup() {
  if [ -n "$AG" ]; then kill -TERM "$AG" 2>/dev/null; wait "$AG" 2>/dev/null; fi
  rm -rf "$D" "$PIN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ns() { date +%s%N; }
counter() { "$CT" status --socket "$SOCK" 2>/dev/null | grep -o "$1=[0-9]*" | cut -d= -f2; }
start() { # OUTFILE
  "$CT" agent --json --store "$D/store" --socket "$SOCK" --pin-dir "$PIN" --watch-only --watch "$W" \
    > "$1" 2> "$1.err" &
  AG=$!
  for _ in $(seq 300); do
    "$CT" status --socket "$SOCK" >/dev/null 2>&1 && return 0
    kill -0 "$AG" 2>/dev/null || { cat "$1.err" >&2; exit 1; }
    sleep 0.01
  done
  echo "unobserved_bench: agent did not come up" >&2; exit 1
}
stop() { kill -TERM "$AG"; wait "$AG" 2>/dev/null; AG=; }
wait_done() {
  for _ in $(seq 3000); do [ "$(counter unobserved_compare_done)" = 1 ] && return 0; sleep 0.01; done
  echo "unobserved_bench: comparison did not finish" >&2; exit 1
}
# ns from WRITTEN until PATH's live event is in OUTFILE (0: never came)
seen_after() { # OUTFILE PATH WRITTEN
  for _ in $(seq 1000); do
    if grep -qF "\"path\":\"$2\"" "$1"; then echo $(( $(now_ns) - $3 )); return; fi
    sleep 0.005
  done
  echo 0
}
median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }

echo "unobserved_bench: $N files in $W"
mkdir -p "$W"
for d in $(seq 20); do mkdir -p "$W/d$d"; done
awk -v d="$W" -v n="$N" 'BEGIN { for (i = 0; i < n; i++) { f = sprintf("%s/d%d/f%d.conf", d, i % 20 + 1, i);
  printf "# config %d\nkey%d = value %d\nport = %d\n", i, i, i, 1000 + i % 5000 > f; close(f) } }'

start "$D/first.jsonl"
wait_done
FIRST_MS=$(counter unobserved_compare_ms)
SNAP_MS=$(counter state_snapshot_ms)
stop
SNAP_BYTES=$(stat -c %s "$D/store/last_state.pb")

: > "$D/rounds.txt"   # compare_ms compared unobserved during live_ns idle_ns
for r in $(seq "$ROUNDS"); do
  out=$D/round-$r.jsonl
  start "$out"
  live=$W/d1/live-$r.conf
  t=$(now_ns); echo "live $r" > "$live"
  during=$([ "$(counter unobserved_compare_done)" = 0 ] && echo 1 || echo 0)
  lat=$(seen_after "$out" "$live" "$t")
  wait_done
  idle=$W/d2/idle-$r.conf
  sleep 0.2
  t=$(now_ns); echo "idle $r" > "$idle"
  lat_idle=$(seen_after "$out" "$idle" "$t")
  echo "$(counter unobserved_compare_ms) $(counter unobserved_files_compared) $(jq -c 'select(.unobserved == true and .kind == "FILE")' "$out" | wc -l) $during $lat $lat_idle" >> "$D/rounds.txt"
  stop
done

CMP_MS=$(awk '{print $1}' "$D/rounds.txt" | median)
FOUND=$(awk '{s += $3} END {print s + 0}' "$D/rounds.txt")
COMPARED=$(awk '{print $2}' "$D/rounds.txt" | median)
LIVE=$(awk '$4 == 1 && $5 > 0 {print $5}' "$D/rounds.txt" | median)
DURING=$(awk '$4 == 1' "$D/rounds.txt" | wc -l)
MISSED=$(awk '$5 == 0 || $6 == 0' "$D/rounds.txt" | wc -l)
IDLE=$(awk '$6 > 0 {print $6}' "$D/rounds.txt" | median)

printf '\nstart-up comparison, %d watched files (%d rounds, medians)\n' "$N" "$ROUNDS"
printf '  %-48s %s ms\n' "first start (baseline, versions kept)" "$FIRST_MS"
printf '  %-48s %s ms (%s files compared)\n' "restart, all unchanged: comparison" "$CMP_MS" "$COMPARED"
printf '  %-48s %s (must be 0)\n' "unobserved changes reported" "$FOUND"
printf '  %-48s %s bytes, written in %s ms\n' "last known state snapshot" "$SNAP_BYTES" "$SNAP_MS"
printf '  %-48s %s ms (%d of %d rounds during the comparison)\n' "live change made during it: reported after" \
  "$([ -n "$LIVE" ] && [ "$LIVE" != 0 ] && echo $((LIVE / 1000000)) || echo n/a)" "$DURING" "$ROUNDS"
printf '  %-48s %s ms\n' "live change made after it: reported after" "$((IDLE / 1000000))"
printf '  %-48s %s\n' "live changes missed" "$MISSED"
jq -n --argjson n "$N" --argjson rounds "$ROUNDS" --argjson first "${FIRST_MS:-0}" --argjson cmp "${CMP_MS:-0}" \
  --argjson compared "${COMPARED:-0}" --argjson found "$FOUND" --argjson snap_bytes "${SNAP_BYTES:-0}" \
  --argjson snap_ms "${SNAP_MS:-0}" --argjson live_ns "${LIVE:-0}" --argjson during "$DURING" \
  --argjson idle_ns "${IDLE:-0}" --argjson missed "$MISSED" \
  '{files: $n, rounds: $rounds, first_start_ms: $first, compare_ms: $cmp, files_compared: $compared,
    unobserved_found: $found, snapshot_bytes: $snap_bytes, snapshot_ms: $snap_ms,
    live_during_comparison_ns: $live_ns, rounds_live_during: $during, live_after_comparison_ns: $idle_ns,
    live_missed: $missed}' > "$OUT"
echo "results: $OUT"
[ "$FOUND" -eq 0 ] && [ "$MISSED" -eq 0 ]
