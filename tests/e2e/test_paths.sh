# The two event paths and gap events: losses are never silent.

test_bulk_overload_is_counted_and_reported_as_gaps() {
  # a deliberately tiny bulk ring (4 KiB: two exec records) under an exec storm
  ct_agent_start --bulk-buffer 4
  kill -STOP "$AGENT_PID"   # frozen collector: the ring overflows on any machine
  "$BUILD/tests/ct_storm" 3000 4
  kill -CONT "$AGENT_PID"
  sleep 2.5   # the 1 s housekeeping tick turns drops into GAP events
  local s; s=$("$CT" status --json)
  local seen dropped emitted gaps
  seen=$(jq '.status.seen[] | select(.name=="exec") | .value' <<<"$s")
  dropped=$(jq '.status.dropped[] | select(.name=="exec") | .value // 0' <<<"$s")
  emitted=$(jq '.status.counters[] | select(.name=="events_emitted_exec") | .value // 0' <<<"$s")
  gaps=$(jq -s '[.[] | select(.kind=="GAP" and .gap.lost_kind=="EXEC" and .gap.path=="BULK") | .gap.count] | add // 0' "$T/events.jsonl")
  echo "seen=$seen dropped=$dropped emitted=$emitted gaps=$gaps"
  assert_ge "$dropped" 1 "the tiny ring must overflow"
  assert_eq "$gaps" "$dropped" "GAP events count every dropped exec"
  assert_eq "$((emitted + dropped))" "$seen" "every exec seen is either emitted or counted as dropped"
  # status reports the path: capacity and a high-water mark
  assert_eq "$(jq '.status.paths[] | select(.name=="bulk") | .capacity_bytes' <<<"$s")" 4096
  assert_ge "$(jq '.status.paths[] | select(.name=="bulk") | .high_water_bytes // 0' <<<"$s")" 1 "high water"
  local dropped_exit; dropped_exit=$(jq '.status.dropped[] | select(.name=="exit") | .value // 0' <<<"$s")
  assert_eq "$(jq '.status.paths[] | select(.name=="bulk") | .lost' <<<"$s")" "$((dropped + dropped_exit))" "bulk path losses = exec + exit drops"
  assert_eq "$(jq -s '[.[] | select(.kind=="GAP" and .gap.path=="BULK") | .gap.count] | add // 0' "$T/events.jsonl")" "$((dropped + dropped_exit))"
  ct_agent_stop
}

test_buffer_size_validation() {
  local out rc
  set +e; out=$("$CT" agent --bulk-buffer 3 2>&1); rc=$?; set -e
  assert_eq "$rc" 2
  assert_contains "$out" "power of two"
}

# The acceptance test of the two paths: an exec storm saturates the bulk
# ring (drops there are expected and counted) while a deploy makes 1,000
# config writes and 100 nftables changes: every one of them is stored.
test_changes_survive_a_bulk_storm() {
  command -v nft >/dev/null || skip "no nft"
  local ns=ct-test-$$-p$RANDOM W=$T/storm-w
  ip netns add "$ns" || fail "ip netns add"
  echo "$ns" >> "$T/paths.ns"
  mkdir -p "$W" "$T/unwatched"
  { echo "add table inet storm"; for i in $(seq 1 99); do echo "add chain inet storm c$i"; done; } > "$T/batch.nft"
  ct_agent_start --bulk-buffer 16 --watch "$W"
  "$BUILD/tests/ct_storm" 6000 4 &
  local storm=$!
  # an open/write storm on unwatched files at the same time
  ( for i in $(seq 3000); do echo "$i" > "$T/unwatched/u$((i % 50))"; done ) &
  local opens=$!
  "$CT" run --deploy storm-1 --author storm-tests -- sh -c "
    for i in \$(seq 1000); do echo \$i > '$W/f'\$i.conf; done
    ip netns exec '$ns' nft -f '$T/batch.nft'"
  wait "$storm" "$opens" || true
  local s; s=$("$CT" status --json)
  local dropped; dropped=$(jq '[.status.dropped[] | select(.name=="exec" or .name=="exit") | .value] | add // 0' <<<"$s")
  ct_agent_stop
  ip netns del "$ns"
  assert_ge "$dropped" 1 "the storm must overflow the 16 KiB bulk ring"
  assert_eq "$(jq '.status.paths[] | select(.name=="change") | .lost // 0' <<<"$s")" 0 "no change lost"
  local files nets
  files=$("$CT" query --store "$T/store" --deploy storm-1 --kind file --json | jq -r .file.path | sort -u | wc -l)
  nets=$("$CT" query --store "$T/store" --deploy storm-1 --kind net --json | wc -l)
  assert_eq "$files" 1000 "config writes stored, attributed"
  assert_eq "$nets" 100 "nft changes stored, attributed"
  assert_eq "$("$CT" query --store "$T/store" --kind file --json | jq -r 'select(.file.path | contains("/unwatched/")) | .event_id' | wc -l)" 0
}

# A deliberately tiny change ring: every record lost is in a GAP event.
test_tiny_change_path_gaps_match_losses() {
  local W=$T/tiny-w
  mkdir -p "$W"
  ct_agent_start --change-buffer 4 --watch-only --watch "$W"
  # Freeze the collector while the writes happen, so the 4 KiB ring overflows however fast
  # this machine drains it (the kernel side keeps recording and counting meanwhile).
  kill -STOP "$AGENT_PID"
  python3 -c "
import os
for i in range(3000):
    fd = os.open('$W/t%d.conf' % i, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b'x')
    os.close(fd)"
  kill -CONT "$AGENT_PID"
  sleep 2.5   # the 1 s housekeeping tick turns drops into GAP events
  local s; s=$("$CT" status --json)
  local seen dropped records gaps
  seen=$(jq '.status.seen[] | select(.name=="file") | .value' <<<"$s")
  dropped=$(jq '.status.dropped[] | select(.name=="file") | .value // 0' <<<"$s")
  records=$(jq '.status.counters[] | select(.name=="file_records") | .value // 0' <<<"$s")
  gaps=$(jq -s '[.[] | select(.kind=="GAP" and .gap.path=="CHANGE" and .gap.lost_kind=="FILE") | .gap.count] | add // 0' "$T/events.jsonl")
  echo "seen=$seen dropped=$dropped records=$records gaps=$gaps"
  assert_ge "$dropped" 1 "a 4 KiB change ring must overflow"
  assert_eq "$gaps" "$dropped" "GAP events count every lost change record"
  assert_eq "$((records + dropped))" "$seen" "every record seen is either processed or counted lost"
  # the path's losses are its kinds' losses (other host activity may add net)
  local dropped_net; dropped_net=$(jq '.status.dropped[] | select(.name=="net") | .value // 0' <<<"$s")
  assert_eq "$(jq '.status.paths[] | select(.name=="change") | .lost' <<<"$s")" "$((dropped + dropped_net))"
  ct_agent_stop
}

teardown_file() {
  for n in $(cat "$T/paths.ns" 2>/dev/null); do ip netns del "$n" 2>/dev/null; done
  return 0
}
