# What an agent restart must not do to the record: lend a dead process's
# deploy to whoever gets its pid, reuse seqs and event ids, leave the time
# it was down or the events it lost unsaid, or fail because the killed
# agent is still exiting. Every test runs its own agents on its own store,
# socket and pin dir under $T, and kills only them.
P=$BUILD/tests

# agent_up NAME [agent args]: store $T/NAME-store, pin dir $CT_PIN_DIR-NAME,
# socket $T/NAME.sock (exported, so the CLI talks to it), events appended
# to $T/NAME.jsonl (every run of NAME), stderr to $T/NAME.err.
agent_up() {
  need_root
  local name=$1; shift
  export CHANGETRACE_SOCKET=$T/$name.sock
  "$CT" agent --json --store "$T/$name-store" --pin-dir "$CT_PIN_DIR-$name" "$@" \
    >> "$T/$name.jsonl" 2>> "$T/$name.err" &
  APID=$!
  ct_track_pid "$APID"
  for _ in $(seq 1 150); do
    "$CT" status >/dev/null 2>&1 && return 0
    kill -0 "$APID" 2>/dev/null || { cat "$T/$name.err" >&2; return 1; }
    sleep 0.1
  done
  fail "agent $name did not come up"
}
agent_down() { kill -TERM "$APID"; wait "$APID" || true; }
agent_kill9() { kill -KILL "$APID"; wait "$APID" 2>/dev/null || true; }

