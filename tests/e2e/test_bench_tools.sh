# The bench's own instruments (tools/bench), checked briefly on the real
# kernel so `make bench` cannot rot unnoticed: ct_hooks attaches an empty
# program at every hook of the agent's object, ct_hookcost runs its
# interleaved loops and reports the four configurations under each,
# unobserved_bench.sh compares a small tree across a restart.

test_ct_hooks_attaches_at_every_hook_of_the_agent() {
  need_root
  local out pid line
  coproc HK { exec "$BUILD/bench/ct_hooks" "$BUILD/changetrace.bpf.o"; }
  pid=$HK_PID
  read -r -t 60 -u "${HK[0]}" line || { kill "$pid"; fail "ct_hooks did not start"; }
  kill -TERM "$pid"; wait "$pid" || true
  echo "$line"
  [[ $line =~ ^ready\ ([0-9]+)\ of\ ([0-9]+)$ ]] || fail "unexpected: $line"
  assert_ge "${BASH_REMATCH[2]}" 40 "hooks in the agent's object"
  assert_eq "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" "hooks attached"
  local rc=0
  out=$("$BUILD/bench/ct_hooks" 2>&1) || rc=$?
  assert_eq "$rc" 2 "usage exit code"
  echo "$out" | grep -q usage || fail "no usage message"
}

test_ct_hookcost_reports_none_hooks_changetrace_and_all() {
  need_root
  local d=$T/hc out
  mkdir -p "$d"
  out=$("$BUILD/bench/ct_hookcost" "$d" 10 200) || fail "ct_hookcost failed: $out"
  echo "$out"
  for c in none hooks hooks_both changetrace all other_none other_hooks other_hooks_both other_changetrace other_all; do
    echo "$out" | grep -Eq "^$c p10_ns=[0-9]+ median_ns=[0-9]+ ratio=[0-9.]+ rounds=[0-9]+$" || fail "no line for $c"
  done
  echo "$out" | grep -q '^none .* ratio=1.000 rounds=10$' || fail "none's ratio is not 1"
  echo "$out" | grep -q '^other_none .* ratio=1.000 rounds=10$' || fail "other_none's ratio is not 1"
  echo "$out" | grep -q '^all .* rounds=2$' || fail "the whole probe set is not timed every 5th round"
  local rc=0
  "$BUILD/bench/ct_hookcost" "$d" 1 1 >/dev/null 2>&1 || rc=$?
  assert_eq "$rc" 2 "usage exit code for too few rounds"
}

# the start-up comparison's bench, small: it runs, finds nothing, misses nothing
test_unobserved_bench_runs_small() {
  need_root
  local out
  out=$(BENCH_UNOB_ROUNDS=1 BENCH_UNOB_OUT=$T/unob.json tools/bench/unobserved_bench.sh 300 2>&1) ||
    fail "unobserved_bench failed: $out"
  echo "$out"
  grep -Eq 'restart, all unchanged: comparison +[0-9]+ ms \(30[0-9] files compared\)' <<<"$out" || fail "no comparison line"
  grep -Eq 'unobserved changes reported +0 ' <<<"$out" || fail "changes reported"
  grep -Eq 'live changes missed +0$' <<<"$out" || fail "live changes missed"
  assert_eq "$(jq -r .files "$T/unob.json")" 300
}
