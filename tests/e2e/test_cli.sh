# CLI input validation and agent lifecycle.

expect_fail() { # expect_fail CODE MESSAGE-SUBSTRING -- cmd...
  local code=$1 msg=$2 out rc; shift 3
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, want $code: $out"
  assert_contains "$out" "$msg"
}

test_unknown_command() { expect_fail 2 "unknown command" -- "$CT" frobnicate; }
test_unknown_flag() { expect_fail 2 "unrecognized option" -- "$CT" run --bogus --deploy x -- true; }
test_run_missing_command() { expect_fail 2 "missing command" -- "$CT" run --deploy x --; }
test_run_missing_deploy() { expect_fail 2 "--deploy ID is required" -- "$CT" run -- true; }
test_run_empty_deploy() { expect_fail 2 "deploy id is empty" -- "$CT" run --deploy "" -- true; }
test_run_overlong_deploy() { expect_fail 2 "longer than 63" -- "$CT" run --deploy "$(printf 'a%.0s' {1..64})" -- true; }
test_run_bad_deploy_chars() { expect_fail 2 "may only contain" -- "$CT" run --deploy 'a b' -- true; }
test_run_overlong_author() { expect_fail 2 "author is longer" -- "$CT" run --deploy ok --author "$(printf 'a%.0s' {1..300})" -- true; }
test_run_without_agent() {
  expect_fail 1 "agent is not running" -- "$CT" run --socket "$T/none.sock" --deploy x -- true
}
test_run_without_agent_allowed() {
  out=$("$CT" run --socket "$T/none.sock" --allow-untraced --deploy x -- echo hi 2>/dev/null)
  assert_eq "$out" hi
}
test_status_without_agent() { expect_fail 1 "not running" -- "$CT" status --socket "$T/none.sock"; }
test_agent_unexpected_arg() { expect_fail 2 "unexpected argument" -- "$CT" agent extra; }
test_agent_not_root() {
  need_root
  command -v setpriv >/dev/null || skip "no setpriv"
  expect_fail 1 "must run as root" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$CT" agent --socket "$T/x.sock"
}

test_agent_lifecycle_and_non_root_refused() {
  ct_agent_start
  # a second agent on the same socket is refused, the first keeps running
  expect_fail 1 "already listening" -- "$CT" agent --socket "$CHANGETRACE_SOCKET"
  "$CT" status >/dev/null
  # a non-root caller may read status but not tag itself
  command -v setpriv >/dev/null || skip "no setpriv"
  setpriv --reuid=65534 --regid=65534 --clear-groups "$CT" status >/dev/null || fail "non-root status"
  expect_fail 1 "permission denied" -- setpriv --reuid=65534 --regid=65534 --clear-groups "$CT" run --deploy nr-1 -- true
  # clean shutdown on SIGTERM: exit 0, a 'stopped' event, socket removed
  ct_agent_stop || fail "agent exit code $?"
  [ "$(jq -r 'select(.kind=="AGENT") | .agent.state' "$T/events.jsonl" | tail -n1)" == stopped ] || fail "no stopped event"
  [ ! -e "$CHANGETRACE_SOCKET" ] || fail "socket left behind"
}

test_agent_sigint_stops() {
  need_root
  "$CT" agent --quiet --socket "$T/int.sock" --store "$T/int-store" --pin-dir "$CT_PIN_DIR-int" 2>/dev/null &
  local pid=$!
  ct_track_pid $pid
  for _ in $(seq 50); do "$CT" status --socket "$T/int.sock" >/dev/null 2>&1 && break; sleep 0.1; done
  kill -INT $pid
  wait $pid || fail "exit code $? on SIGINT"
}

test_policy_check_valid_and_invalid() {
  printf 'protect /etc/payments\nrule ai: ai and unapproved and protected => halt\n' > "$T/good.policy"
  out=$("$CT" policy check "$T/good.policy")
  assert_contains "$out" "valid: 1 rules, 1 protected paths"
  printf 'protect /etc/payments\n\nrule bad: ai =>\n' > "$T/bad.policy"
  expect_fail 1 "line 3:" -- "$CT" policy check "$T/bad.policy"
  expect_fail 1 "No such file" -- "$CT" policy check "$T/missing.policy"
  expect_fail 2 "usage" -- "$CT" policy frob
}

# --config FILE: options one per line; command-line flags come after and add up
test_agent_config_file() {
  local W1=$T/conf-w1 W2=$T/conf-w2
  mkdir -p "$W1" "$W2" "$T/conf-unlisted"
  printf '# changetrace agent configuration\nwatch-only\nwatch %s   # the app config\n\nhash-max 16\n' "$W1" > "$T/agent.conf"
  ct_agent_start --config "$T/agent.conf" --watch "$W2"
  "$CT" status | grep -q 'file_watch_paths=2 ' || fail "watches from file + flag: $("$CT" status | grep -o 'file_watch_paths=[0-9]*')"
  echo a > "$W1/a.conf"; echo b > "$W2/b.conf"; echo c > "$T/conf-unlisted/c.conf"
  wait_events '.kind=="FILE" and .file.path=="'"$W1/a.conf"'"' 1
  wait_events '.kind=="FILE" and .file.path=="'"$W2/b.conf"'"' 1
  assert_eq "$(count_events '.kind=="FILE" and (.file.path | contains("/conf-unlisted/"))')" 0
  ct_agent_stop
  # malformed files are refused with the line, before anything is loaded
  local out rc
  printf 'json\nwatch\n' > "$T/bad1.conf"
  set +e; out=$("$CT" agent --config "$T/bad1.conf" 2>&1); rc=$?; set -e
  assert_eq "$rc" 2; assert_contains "$out" "bad1.conf:2: 'watch' needs a value"
  printf 'json\nbogus 1\n' > "$T/bad2.conf"
  set +e; out=$("$CT" agent --config "$T/bad2.conf" 2>&1); rc=$?; set -e
  assert_eq "$rc" 2; assert_contains "$out" "bad2.conf:2: unknown option 'bogus'"
  head -c 4096 /dev/urandom > "$T/bad3.conf"
  set +e; "$CT" agent --config "$T/bad3.conf" >/dev/null 2>&1; rc=$?; set -e
  assert_eq "$rc" 2
}