counter() { "$CT" status --json | jq ".status.counters[] | select(.name==\"$1\") | .value // 0"; }
# complete lines only: the agent may be writing the last one
in_log() { head -n "$(wc -l < "$T/$1.jsonl")" "$T/$1.jsonl" | jq -c "select($2)"; }
wait_in_log() { # wait_in_log NAME JQ N [TIMEOUT]
  local deadline=$(( $(date +%s) + ${4:-10} ))
  while [ "$(in_log "$1" "$2" | wc -l)" -lt "$3" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "timeout waiting for $3 events matching $2 in $1"
    sleep 0.1
  done
}

# ------------------------------------------------------------------ pid reuse

# A deploy's process dies while the agent is down and an unprivileged
# user gets its pid: after the restart that user's change is drift, not
# the deploy's (the pinned ct_tasks entry names the dead process by its
# start time, and the pid's new process started later).
test_restart_reused_pid_does_not_inherit_the_deploy() {
  mkdir -m 777 "$T/pr-w"
  mkfifo -m 666 "$T/pr-go"
  agent_up pr --watch "$T/pr-w"
  "$CT" deploy start --id PR-1 --author alice --approved-by bob >/dev/null
  "$CT" run --deploy PR-1 -- sleep 300 &
  local p=$!
  wait_in_log pr ".kind==\"EXEC\" and .process.pid==$p and .attribution.deploy_id==\"PR-1\"" 1
  agent_kill9
  kill -KILL "$p"; wait "$p" 2>/dev/null || true
  # the pid again, now an unprivileged shell waiting to write a watched file
  "$P/ct_pidreuse" "$p" 65534 sh -c "read x < $T/pr-go; echo evil >> $T/pr-w/conf" > "$T/pr-imp" &
  local imp=$!
  local deadline=$(( $(date +%s) + 5 ))
  until [ "$(cat "$T/pr-imp" 2>/dev/null)" == "$p" ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "pid $p not reused: $(cat "$T/pr-imp")"
    sleep 0.05
  done
  assert_eq "$(awk '/^Uid:/ {print $2}' "/proc/$p/status")" 65534 "pid $p is nobody's now"
  agent_up pr --watch "$T/pr-w"
  echo go > "$T/pr-go"
  wait "$imp" || fail "impostor failed"
  wait_in_log pr ".kind==\"FILE\" and .file.path==\"$T/pr-w/conf\"" 1
  local e; e=$(in_log pr ".kind==\"FILE\" and .file.path==\"$T/pr-w/conf\"")
  echo "$e"
  assert_eq "$(jq -r .process.pid <<<"$e")" "$p" "the write came from pid $p"
  assert_eq "$(jq -r .process.uid <<<"$e")" 65534
  assert_eq "$(jq -r '.attribution.deploy_id // ""' <<<"$e")" "" "deploy of the reused pid"
  assert_eq "$(jq -r '.attribution.drift' <<<"$e")" true "drift"
  assert_eq "$(counter task_entries_reused_at_start)" 1 "stale entry dropped at start"
  agent_down
}

# The probes check every entry they use: an entry that names another
# process than the one holding its pid (written here directly, as one left
# by a pid reused before the restart's check) attributes nothing; the same
# entry with the process's own start time does (the check, not the
# forgery, makes the difference).
test_restart_probes_ignore_an_entry_of_another_process() {
  command -v bpftool >/dev/null || skip "no bpftool"
  mkdir -m 777 "$T/pk-w"
  mkfifo -m 666 "$T/pk-go1" "$T/pk-go2"
  agent_up pk --watch "$T/pk-w"
  "$CT" deploy start --id PK-1 --author alice >/dev/null
  local slot; slot=$("$CT" deploy show PK-1 --json | jq -r .slot)
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "read x < $T/pk-go1; echo a >> $T/pk-w/forged" &
  local f=$!
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "read x < $T/pk-go2; echo b >> $T/pk-w/genuine" &
  local g=$!
  sleep 0.3
  # struct ct_task_attr: slot, method, inherited, depth, origin_pid, pad, exec_id, start_ticks
  entry() { # entry PID TICKS
    python3 -c 'import struct, sys
pid, slot, ticks = map(int, sys.argv[1:4])
print(" ".join(str(b) for b in struct.pack("<IBBHIIQQ", slot, 1, 0, 0, pid, 0, 0, ticks)))' "$1" "$slot" "$2"
  }
  key() { python3 -c 'import struct, sys; print(" ".join(str(b) for b in struct.pack("<I", int(sys.argv[1]))))' "$1"; }
  local tf tg
  tf=$(awk '{print $22}' "/proc/$f/stat"); tg=$(awk '{print $22}' "/proc/$g/stat")
  bpftool map update pinned "$CT_PIN_DIR-pk/ct_tasks" key $(key "$f") value $(entry "$f" $((tf - 1)))
  bpftool map update pinned "$CT_PIN_DIR-pk/ct_tasks" key $(key "$g") value $(entry "$g" "$tg")
  echo go > "$T/pk-go1"; echo go > "$T/pk-go2"
  wait "$f" "$g"
  wait_in_log pk ".kind==\"FILE\" and (.file.path | endswith(\"/forged\") or endswith(\"/genuine\"))" 2
  assert_eq "$(in_log pk ".kind==\"FILE\" and .file.path==\"$T/pk-w/genuine\"" | jq -r .attribution.deploy_id)" PK-1 "entry with the process's start time"
  assert_eq "$(in_log pk ".kind==\"FILE\" and .file.path==\"$T/pk-w/forged\"" | jq -r '.attribution.drift')" true "entry of another process"
  assert_ge "$(counter task_identity_mismatch)" 1 "mismatch counted"
  agent_down
}

# ------------------------------------------------------------------ unclean stops

q() { "$CT" query --store "$T/$1-store" --json; }

