# Hostile bytes: invalid UTF-8 and terminal escape sequences in argv and
# file names, against every output (the agent's JSON lines, query and
# feed JSON, the text of query, timeline and feed, OTLP) and a strict
# OTLP backend. The agent and the receiver (tests/progs/otlp_receiver.py,
# strict UTF-8) run in a network namespace this file creates.
RECV=$PWD/tests/progs/otlp_receiver.py
PORT=4330  # test 1; the next test uses 4331 (a dying agent may still export)

setup_file() {
  need_root || return 1
  local ns=ct-hostile-$$
  ip netns add "$ns" || return 1
  echo "$ns" > "$T/ns"
  ip -n "$ns" link set lo up
}

teardown_file() {
  [ -s "$T/ns" ] && ip netns del "$(cat "$T/ns")" 2>/dev/null
  return 0
}

NSNET=--net=/run/netns/
counter() { "$CT" status --json | jq ".status.counters[] | select(.name==\"$1\") | .value // 0"; }

recv_start() { # NAME [receiver args]
  local name=$1; shift
  nsenter "$NSNET$(cat "$T/ns")" python3 "$RECV" --port "$PORT" --out "$T/$name.recs" \
    --requests "$T/$name.reqs" "$@" > "$T/$name.recv.log" 2>&1 &
  echo $! > "$T/$name.recv.pid"
  trap "recv_stop $name" EXIT
  touch "$T/$name.recs" "$T/$name.reqs"
  for _ in $(seq 50); do grep -q listening "$T/$name.recv.log" && return 0; sleep 0.1; done
  cat "$T/$name.recv.log" >&2
  fail "receiver did not start"
}
recv_stop() { local p; p=$(cat "$T/$1.recv.pid" 2>/dev/null) || return 0; kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; }

agent_start() { # STORE [args]: JSON lines to $T/events.jsonl, OTLP to the receiver
  local store=$1; shift
  nsenter "$NSNET$(cat "$T/ns")" "$CT" agent --json --store "$store" --pin-dir "$CT_PIN_DIR" \
    --otlp-endpoint "http://127.0.0.1:$PORT" "$@" > "$T/events.jsonl" 2> "$T/agent.err" &
  AGENT_PID=$!
  ct_track_pid "$AGENT_PID"
  for _ in $(seq 100); do
    "$CT" status >/dev/null 2>&1 && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || { cat "$T/agent.err" >&2; return 1; }
    sleep 0.1
  done
  fail "agent did not come up"
}

# strict_json FILE: every line is JSON in strict UTF-8; prints the count
strict_json() {
  python3 - "$1" <<'EOF'
import json, sys
n = 0
for i, line in enumerate(open(sys.argv[1], "rb").read().splitlines()):
    try:
        json.loads(line.decode("utf-8", errors="strict"))
    except Exception as e:
        sys.exit("line %d is not strict UTF-8 JSON: %r: %r" % (i + 1, e, line[:200]))
    n += 1
print(n)
EOF
}

