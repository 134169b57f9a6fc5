# The control socket under hostile local users: nobody can keep root, the
# agent's group or other users out. One agent for the file (private
# socket, store and pin dir); the hostile clients run as nobody.
P=$BUILD/tests
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

setup_file() {
  need_root || return 1
  ct_agent_start
}
teardown_file() { ct_agent_stop; }

counter() { "$CT" status --json | jq ".status.counters[] | select(.name==\"$1\") | .value // 0"; }

# hostile.py SOCKET SECONDS N: N connections at a time (until SIGTERM or
# SECONDS), by turns idle,
# slowloris (a valid frame, one byte every 0.3 s), pipelined status
# requests never read, and half frames; each reopened as soon as the
# agent closes it. Prints how many connections it opened.
write_hostile() {
  cat > "$T/hostile.py" <<'EOF'
import signal, socket, struct, sys, time
path, seconds, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
status = struct.pack(">I", 2) + b"\x12\x00"          # Request{status{}}
frame = struct.pack(">I", 40) + b"\x52\x26" + b"x" * 38   # 44 bytes, sent one by one
opened = 0
class Conn:
    def __init__(self, kind):
        self.kind, self.s, self.pos, self.next = kind, None, 0, 0
    def open(self):
        global opened
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.setblocking(False)
        try:
            self.s.connect(path)
        except BlockingIOError:
            pass
        except OSError:
            self.s.close(); self.s = None; return
        opened += 1
        self.pos = 0
        if self.kind == 2:
            try: self.s.send(status * 400)
            except OSError: pass
        if self.kind == 3:
            try: self.s.send(struct.pack(">I", 1000) + b"\x0a")
            except OSError: pass
    def step(self, now):
        if self.s is None:
            self.open(); return
        try:
            d = self.s.recv(65536)
            if d == b"":
                raise ConnectionResetError
            if self.kind == 2:
                self.s.send(status * 50)
        except BlockingIOError:
            pass
        except OSError:
            self.s.close(); self.s = None; return
        if self.kind == 1 and now >= self.next and self.pos < len(frame):
            try: self.s.send(frame[self.pos:self.pos + 1])
            except OSError: pass
            self.pos += 1; self.next = now + 0.3
def stop(*_):
    raise SystemExit
signal.signal(signal.SIGTERM, stop)
conns = [Conn(i % 4) for i in range(n)]
end = time.time() + seconds
try:
    while time.time() < end:
        now = time.time()
        for c in conns:
            c.step(now)
        time.sleep(0.02)
finally:
    print(opened, flush=True)
EOF
}

# ms CMD...: run CMD, print its wall time in ms (its status is kept)
ms() { local t0 t1 rc; t0=$(date +%s%N); "$@" >/dev/null 2>"$T/ms.err"; rc=$?; t1=$(date +%s%N); echo $(( (t1 - t0) / 1000000 )); return $rc; }