# SIGKILL right after a deploy start, whose event is then only in the
# agent's open block; the next agent records the stop as a GAP
# (AGENT_DOWN, window, the seqs that never reached the store), emits the
# lost deploy start again (recovered), and reuses no seq or event id the
# killed agent handed out.
test_restart_sigkill_gap_recovered_deploy_and_no_reused_ids() {
  local m; m=$(marker ks)
  agent_up ks
  /bin/true "$m-before"
  wait_in_log ks "$(exec_with "$m-before" true)" 1
  sleep 1.2   # some blocks are on disk
  "$CT" deploy start --id KS-1 --author alice --approved-by bob >/dev/null
  local old=$APID
  kill -KILL "$old"
  local t_kill; t_kill=$(date +%s%N)
  wait "$old" 2>/dev/null || true
  # Under load a block can fill and be sealed within the milliseconds
  # before the kill lands: then cut the segment back to the block before
  # the start's, which is what a kill during that block's write leaves.
  local dseq; dseq=$(in_log ks '.kind=="DEPLOY" and .deploy.deploy.id=="KS-1"' | jq -r .seq)
  [ -n "$dseq" ] || fail "the killed agent never printed the deploy start"
  if q ks | jq -c 'select(.kind=="DEPLOY" and .deploy.deploy.id=="KS-1")' | grep -q .; then
    echo "the start was sealed before the kill: tearing its block"
    python3 - "$(ls "$T"/ks-store/seg-*.cts | tail -n1)" "$dseq" <<'PY'
import struct, sys
path, seq = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
off = 0
while off + 360 <= len(data):
    first, last = struct.unpack_from("<QQ", data, off + 8)
    comp, = struct.unpack_from("<I", data, off + 48)
    if last >= seq:
        open(path, "r+b").truncate(off + 100)   # a torn write of that block
        sys.exit(0)
    off += 360 + comp
sys.exit("no block holds seq %d" % seq)
PY
  fi
  q ks | jq -c 'select(.kind=="DEPLOY" and .deploy.deploy.id=="KS-1")' | grep -q . && fail "the start is still stored"
  agent_up ks
  local lost=1
  agent_down
  q ks > "$T/ks.q"
  # ids: what the killed agent printed and the store never got is not
  # reused for another event; every id is one event
  python3 - "$T/ks.jsonl" "$T/ks.q" <<'PY' || fail "an event id names two events"
import json, sys
seen = {}
for path in sys.argv[1:]:
    for line in open(path):
        e = json.loads(line)
        k = e["event_id"]
        if k in seen and seen[k] != e:
            print("reused:", k, seen[k]["kind"], e["kind"]); sys.exit(1)
        seen[k] = e
PY
  assert_eq "$(jq -r .seq "$T/ks.q" | sort -n | uniq -d | wc -l)" 0 "duplicate seqs in the store"
  # the stop is a GAP with the window and the seqs that never made it
  local g; g=$(jq -c "select(.kind==\"GAP\" and .gap.path==\"AGENT_DOWN\" and .gap.agent_pid==$old)" "$T/ks.q")
  echo "$g"
  [ -n "$g" ] || fail "no AGENT_DOWN gap for pid $old"
  python3 - "$g" "$t_kill" <<'PY' || fail "gap window does not cover the kill"
import json, sys
g, t = json.loads(sys.argv[1])["gap"], int(sys.argv[2])
assert int(g["first_time_unix_nano"]) <= t <= int(g["last_time_unix_nano"]), g
assert int(g["first_seq"]) <= int(g["last_seq"]), g
PY
  # the lost start is in the store, flagged, with the registry's provenance
  local d; d=$(jq -c "select(.kind==\"DEPLOY\" and .deploy.deploy.id==\"KS-$lost\")" "$T/ks.q")
  assert_eq "$(jq -s length <<<"$d")" 1 "KS-$lost start events stored"
  assert_eq "$(jq -r .recovered <<<"$d")" true
  assert_eq "$(jq -r .deploy.action <<<"$d")" START
  assert_eq "$(jq -r .deploy.deploy.author <<<"$d")" alice
  assert_eq "$(jq -r "select(.kind==\"AGENT\" and .agent.state==\"started\" and .agent.previous_stop_unclean) | .agent.previous_pid" "$T/ks.q" | tail -n1)" "$old" "previous pid"
  "$CT" verify --store "$T/ks-store" | grep -q "chain intact"
}

# An agent started right after the previous one was killed, while that
# one is still exiting (its socket and store lock are released late in
# its exit), waits for it and comes up, instead of failing with "another
# agent is already listening". A live agent is still refused.
test_restart_right_after_sigkill_waits_for_the_dying_agent() {
  agent_up tk
  local old=$APID
  kill -KILL "$old"
  if python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' "$CHANGETRACE_SOCKET" 2>/dev/null; then
    echo "the killed agent's socket still accepted a connection"
  fi
  agent_up tk
  grep -q "is exiting; waiting for it" "$T/tk.err" && echo "waited for pid $old"
  wait "$old" 2>/dev/null || true
  # a live agent on the same store (another socket) is refused
  local out rc
  set +e
  out=$(timeout 20 "$CT" agent --store "$T/tk-store" --pin-dir "$CT_PIN_DIR-tk2" --socket "$T/tk2.sock" 2>&1); rc=$?
  set -e
  assert_eq "$rc" 1 "second agent on a live store"
  assert_contains "$out" "in use by another agent (pid $APID)"
  rm -rf "$CT_PIN_DIR-tk2"
  agent_down
}

