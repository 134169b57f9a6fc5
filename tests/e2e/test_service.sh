# The agent as a service: the notify protocol (READY after the probes are
# attached, watchdog keep-alives), the unit's capability bounding set,
# reload on SIGHUP, and an upgrade that keeps running deploys attributed.

setup_file() { REPO=$PWD; export REPO; }

# svc_start NAME [agent args...]: an agent of this test on its own socket,
# store and pin dir, stderr in $T/NAME.err; its pid in SVC_PID
svc_start() {
  local n=$1; shift
  "${SVC_BIN:-$CT}" agent --quiet --socket "$T/$n.sock" --store "$T/$n-store" \
    --pin-dir "$CT_PIN_DIR-$n" "$@" > /dev/null 2>> "$T/$n.err" &
  SVC_PID=$!; ct_track_pid $SVC_PID
}
svc_wait_up() { # NAME
  for _ in $(seq 150); do
    "$CT" status --socket "$T/$1.sock" >/dev/null 2>&1 && return 0
    kill -0 $SVC_PID 2>/dev/null || fail "agent $1 died: $(tail -n 5 "$T/$1.err")"
    sleep 0.1
  done
  fail "agent $1 did not come up"
}
svc_stop() { kill -TERM $SVC_PID; wait $SVC_PID || fail "agent did not stop cleanly"; }
counter() { # NAME SOCKET-NAME
  "$CT" status --json --socket "$T/$2.sock" | jq -r ".status.counters[] | select(.name==\"$1\") | .value // 0"
}

test_notify_ready_only_after_probes_attach_then_watchdog() {
  need_root
  python3 "$REPO/tests/progs/ct_notify_listen.py" "$T/notify.sock" 60 > "$T/notify.out" &
  local lp=$!
  for _ in $(seq 50); do grep -q listening "$T/notify.out" 2>/dev/null && break; sleep 0.1; done
  # as systemd starts it: WATCHDOG_PID is the agent's own pid
  NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 sh -c 'WATCHDOG_PID=$$ exec "$0" "$@"' \
    "$CT" agent --quiet --socket "$T/n.sock" --store "$T/n-store" --pin-dir "$CT_PIN_DIR-n" \
    > /dev/null 2> "$T/n.err" &
  SVC_PID=$!; ct_track_pid $SVC_PID
  # the control socket answers before the probes are loaded: wait for READY
  for _ in $(seq 300); do grep -q 'READY=1' "$T/notify.out" && break; sleep 0.1; done
  grep -q 'READY=1' "$T/notify.out" || fail "no READY=1: $(tail -n 3 "$T/n.err")"
  sleep 3.5
  local attached; attached=$("$CT" status --json --socket "$T/n.sock" | jq '[.status.probes[] | select(.attached)] | length')
  local counted usec; counted=$(counter service_watchdog_pings n); usec=$(counter service_watchdog_usec n)
  svc_stop
  wait $lp || true
  cat "$T/notify.out"
  # READY once, with every attached probe's link already there
  assert_eq "$(grep -c ' READY=1' "$T/notify.out")" 1 "READY=1 messages"
  local links; links=$(sed -n 's/.* READY links=\([0-9]*\)$/\1/p' "$T/notify.out")
  [ "$attached" -gt 0 ] || fail "no probe attached"
  assert_eq "$links" "$attached" "BPF links open when READY=1 was sent"
  grep -q 'STATUS=tracing: ' "$T/notify.out" || fail "no STATUS with READY"
  [ "$counted" -ge 3 ] || fail "status counts $counted keep-alives"
  assert_eq "$usec" 1000000 "watchdog interval seen"
  # nothing before READY; then keep-alives about every half second
  local first; first=$(grep -n 'READY=1' "$T/notify.out" | head -1 | cut -d: -f1)
  head -n "$first" "$T/notify.out" | grep -q WATCHDOG=1 && fail "WATCHDOG=1 before READY=1"
  local pings; pings=$(grep -c 'WATCHDOG=1' "$T/notify.out")
  [ "$pings" -ge 5 ] || fail "only $pings WATCHDOG=1 in 3.5 s with WATCHDOG_USEC=1s"
  # spacing: never more than the interval between two keep-alives
  awk '/WATCHDOG=1/ { if (last && $1 - last > 1.0) { print "gap " $1 - last; bad = 1 } last = $1 } END { exit bad }' \
    "$T/notify.out" || fail "a keep-alive came late"
  grep -q 'STOPPING=1' "$T/notify.out" || fail "no STOPPING=1 on SIGTERM"
  # every message from the agent itself
  [ -z "$(awk '$2 != "'$SVC_PID'" && $2 != "listening" { print }' "$T/notify.out" | grep -v '^listening')" ] ||
    fail "messages from another pid"
}

