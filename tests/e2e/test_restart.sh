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
in_log() { jq -c "select($2)" "$T/$1.jsonl" 2>/dev/null; }
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
