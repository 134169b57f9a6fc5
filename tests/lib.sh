# Helpers for end-to-end tests (sourced by tests/run.sh).
# Each test file gets a private temp dir $T, a private control socket, and
# its own agent started by ct_agent_start. Every helper stops only the
# processes it started, by pid.

ct_file_init() {
  T=$(mktemp -d /tmp/ct-test.XXXXXX)
  chmod 755 "$T"   # non-root test callers must reach the socket
  export T
  export CHANGETRACE_SOCKET=$T/ctl.sock
  CT_PIN_DIR=${T##*/}
  export CT_PIN_DIR=/sys/fs/bpf/${CT_PIN_DIR//./_}   # bpffs names may not contain '.' 
  AGENT_PID=
}

# Agents started by a test are recorded in $T/agent.pids, so one that a
# failing test left behind is still stopped (by pid) when the test ends.
ct_reap_agents() {
  [ -f "$T/agent.pids" ] || return 0
  local p
  while read -r p; do
    kill -0 "$p" 2>/dev/null || continue
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done < "$T/agent.pids"
  : > "$T/agent.pids"
}

ct_file_cleanup() {
  ct_agent_stop >/dev/null 2>&1
  ct_reap_agents
  [ -n "${T:-}" ] && rm -rf "$T"
  [ -n "${CT_PIN_DIR:-}" ] && rm -rf "$CT_PIN_DIR" "$CT_PIN_DIR"-* 2>/dev/null
  return 0
}

# Run one test function in a subshell; print ok/FAIL/skip.
ct_run_one() {
  local t=$1 rc
  local keep; keep=$(cat "$T/agent.pids" 2>/dev/null)
  ( set -e; if [ -n "${CT_TRACE:-}" ]; then set -x; fi; "$t" ) > "$T/$t.log" 2>&1
  rc=$?
  # stop agents this test started and left running (not the file's own)
  if [ -f "$T/agent.pids" ]; then
    local p
    for p in $(cat "$T/agent.pids"); do
      grep -qx "$p" <<<"$keep" && continue
      kill -TERM "$p" 2>/dev/null
    done
  fi
  if [ $rc -eq 0 ]; then
    echo "ok $t"
  elif [ $rc -eq 77 ]; then
    echo "skip $t: $(tail -n1 "$T/$t.log")"
  else
    echo "FAIL $t: $(tail -n1 "$T/$t.log")"
    sed 's/^/    | /' "$T/$t.log" | tail -n 25
  fi
}

fail() { echo "$*" >&2; exit 1; }
skip() { echo "$*" >&2; exit 77; }
need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root"; }

assert_eq() { [ "$1" == "$2" ] || fail "${3:-assert_eq}: expected '$2', got '$1'"; }
assert_ge() { [ "$1" -ge "$2" ] || fail "${3:-assert_ge}: expected >= $2, got $1"; }
assert_contains() { grep -qF -- "$2" <<<"$1" || fail "${3:-assert_contains}: '$2' not in: $1"; }

# ct_agent_start [agent args...]: JSON events to $T/events.jsonl. The agent
# gets a private store ($T/store) and pin dir, so tests never share state
# with each other or with a production agent on the same host.
ct_agent_start() {
  need_root
  "$CT" agent --json --store "$T/store" --pin-dir "$CT_PIN_DIR" "$@" > "$T/events.jsonl" 2> "$T/agent.err" &
  AGENT_PID=$!
  echo "$AGENT_PID" >> "$T/agent.pids"
  for _ in $(seq 1 100); do
    "$CT" status >/dev/null 2>&1 && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || { cat "$T/agent.err" >&2; return 1; }
    sleep 0.1
  done
  echo "agent did not come up" >&2
  return 1
}

# ct_track_pid PID: record an agent a test started by hand
ct_track_pid() { echo "$1" >> "$T/agent.pids"; }

ct_agent_stop() {
  [ -n "${AGENT_PID:-}" ] || return 0
  kill -CONT "$AGENT_PID" 2>/dev/null   # a test may have frozen it
  kill -TERM "$AGENT_PID" 2>/dev/null
  wait "$AGENT_PID" 2>/dev/null
  local rc=$?
  AGENT_PID=
  return $rc
}

# events FILTER: JSON events matching a jq boolean expression
events() { jq -c "select($1)" "$T/events.jsonl" 2>/dev/null; }
count_events() { events "$1" | wc -l; }

# wait_events FILTER N [TIMEOUT_S]: wait until at least N events match
wait_events() {
  local filter=$1 n=$2 deadline=$(( $(date +%s) + ${3:-10} ))
  while [ "$(count_events "$filter")" -lt "$n" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "timeout waiting for $n events matching: $filter (have $(count_events "$filter"))"
    sleep 0.1
  done
}

# A unique marker for this test's processes.
marker() { echo "m$$-$RANDOM-$1"; }

# jq filter: exec event whose argv contains the string $1
# (jq itself is excluded: its own argv carries the marker)
# exec_with MARK [COMM]: exec events whose argv contains MARK (and comm is COMM)
exec_with() {
  local f=".kind==\"EXEC\" and .process.comm!=\"jq\" and ((.process.argv // []) | any(contains(\"$1\")))"
  [ -n "${2:-}" ] && f="$f and .process.comm==\"$2\""
  echo "$f"
}

# kill_tree PID: SIGKILL a process this test started and all its
# descendants (also stopped ones: a halted deploy), children first found.
kill_tree() {
  local p=$1 c
  for c in $(pgrep -P "$p" 2>/dev/null); do kill_tree "$c"; done
  kill -KILL "$p" 2>/dev/null || true
}