# no_terminal_controls FILE: strict UTF-8, and no byte or character a
# terminal acts on (ESC, BEL, C1) but the line ends
no_terminal_controls() {
  python3 - "$1" <<'EOF'
import sys
t = open(sys.argv[1], "rb").read().decode("utf-8", errors="strict")
bad = [c for c in t if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
if bad:
    sys.exit("raw controls in %s: %r" % (sys.argv[1], sorted(set(bad))))
EOF
}

b64() { printf '%s' "$1" | base64 -w0; }

test_hostile_bytes_leave_every_output_valid_and_escaped() {
  local W=$T/w m; m=$(marker hostile)
  mkdir -p "$W"
  recv_start a
  agent_start "$T/store-a" --watch "$W"
  "$CT" feed --json > "$T/feed.jsonl" 2> "$T/feed.err" &
  local fj=$!
  "$CT" feed > "$T/feed.txt" 2>> "$T/feed.err" &
  local ft=$!
  sleep 0.3
  local bad=$'\xff' esc=$'\e]0;pwned\a\e[2J\e[31m' c1=$'\xc2\x9b31m'
  /bin/echo "$bad" "$m-a" > /dev/null
  /bin/echo "$esc" "$c1" "$m-b" > /dev/null
  echo one > "$W/bad-"$'\xfe\xff'"-$m"
  echo two > "$W/esc-"$'\e[2J'"-$m"
  wait_events ".kind==\"FILE\" and (.file.path | contains(\"esc-\"))" 1 10
  wait_events ".kind==\"FILE\" and (.file.path | contains(\"bad-\"))" 1 10
  wait_events "$(exec_with "$m-b" echo)" 1 10
  sleep 0.5
  kill "$fj" "$ft" 2>/dev/null; wait "$fj" "$ft" 2>/dev/null || true
  # the agent's own JSON lines, query --json and feed --json: strict
  echo "agent lines: $(strict_json "$T/events.jsonl")"
  "$CT" query --json --store "$T/store-a" > "$T/query.jsonl"
  echo "query lines: $(strict_json "$T/query.jsonl")"
  echo "feed lines: $(strict_json "$T/feed.jsonl")"
  # the raw bytes are kept, reversibly: base64 of what the user gave
  local e; e=$(events "$(exec_with "$m-a" echo)")
  assert_eq "$(jq -r '.process.argv[1]' <<<"$e")" $'\xef\xbf\xbd' "argv shows U+FFFD"
  assert_eq "$(jq -r '.raw_strings[] | select(.field=="process.argv[1]") | .value' <<<"$e")" "$(b64 "$bad")" "raw argv"
  e=$(events ".kind==\"FILE\" and (.file.path | contains(\"bad-\"))" | head -n1)
  assert_eq "$(jq -r '.raw_strings[] | select(.field=="file.path") | .value' <<<"$e" | base64 -d)" \
    "$W/bad-"$'\xfe\xff'"-$m" "raw file path"
  # the escape sequences are data in JSON, escaped (\u001b) not raw
  e=$(events "$(exec_with "$m-b" echo)")
  assert_eq "$(jq -r '.process.argv[1]' <<<"$e")" "$esc" "ESC argv kept as a JSON escape"
  grep -q $'\e' "$T/events.jsonl" && fail "raw ESC in the agent's JSON lines"
  # text: query, timeline, feed carry no raw control
  "$CT" query --store "$T/store-a" > "$T/query.txt"
  "$CT" timeline --store "$T/store-a" > "$T/timeline.txt"
  for f in query.txt timeline.txt feed.txt; do
    no_terminal_controls "$T/$f" || fail "$f"
  done
  grep -F "$m-b" "$T/query.txt" | grep -qF '\x1b]0;pwned\x07' || fail "query text does not show the escape escaped"
  grep -F "$m-a" "$T/query.txt" | grep -qF '\xff' || fail "query text does not show the bad byte"
  assert_ge "$(counter events_utf8_repaired)" 3
  # OTLP: the strict receiver took every stored event, none refused
  local last; last=$(jq -s 'map(.seq) | max' "$T/query.jsonl")
  for _ in $(seq 100); do
    [ "$(jq -s "map(.attrs[\"changetrace.seq\"]) | max // 0" "$T/a.recs")" -ge "$last" ] && break
    sleep 0.1
  done
  assert_eq "$(jq -s '[.[] | select(.status != 200)] | length' "$T/a.reqs")" 0 "requests refused"
  assert_eq "$(jq -s "[.[] | .attrs[\"changetrace.seq\"] | select(. <= $last)] | unique | length" "$T/a.recs")" \
    "$(jq -s "[.[] | select(.seq <= $last) | .seq] | unique | length" "$T/query.jsonl")" "every event exported"
  local r; r=$(jq -c "select(.event_name==\"changetrace.exec\" and .attrs[\"process.executable.name\"]==\"echo\" and ((.attrs[\"process.command_line\"] // \"\") | contains(\"$m-b\")))" "$T/a.recs")
  no_terminal_controls <(jq -r .body <<<"$r") || fail "OTLP body"
  assert_contains "$(jq -r .body <<<"$r")" '\x1b]0;pwned'
  r=$(jq -c "select(.event_name==\"changetrace.exec\" and .attrs[\"process.executable.name\"]==\"echo\" and ((.attrs[\"process.command_line\"] // \"\") | contains(\"$m-a\")))" "$T/a.recs")
  assert_eq "$(jq -r '.attrs["changetrace.raw.process.argv[1]"].bytes' <<<"$r")" "$(b64 "$bad")" "OTLP raw bytes"
  ct_agent_stop
}

# A strict backend that refuses one record (400) does not cost the others:
# the batch is split until that record is alone; it is counted and named.
test_otlp_refused_record_is_isolated_and_the_rest_delivered() {
  local m; m=$(marker poison)
  PORT=4331
  # the poison text is only ever in /bin/true's argv (the checks below
  # build it in jq), so exactly one record, its exec, is refused
  recv_start b --reject-body "$m-POISON"
  agent_start "$T/store-b"
  for i in $(seq 1 20); do
    /bin/true "$m-$i"
    [ "$i" = 10 ] && /bin/true "$m-POISON"
  done
  for _ in $(seq 100); do
    [ "$(counter otlp_refused)" -ge 1 ] && [ "$(grep -c "$m-20" "$T/b.recs")" -ge 1 ] && break
    sleep 0.1
  done
  local seq; seq=$("$CT" query --json --store "$T/store-b" --kind exec |
    jq -s --arg m "$m" '[.[] | select((.process.argv // []) | any(. == $m + "-POISON")) | .seq][0]')
  for i in $(seq 1 20); do
    grep -q "\"$m-$i\"" "$T/b.recs" || fail "record $i lost with the poison one"
  done
  assert_eq "$(jq -s --arg m "$m" '[.[] | select(.event_name == "changetrace.exec" and
    (.attrs["process.command_line"] // "" | contains($m + "-POISON")))] | length' "$T/b.recs")" 0 "the refused record"
  assert_eq "$(counter otlp_refused)" 1 "one record refused"
  assert_eq "$(counter otlp_last_refused_seq)" "$seq" "refused seq reported"
  assert_eq "$(counter otlp_failed)" 0
  grep -q "refused the event with seq $seq " "$T/agent.err" || fail "seq $seq not in the agent's log"
  jq -c . "$T/b.reqs" | head -n 20
  ct_agent_stop
}