test_no_notify_socket_means_no_keepalives() {
  need_root
  svc_start q
  svc_wait_up q
  assert_eq "$(counter service_watchdog_usec q)" 0
  assert_eq "$(counter service_watchdog_pings q)" 0
  svc_stop
}

# The unit's CapabilityBoundingSet, applied as systemd would (setpriv), with
# the shipped config: the probes attach, a deploy's write to a file only its
# owner may read is recorded, attributed and digested.
test_agent_works_within_the_units_capabilities() {
  need_root
  command -v setpriv >/dev/null || skip "no setpriv"
  local caps; caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$REPO/dist/changetrace.service.in")
  [ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
  local bset; bset=-all$(for c in $caps; do c=${c#CAP_}; printf ',+%s' "${c,,}"; done)
  mkdir -p "$T/watched"; chmod 755 "$T/watched"
  touch "$T/watched/secret.conf"; chown nobody "$T/watched/secret.conf"; chmod 600 "$T/watched/secret.conf"
  setpriv --bounding-set "$bset" "$CT" agent --config "$REPO/dist/changetrace.conf" --group root \
    --socket "$T/c.sock" --store "$T/c-store" --pin-dir "$CT_PIN_DIR-c" --watch "$T/watched" \
    > /dev/null 2> "$T/c.err" &
  SVC_PID=$!; ct_track_pid $SVC_PID
  svc_wait_up c
  grep -q "CapBnd:.*$(printf '%016x' 0)" /proc/$SVC_PID/status && fail "setpriv did not apply"
  "$CT" status --json --socket "$T/c.sock" | jq -e '[.status.probes[] | select(.attached | not)] | length == 0' >/dev/null ||
    fail "a probe failed to attach: $(grep FAILED "$T/c.err")"
  CHANGETRACE_SOCKET=$T/c.sock "$CT" deploy start --id caps-1 --author alice >/dev/null
  CHANGETRACE_SOCKET=$T/c.sock "$CT" run --deploy caps-1 -- setpriv --reuid nobody --regid nogroup --clear-groups \
    sh -c "echo changed > $T/watched/secret.conf"
  # the shipped config is `quiet`: the change is read back from the store
  local ev
  for _ in $(seq 100); do
    ev=$("$CT" query --store "$T/c-store" --json --kind file --deploy caps-1 --path "$T/watched/secret.conf" | tail -1)
    [ -n "$ev" ] && break; sleep 0.1
  done
  [ -n "$ev" ] || fail "no attributed change in the store; $(tail -n 3 "$T/c.err")"
  # the content was read (CAP_DAC_READ_SEARCH): the digest is the new content's
  assert_eq "$(jq -r '.file.after.sha256 // .file.sha256_after // empty' <<<"$ev")" \
    "$(sha256sum < "$T/watched/secret.conf" | cut -d' ' -f1)" "digest of the owner-only file"
  svc_stop
}

test_sighup_rereads_the_config_file() {
  need_root
  mkdir -p "$T/w1" "$T/w2"
  printf 'watch-only\nwatch %s\n' "$T/w1" > "$T/r.conf"
  svc_start r --config "$T/r.conf"
  svc_wait_up r
  for _ in $(seq 100); do grep -q 'watching 1 paths' "$T/r.err" && break; sleep 0.1; done
  # a config that does not parse changes nothing, and says so
  echo "watch" >> "$T/r.conf"
  kill -HUP $SVC_PID
  for _ in $(seq 50); do grep -q 'config reload failed' "$T/r.err" && break; sleep 0.1; done
  grep -q "config reload failed.*needs a value" "$T/r.err" || fail "bad config not reported: $(tail -n 3 "$T/r.err")"
  assert_eq "$(counter reload_failures r)" 1
  printf 'watch-only\nwatch %s\nwatch %s\n' "$T/w1" "$T/w2" > "$T/r.conf"
  kill -HUP $SVC_PID
  for _ in $(seq 50); do grep -q 'watching 2 paths' "$T/r.err" && break; sleep 0.1; done
  grep -q 'watching 2 paths' "$T/r.err" || fail "watch list not reloaded: $(tail -n 3 "$T/r.err")"
  assert_eq "$(counter reloads r)" 2
  echo new > "$T/w2/app.conf"
  local n=0
  for _ in $(seq 100); do
    n=$("$CT" query --store "$T/r-store" --json --kind file --path "$T/w2/app.conf" | wc -l)
    [ "$n" -ge 1 ] && break; sleep 0.1
  done
  [ "$n" -ge 1 ] || fail "a write under the newly watched path was not recorded"
  svc_stop
}

# Version N (main's HEAD, built apart) stops; this build starts on the same
# pin dir and store. Processes of running deploys, started under version N,
# keep their attribution when they exec afterwards.
test_upgrade_keeps_running_deploys_attributed() {
  need_root
  local rev; rev=$(git -C "$REPO" rev-parse --verify -q main || git -C "$REPO" rev-parse HEAD)
  mkdir -p "$T/vN"
  git -C "$REPO" archive "$rev" | tar -x -C "$T/vN"
  make -s -C "$T/vN" BUILD="$T/vN/build" all > "$T/vN.log" 2>&1 || fail "building $rev: $(tail -n 5 "$T/vN.log")"
  local old=$T/vN/build/changetrace
  cmp -s "$old" "$CT" && fail "version N and this build are the same binary"
  SVC_BIN=$old svc_start u
  svc_wait_up u
  CHANGETRACE_SOCKET=$T/u.sock "$old" deploy start --id up-1 --ai-tool claude-code --author alice >/dev/null
  local m1 m2; m1=$(marker up-run); m2=$(marker up-env)
  mkfifo "$T/f1" "$T/f2"
  CHANGETRACE_SOCKET=$T/u.sock "$old" run --deploy up-1 -- sh -c "read x < $T/f1; sh -c 'true $m1'" &
  local p1=$!
  env CHANGETRACE_DEPLOY_ID=up-env sh -c "read x < $T/f2; sh -c 'true $m2'" &
  local p2=$!
  trap "kill $p1 $p2 2>/dev/null || true" EXIT
  sleep 0.5
  svc_stop
  # the new binary, same socket, store and pin dir
  svc_start u
  svc_wait_up u
  assert_eq "$(readlink /proc/$SVC_PID/exe)" "$(readlink -f "$CT")" "running binary"
  echo go > "$T/f1"; echo go > "$T/f2"; wait $p1 $p2
  local q1 q2
  for _ in $(seq 100); do
    # the inner sh: exec'd after the upgrade
    q1=$("$CT" query --store "$T/u-store" --json --kind exec --deploy up-1 | jq -c "select(.process.argv[2] == \"true $m1\")")
    q2=$("$CT" query --store "$T/u-store" --json --kind exec --deploy up-env | jq -c "select(.process.argv[2] == \"true $m2\")")
    [ -n "$q1" ] && [ -n "$q2" ] && break; sleep 0.1
  done
  [ -n "$q1" ] || fail "the run deploy's process lost its attribution across the upgrade"
  [ -n "$q2" ] || fail "the environment-tagged process lost its attribution across the upgrade"
  assert_eq "$(jq -r .attribution.method <<<"$q1" | head -1)" INHERITED
  assert_eq "$("$CT" deploy show up-1 --json --socket "$T/u.sock" | jq -r .author)" alice
  svc_stop
  # one store, both versions' blocks, chain intact
  "$CT" verify --store "$T/u-store" | grep -q 'chain intact' || fail "store chain broken across the upgrade"
}
