# Reliability under load: a burst of watched-file records and an exec storm.
# Every kernel record is either received by the collector or counted as
# dropped (and then reported as a GAP event in the store); every file and
# every exec ends up in the store unless its loss was counted; the agent
# answers `changetrace status` throughout.
#
# Default size (runs in ~30 s on a 2-core VM): 100k open/write/close cycles
# (200k FILE records) over 2000 files, 20k execs. CT_BIG=1: 500k cycles
# (1M records) over 5000 files and 100k execs.

if [ -n "${CT_BIG:-}" ]; then
  REL_FILES=5000 REL_ROUNDS=100 REL_EXECS=100000
else
  REL_FILES=2000 REL_ROUNDS=50 REL_EXECS=20000
fi

# st NAME: one value from `changetrace status --json` (seen_X, dropped_X or a counter)
st() {
  "$CT" status --json | jq -r --arg n "$1" '.status as $s |
    ([$s.seen[]? | {key: ("seen_" + .name), value: (.value // 0)}] +
     [$s.dropped[]? | {key: ("dropped_" + .name), value: (.value // 0)}] +
     [$s.counters[]? | {key: .name, value: (.value // 0)}]) | from_entries | .[$n] // 0'
}

# agent_on_tmpfs DIR: a 64 MiB tmpfs at $T/fs (unmounted when the test
# ends) with DIR in it watched, the agent on a 16 MiB change ring
agent_on_tmpfs() {
  mkdir -p "$T/fs"
  mount -t tmpfs -o size=64m ctrel "$T/fs" || skip "cannot mount tmpfs"
  trap 'umount "$T/fs" 2>/dev/null || true' EXIT
  mkdir "$T/fs/$1"
  ct_agent_start --quiet --change-buffer 16384 --watch "$T/fs/$1"
}

# poll status every 0.2 s until $T/stop exists; one line per call: "rc seconds"
status_poller() {
  while [ ! -e "$T/stop" ]; do
    local s e rc
    s=$(date +%s.%N)
    timeout 10 "$CT" status >/dev/null 2>&1; rc=$?
    e=$(date +%s.%N)
    echo "$rc $(echo "$s $e" | awk '{print $2 - $1}')"
    sleep 0.2
  done > "$T/status_calls.txt"
}

# drained: wait until the collector has taken every record the kernel kept
wait_drained() {
  local prev=-1 cur
  for _ in $(seq 100); do
    cur=$(( $(st file_records) + $(st dropped_file) ))
    [ "$cur" -eq "$(st seen_file)" ] && [ "$cur" -eq "$prev" ] && [ "$(st file_pending)" -eq 0 ] && return 0
    prev=$cur
    sleep 0.3
  done
  return 1
}

test_burst_of_file_records_and_execs_all_stored_or_counted() {
  need_root
  mkdir -p "$T/fs"
  mount -t tmpfs -o size=256m ctrel "$T/fs" || skip "cannot mount tmpfs"
  trap 'umount "$T/fs" 2>/dev/null || true' EXIT
  mkdir "$T/fs/w"
  ct_agent_start --quiet --watch "$T/fs/w"
  local seen0 cycles=$(( REL_FILES * REL_ROUNDS ))
  seen0=$(st seen_file)

  rm -f "$T/stop"
  status_poller & local poller=$!
  "$BUILD/tests/ct_writeloop" "$T/fs/w" "$REL_FILES" "$REL_ROUNDS"
  "$BUILD/tests/ct_storm" "$REL_EXECS" 2 & local storm=$!
  wait "$storm" || fail "ct_storm failed"
  touch "$T/stop"; wait "$poller"

  wait_drained || fail "collector did not drain: seen=$(st seen_file) records=$(st file_records) dropped=$(st dropped_file)"
  local seen dropped recs misses folded shared made
  seen=$(st seen_file); dropped=$(st dropped_file); recs=$(st file_records)
  misses=$(st probe_recursion_misses)
  # an open folded into a burst in the kernel (file_burst_opens) stands
  # for its open and close records; a close(2) while another reference
  # to the file exists (file_close_shared: a dup'd fd, or a passing
  # reader of /proc/PID/fd) makes no record, the collector finds the
  # file closed once it is quiet
  folded=$(st file_burst_opens); shared=$(st file_close_shared)
  made=$(( seen - seen0 + 2 * folded + shared ))
  echo "file records: seen=$((seen - seen0)) folded opens=$folded shared closes=$shared (expected >= $((2 * cycles)) together) dropped=$dropped collector=$recs malformed=$(st file_malformed) probe runs skipped by the kernel=$misses"
  # a probe run the kernel skipped (another BPF program on that CPU) is
  # a record never made: counted in status as probe_recursion_misses.
  # Nothing else may be missing: until the collector told opens apart by
  # their open record's time, it deleted a live open's ct_wfiles entry
  # through a reused struct file address, and that close made no record
  # (5-90 per million cycles, more the more records the ring dropped).
  assert_eq "$(( made + misses ))" "$(( 2 * cycles ))" "FILE records made by the probes (+ folded, + shared closes, + kernel-skipped runs)"
  assert_eq "$((recs + dropped))" "$seen" "every record received or counted as dropped"
  # the collector follows up to 4096 changes at once (user/collector/event_file.c
  # PENDING_MAX): 2000 files in flight are each one change, none reported
  # early to make room (that was 256, and evictions cost most of its time)
  if [ "$REL_FILES" -le 4096 ]; then
    assert_eq "$(st file_pending_evicted)" 0 "changes reported early to make room"
  fi
  assert_eq "$(st file_malformed)" 0 "malformed file records"

  # the agent answered status all along, promptly
  local calls slow failed
  calls=$(wc -l < "$T/status_calls.txt")
  failed=$(awk '$1 != 0' "$T/status_calls.txt" | wc -l)
  slow=$(awk '$2 > 2' "$T/status_calls.txt" | wc -l)
  echo "status calls during the burst: $calls, failed $failed, slower than 2 s: $slow, max $(sort -k2 -n "$T/status_calls.txt" | tail -n1 | cut -d' ' -f2) s"
  assert_ge "$calls" 5 "status calls during the burst"
  assert_eq "$failed" 0 "status calls that failed"
  assert_eq "$slow" 0 "status calls slower than 2 s"

  ct_agent_stop
  # every file is in the store, unless losses were counted and reported
  local files gap_file
  files=$("$CT" query --store "$T/store" --kind file --path "$T/fs/w/*" --json | jq -r '.file.path' | sort -u | wc -l)
  gap_file=$("$CT" query --store "$T/store" --kind gap --json | jq -s '[.[] | select(.gap.lost_kind == "FILE") | .gap.count] | add // 0')
  echo "distinct files stored: $files of $REL_FILES; FILE losses reported in GAP events: $gap_file"
  assert_eq "$gap_file" "$dropped" "FILE records dropped = FILE losses in GAP events"
  if [ "$dropped" -eq 0 ]; then
    assert_eq "$files" "$REL_FILES" "every file written has a FILE event"
  fi

  # every exec of the storm is stored, or its loss counted
  local execs gap_exec
  execs=$("$CT" query --store "$T/store" --kind exec --comm true --json | jq -c "select(.process.ppid == $storm)" | wc -l)
  gap_exec=$("$CT" query --store "$T/store" --kind gap --json | jq -s '[.[] | select(.gap.lost_kind == "EXEC") | .gap.count] | add // 0')
  echo "execs stored: $execs of $REL_EXECS; EXEC losses reported: $gap_exec"
  assert_ge "$(( execs + gap_exec ))" "$REL_EXECS" "execs stored + execs reported lost"
  if [ "$gap_exec" -eq 0 ]; then
    assert_eq "$execs" "$REL_EXECS" "every exec stored"
  fi
  umount "$T/fs"; trap - EXIT
}

# Thousands of files held open together by one process, then closed: every
# change carries its writes, and the agent answers while they are held.
# (The tick asked /proc/PID/fd about each quiet change with a file open, a
# full readlink pass each time: O(files^2) per tick, seconds with 2,000
# files, and a file closed meanwhile was taken as closed at exit, before
# its close record came: reported with 0 writes, 66-89 of 300.)
test_files_held_open_together_keep_their_writes() {
  need_root
  agent_on_tmpfs held
  python3 -c "
import os, resource, time
resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
fds = []
for i in range(2000):
    fds.append(os.open('$T/fs/held/f%d' % i, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    os.write(fds[-1], b'a')
    os.write(fds[-1], b'b')
open('$T/held', 'w').close()
time.sleep(3)
for fd in fds: os.close(fd)" & local holder=$!
  for _ in $(seq 100); do [ -e "$T/held" ] && break; sleep 0.1; done
  status_poller & local poller=$!
  wait "$holder" || fail "the holder failed"
  touch "$T/stop"; wait "$poller"
  wait_drained || fail "collector did not drain"
  assert_eq "$(st dropped_file)" 0 "FILE records dropped"
  local slow
  slow=$(awk '$1 != 0 || $2 > 1' "$T/status_calls.txt" | wc -l)
  echo "status calls while held: $(wc -l < "$T/status_calls.txt"), max $(sort -k2 -n "$T/status_calls.txt" | tail -n1 | cut -d' ' -f2) s"
  assert_eq "$slow" 0 "status calls failed or slower than 1 s while 2,000 files were held"
  ct_agent_stop
  local events
  events=$("$CT" query --store "$T/store" --kind file --path "$T/fs/held/*" --json |
    jq -rs '[length, (map(.file.writes // 0) | add // 0), (map(select((.file.writes // 0) == 0)) | length)] | @tsv')
  echo "events, writes, events with 0 writes: $events"
  assert_eq "$(echo "$events" | cut -f1)" 2000 "one FILE event per file"
  assert_eq "$(echo "$events" | cut -f2)" 4000 "writes carried by the FILE events"
  umount "$T/fs"; trap - EXIT
}

# More files in flight than the collector follows (4096, user/collector/event_file.c
# PENDING_MAX): the oldest changes are reported early to make room (with
# their files still open: their writes so far), and still every file has
# its event (the ring is large enough here that nothing is dropped).
test_more_files_in_flight_than_followed_are_reported_early() {
  need_root
  agent_on_tmpfs many
  # all 5,000 open at once: none can settle (a change with its file open
  # waits for its close, up to 2 s), so past 4,096 one must be reported
  # early. Each is written before the next opens; the closes mostly come
  # while the collector is still on the opens: an early report must take
  # a file the kernel still follows (its write is in), never one whose
  # close record, carrying its write, is still in the ring (it was: 3,207
  # to 4,096 of 5,000 writes were carried).
  python3 -c "
import os, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
fds = []
for i in range(5000):
    fds.append(os.open('$T/fs/many/f%d' % i, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644))
    os.write(fds[-1], b'file %d\\n' % i)
for fd in fds: os.close(fd)"
  wait_drained || fail "collector did not drain"
  assert_eq "$(st dropped_file)" 0 "FILE records dropped (16 MiB change ring)"
  local evicted peak
  evicted=$(st file_pending_evicted) peak=$(st file_pending_peak)
  echo "reported early: $evicted; most followed at once: $peak"
  # either some went early, or (all closing) the table grew past 4,096
  [ "$evicted" -ge 1 ] || [ "$peak" -gt 4096 ] || fail "neither reported early ($evicted) nor kept ($peak)"
  [ "$peak" -le 16384 ] || fail "followed $peak changes at once, past the hard limit"
  assert_eq "$(st file_writes_unreported)" 0 "writes after an early report"
  ct_agent_stop
  local files writes
  files=$("$CT" query --store "$T/store" --kind file --path "$T/fs/many/*" --json | jq -r '.file.path' | sort -u | wc -l)
  writes=$("$CT" query --store "$T/store" --kind file --path "$T/fs/many/*" --json | jq -s 'map(.file.writes // 0) | add // 0')
  assert_eq "$files" 5000 "files with a FILE event"
  assert_eq "$writes" 5000 "writes carried by the FILE events"
  umount "$T/fs"; trap - EXIT
}