# A clean stop is not a gap, and the next start says when it was.
test_restart_clean_stop_is_not_a_gap() {
  agent_up cs
  agent_down
  local stopped; stopped=$(awk '/^stopped_ns/ {print $2}' "$T/cs-store/agent.state")
  [ "$stopped" -gt 0 ] || fail "no clean stop recorded"
  agent_up cs
  agent_down
  assert_eq "$(q cs | jq -c 'select(.kind=="GAP")' | wc -l)" 0 "gaps after a clean stop"
  # (64-bit nanoseconds: grep, not jq, which reads numbers as doubles)
  assert_eq "$(q cs | grep '"started"' | grep -o '"previous_stop_unix_nano":[0-9]*' | tail -n1 | cut -d: -f2)" "$stopped"
  assert_eq "$(q cs | jq -s '[.[].seq] == [range(1; length + 1)]')" true "seq 1..N without holes"
}

# OTLP records carry the event id as log.record.uid (never reused).

# An agent upgraded from a version whose pinned ct_tasks had no start
# times keeps the entries of processes that started before that agent
# stopped (the store's last event), so running deploys stay attributed,
# and drops the others: a pid reused after the stop inherits nothing.
test_restart_upgrade_from_entries_without_start_times() {
  command -v bpftool >/dev/null || skip "no bpftool"
  mkdir -m 777 "$T/up-w"
  mkfifo -m 666 "$T/up-a" "$T/up-b"
  agent_up up --watch "$T/up-w"
  "$CT" deploy start --id UP-1 --author alice >/dev/null
  local slot; slot=$("$CT" deploy show UP-1 --json | jq -r .slot)
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "read x < $T/up-a; echo a >> $T/up-w/a" &
  local pa=$!
  sleep 0.2
  agent_down
  sleep 0.2
  setpriv --reuid=65534 --regid=65534 --clear-groups sh -c "read x < $T/up-b; echo b >> $T/up-w/b" &
  local pb=$!
  sleep 0.2
  # the map as the older version pinned it: 24-byte values, no start time
  local pin=$CT_PIN_DIR-up/ct_tasks
  rm -f "$pin"
  bpftool map create "$pin" type hash key 4 value 24 entries 131072 name ct_tasks
  old_entry() { python3 -c 'import struct, sys
pid, slot = map(int, sys.argv[1:3])
print(" ".join(str(b) for b in struct.pack("<IBBHIIQ", slot, 1, 0, 0, pid, 0, 0)))' "$1" "$slot"; }
  key() { python3 -c 'import struct, sys; print(" ".join(str(b) for b in struct.pack("<I", int(sys.argv[1]))))' "$1"; }
  bpftool map update pinned "$pin" key $(key "$pa") value $(old_entry "$pa")
  bpftool map update pinned "$pin" key $(key "$pb") value $(old_entry "$pb")
  agent_up up --watch "$T/up-w"
  echo go > "$T/up-a"; echo go > "$T/up-b"
  wait "$pa" "$pb"
  wait_in_log up ".kind==\"FILE\" and (.file.path==\"$T/up-w/a\" or .file.path==\"$T/up-w/b\")" 2
  assert_eq "$(in_log up ".kind==\"FILE\" and .file.path==\"$T/up-w/a\"" | jq -r .attribution.deploy_id)" UP-1 "started before the old agent stopped"
  assert_eq "$(in_log up ".kind==\"FILE\" and .file.path==\"$T/up-w/b\"" | jq -r .attribution.drift)" true "started after it stopped"
  assert_eq "$(counter task_entries_upgraded)" 1
  assert_eq "$(counter task_entries_unverifiable)" 1
  agent_down
}