test_control_hostile_users_do_not_lock_out_root_or_others() {
  [ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
  write_hostile
  "${NOBODY[@]}" /usr/bin/python3 "$T/hostile.py" "$CHANGETRACE_SOCKET" 60 300 > "$T/hostile.out" &
  local h=$!
  trap "kill $h 2>/dev/null || true" EXIT
  sleep 1.5   # the flood and the slowloris connections are in place
  local worst=0 i t m
  m=$(marker ctl)
  for i in $(seq 1 12); do
    t=$(ms "$CT" status) || fail "root status refused: $(cat "$T/ms.err")"
    [ "$t" -gt "$worst" ] && worst=$t
    t=$(ms "$CT" deploy start --id "ctl-$$-$i" --author root) || fail "root deploy start refused: $(cat "$T/ms.err")"
    [ "$t" -gt "$worst" ] && worst=$t
    # another unprivileged user is not locked out either
    t=$(ms setpriv --reuid=1 --regid=1 --clear-groups "$CT" status) || fail "uid 1 status refused: $(cat "$T/ms.err")"
    [ "$t" -gt "$worst" ] && worst=$t
    sleep 0.3
  done
  # `run` gets through too, traced (never the --allow-untraced fallback)
  "$CT" run --deploy "ctl-$$-1" --allow-untraced -- /bin/true "$m" 2> "$T/run.err" || fail "run: $(cat "$T/run.err")"
  assert_eq "$(grep -c untraced "$T/run.err")" 0 "run fell back to untraced: $(cat "$T/run.err")"
  kill -0 $h || fail "the hostile clients stopped early"
  kill -TERM $h; wait $h || true
  echo "worst $worst ms, hostile connections opened: $(cat "$T/hostile.out")"
  [ "$worst" -lt 1000 ] || fail "a call took $worst ms"
  assert_ge "$(cat "$T/hostile.out")" 300 "hostile connections"
  wait_events "$(exec_with "$m" true) and .attribution.deploy_id==\"ctl-$$-1\" and .attribution.method==\"WRAPPER\"" 1
  assert_ge "$(counter control_busy_refused)" 1 "refusals counted"
  assert_ge "$(counter control_deadline_dropped)" 1 "slowloris dropped"
  kill -0 "$AGENT_PID" || fail "agent died"
}

# Each mechanism on its own: an unprivileged uid holds at most 4
# connections (the 5th is told why and closed at once), and a request
# trickled a byte at a time is cut at its whole-request deadline (2 s),
# not kept alive by every byte.
test_control_per_uid_limit_and_whole_request_deadline() {
  [ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
  cat > "$T/limits.py" <<'EOF2'
import json, socket, struct, sys, time
path = sys.argv[1]
conns = []
t0 = time.time()
for i in range(6):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    conns.append(s)
time.sleep(0.5)
out = {"busy": []}
for s in conns:
    s.settimeout(0.2)
    try:
        d = s.recv(4096)
        out["busy"].append("busy" in d.decode(errors="replace"))
    except socket.timeout:
        out["busy"].append(False)
# a valid 44-byte frame, one byte every 0.3 s (13 s in all) on the first;
# when it is closed, counted from its connect
frame = struct.pack(">I", 40) + b"\x52\x26" + b"x" * 38
s = conns[0]
s.settimeout(0)
closed = None
for b in frame:
    try:
        s.send(bytes([b]))
        if s.recv(4096) == b"":
            closed = time.time() - t0; break
    except BlockingIOError:
        pass
    except OSError:
        closed = time.time() - t0; break
    time.sleep(0.3)
out["closed_after"] = closed
print(json.dumps(out))
EOF2
  local deadline=$(( $(date +%s) + 10 ))
  until [ "$(counter control_clients_public)" -eq 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "connections of an earlier test still open"
    sleep 0.2
  done
  local before; before=$(counter control_busy_refused)
  local r; r=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 "$T/limits.py" "$CHANGETRACE_SOCKET")
  echo "$r"
  assert_eq "$(jq -c .busy <<<"$r")" '[false,false,false,false,true,true]' "the 5th and 6th are refused"
  assert_eq "$(( $(counter control_busy_refused) - before ))" 2 "refusals counted"
  local c; c=$(jq .closed_after <<<"$r")
  [ "$c" != null ] || fail "the trickling connection was never closed"
  python3 -c "import sys; sys.exit(not (1.9 <= $c <= 3.5))" || fail "closed after $c s, want ~2 s"
}

# --allow-untraced is for an agent that cannot be reached: a refusal (here
# permission) is said on stderr and in the exit status, and the command
# does not run untraced as if nothing had happened.
test_control_run_allow_untraced_does_not_override_a_refusal() {
  "$CT" deploy start --id "au-$$" --author root >/dev/null
  mkdir -m 777 "$T/au"
  local out rc
  set +e
  out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CT" run --deploy "au-$$" \
        --allow-untraced -- touch "$T/au/ran" 2>&1); rc=$?
  set -e
  echo "$out"
  assert_eq "$rc" 1 "exit status"
  assert_contains "$out" "permission denied"
  assert_contains "$out" "not running the command"
  [ ! -e "$T/au/ran" ] || fail "the command ran untraced after a refusal"
  # the agent down: that is what the flag is for (warned on stderr)
  out=$("$CT" run --socket "$T/none.sock" --deploy "au-$$" --allow-untraced -- touch "$T/au/ran2" 2>&1)
  assert_contains "$out" "running untraced"
  [ -e "$T/au/ran2" ] || fail "an unreachable agent with --allow-untraced must run the command"
}
