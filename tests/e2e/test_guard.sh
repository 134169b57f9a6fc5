# Guardrails: policy loading and reload. Enforcement tests land
# with the file and network probes.

test_agent_refuses_bad_policy_with_line() {
  need_root
  printf 'protect /x\nrule r: ai and => halt\n' > "$T/bad.policy"
  set +e; out=$("$CT" agent --quiet --socket "$T/b.sock" --policy "$T/bad.policy" 2>&1); rc=$?; set -e
  assert_eq "$rc" 2
  assert_contains "$out" "line 2:"
}

test_sighup_reload_keeps_old_policy_on_error_and_loses_no_event() {
  printf 'protect /x\nrule r: ai and unapproved and protected => halt\n' > "$T/p.policy"
  ct_agent_start --policy "$T/p.policy"
  printf 'rule broken\n' > "$T/p.policy"
  kill -HUP "$AGENT_PID"
  local m; m=$(marker hup)
  for i in $(seq 1 20); do /bin/true "$m-$i"; [ $((i % 5)) -eq 0 ] && kill -HUP "$AGENT_PID"; done
  wait_events "$(exec_with "$m")" 20
  kill -0 "$AGENT_PID" || fail "agent died on a bad policy reload"
  grep -q "keeping the previous policy" "$T/agent.err" || fail "no reload error reported"
  printf 'rule a: drift and protected => alert\nrule b: ai => alert\n' > "$T/p.policy"
  kill -HUP "$AGENT_PID"
  for _ in $(seq 30); do grep -q "policy reloaded: 2 rules" "$T/agent.err" && break; sleep 0.1; done
  grep -q "policy reloaded: 2 rules" "$T/agent.err" || fail "good policy not reloaded"
  ct_agent_stop
}

# --- enforcement on network-policy changes, inside a test netns only
guard_ns_setup() {
  command -v nft >/dev/null || skip "no nft"
  GNS=ct-test-$$-g$RANDOM
  ip netns add "$GNS" || fail "ip netns add"
  echo "$GNS" >> "$T/guard.ns"
}
teardown_file() {
  for n in $(cat "$T/guard.ns" 2>/dev/null); do ip netns del "$n" 2>/dev/null; done
  return 0
}
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
# halted: stopped by a signal (T) or held by the cgroup freezer mid-syscall (D)
halted() { local s; s=$(proc_state "$1"); [ "$s" == T ] || [ "$s" == D ]; }
wait_halted() {
  for _ in $(seq 50); do halted "$1" && return 0; sleep 0.1; done
  fail "deploy process not halted (state $(proc_state "$1"), wchan $(cat /proc/$1/wchan 2>/dev/null))"
}

test_ai_unapproved_change_to_protected_net_object_is_halted() {
  guard_ns_setup
  printf 'protect-net nft:inet/guarded\nrule ai-unapproved: ai and unapproved and protected => halt\n' > "$T/g.policy"
  ct_agent_start --policy "$T/g.policy"
  # the deploy: one protected change, then (a moment later) a second step.
  # The verdict is reached in user space a few ms after the change, so a
  # step started inside that window could still run; see
  # docs/design/guardrails.md, "After the fact".
  "$CT" run --deploy g-ai-1 --ai-tool claude-code -- sh -c \
    "ip netns exec $GNS nft add table inet guarded; sleep 1; touch $T/second-step; sleep 30" &
  local wrapper=$!
  wait_events '.kind=="GUARD" and .guard.deploy_id=="g-ai-1"' 1
  local v; v=$(events '.kind=="GUARD" and .guard.deploy_id=="g-ai-1"')
  assert_eq "$(jq -r .guard.rule <<<"$v")" ai-unapproved
  assert_eq "$(jq -r .guard.action <<<"$v")" HALT
  assert_eq "$(jq -r .guard.enforced <<<"$v")" true
  # the verdict names the change it judged, which is in the stream before it
  local cid; cid=$(jq -r .guard.change_event_id <<<"$v")
  assert_eq "$(count_events ".event_id==\"$cid\" and .kind==\"NET\"")" 1
  # the deploy's shell is stopped (state T) before it reached its next step
  wait_halted $wrapper
  [ ! -e "$T/second-step" ] || fail "the halted deploy went on to its next step"
  kill_tree $wrapper; wait $wrapper 2>/dev/null || true
  ct_agent_stop
}

test_approved_ai_change_is_not_halted() {
  guard_ns_setup
  printf 'protect-net nft:inet/guarded\nrule ai-unapproved: ai and unapproved and protected => halt\n' > "$T/g.policy"
  ct_agent_start --policy "$T/g.policy"
  "$CT" run --deploy g-ok-1 --ai-tool claude-code --approved-by alice -- \
    ip netns exec "$GNS" nft add table inet guarded
  wait_events '.kind=="NET" and .attribution.deploy_id=="g-ok-1"' 1
  sleep 0.5
  assert_eq "$(count_events '.kind=="GUARD"')" 0 "no verdict for an approved change"
  ct_agent_stop
}

test_drift_on_protected_object_is_flagged_and_budget_counts() {
  guard_ns_setup
  printf 'protect-net nft:inet/guarded\nrule drift-protected: drift and protected => alert\nbudget net-radius: net 2 => alert\n' > "$T/g.policy"
  ct_agent_start --policy "$T/g.policy"
  ip netns exec "$GNS" nft add table inet guarded      # drift: no deploy
  wait_events '.kind=="GUARD" and .guard.rule=="drift-protected"' 1
  "$CT" run --deploy g-b-1 --author guard-tests -- sh -c "ip netns exec $GNS nft add table inet t1; ip netns exec $GNS nft add table inet t2; ip netns exec $GNS nft add table inet t3"
  wait_events '.kind=="GUARD" and .guard.rule=="net-radius" and .guard.deploy_id=="g-b-1"' 1
  sleep 0.3
  # 3 distinct objects against a budget of 2: exactly the third is over
  assert_eq "$(count_events '.kind=="GUARD" and .guard.rule=="net-radius"')" 1
  # deploy show sets the footprint against the budgets: the agent's policy...
  local b; b=$("$CT" deploy show g-b-1 --store "$T/store" --json | jq -c '.budgets[] | select(.rule=="net-radius")')
  assert_eq "$b" '{"rule":"net-radius","counts":"net","used":3,"max":2,"action":"ALERT","over":true}'
  ct_agent_stop
  # ... or a policy file, with the agent stopped
  printf 'budget files-radius: files 5 => halt\nbudget net-radius: net 3 => alert\n' > "$T/g2.policy"
  local out; out=$("$CT" deploy show g-b-1 --store "$T/store" --policy "$T/g2.policy")
  grep -E '^  net-radius +net +3 of 3 +ALERT *$' <<<"$out" >/dev/null || fail "net budget line: $out"
  grep -E '^  files-radius +files +0 of 5 +HALT *$' <<<"$out" >/dev/null || fail "files budget line: $out"
  printf 'budget bad: files many => halt\n' > "$T/bad.policy"
  local rc; set +e; out=$("$CT" deploy show g-b-1 --store "$T/store" --policy "$T/bad.policy" 2>&1); rc=$?; set -e
  assert_eq "$rc" 2
  assert_contains "$out" "line 1"
}

# --- enforcement on config writes: a protected path is watched by itself
test_ai_unapproved_write_to_protected_path_halted_then_resumed() {
  local P=$T/protected-$RANDOM
  mkdir -p "$P"
  ct_agent_start --protect "$P"
  "$CT" run --deploy g-file-1 --ai-tool claude-code -- sh -c \
    "echo bad > $P/app.conf; sleep 1; touch $T/file-second-step; sleep 30" &
  local wrapper=$!
  wait_events '.kind=="GUARD" and .guard.deploy_id=="g-file-1"' 1
  local v; v=$(events '.kind=="GUARD" and .guard.deploy_id=="g-file-1"')
  assert_eq "$(jq -r .guard.action <<<"$v")" HALT
  assert_eq "$(jq -r .guard.enforced <<<"$v")" true
  local cid; cid=$(jq -r .guard.change_event_id <<<"$v")
  assert_eq "$(events ".event_id==\"$cid\"" | jq -r .file.path)" "$P/app.conf"
  wait_halted $wrapper
  sleep 1.2
  [ ! -e "$T/file-second-step" ] || fail "the halted deploy went on to its next step"
  # a human decides: resume, and the deploy goes on
  out=$("$CT" deploy resume g-file-1)
  assert_contains "$out" "resumed"
  for _ in $(seq 50); do [ -e "$T/file-second-step" ] && break; sleep 0.1; done
  [ -e "$T/file-second-step" ] || fail "resumed deploy did not continue"
  kill_tree $wrapper; wait $wrapper 2>/dev/null || true
  ct_agent_stop
}

test_halted_deploy_aborted_by_a_human() {
  local P=$T/protected-$RANDOM
  mkdir -p "$P"
  ct_agent_start --protect "$P"
  "$CT" run --deploy g-file-2 --ai-tool claude-code -- sh -c \
    "echo bad > $P/app.conf; sleep 1; touch $T/abort-second-step; sleep 30" &
  local wrapper=$!
  wait_events '.kind=="GUARD" and .guard.deploy_id=="g-file-2"' 1
  wait_halted $wrapper
  out=$("$CT" deploy abort g-file-2)
  assert_contains "$out" "aborted"
  for _ in $(seq 50); do kill -0 $wrapper 2>/dev/null || break; sleep 0.1; done
  kill -0 $wrapper 2>/dev/null && fail "aborted deploy still running"
  [ ! -e "$T/abort-second-step" ] || fail "aborted deploy ran its next step"
  # bad ids and unknown deploys get clear errors
  set +e
  "$CT" deploy resume 'bad id' 2>/dev/null; assert_eq $? 2
  "$CT" deploy resume no-such-deploy 2>/dev/null; assert_eq $? 1
  set -e
  ct_agent_stop
}

test_approved_or_drift_changes_to_protected_path() {
  local P=$T/protected-$RANDOM
  mkdir -p "$P"
  ct_agent_start --protect "$P"
  "$CT" run --deploy g-file-ok --ai-tool claude-code --approved-by alice -- sh -c "echo ok > $P/ok.conf"
  wait_events ".kind==\"FILE\" and .file.path==\"$P/ok.conf\"" 1
  # drift is halted too (--protect): in a child, never this test's shell
  sh -c "echo drift > '$P/drift.conf'; sleep 0.3" &
  local drifter=$!
  wait_events '.kind=="GUARD"' 1
  sleep 0.5
  kill_tree $drifter; wait $drifter 2>/dev/null || true
  assert_eq "$(count_events '.kind=="GUARD" and .guard.deploy_id=="g-file-ok"')" 0 "approved change not flagged"
  assert_eq "$(events '.kind=="GUARD"' | jq -r .guard.change_event_id | head -1)" \
            "$(events ".kind==\"FILE\" and .file.path==\"$P/drift.conf\"" | jq -r .event_id)"
  ct_agent_stop
}

# File names are bytes: three names that differ only in bytes that are not
# UTF-8 are three files to a budget (the outputs show each repaired, the
# same U+FFFD), and the verdict keeps the acting process's raw bytes too.
test_budget_counts_files_by_their_bytes() {
  mkdir -p "$T/bytes"
  printf 'budget files-radius: files 2 => alert\n' > "$T/bytes.policy"
  ct_agent_start --policy "$T/bytes.policy" --watch "$T/bytes"
  "$CT" run --deploy g-bytes-1 --author guard-tests -- \
    sh -c 'for b in 375 376 377; do : > "$1/b-$(printf "\\$b")"; done' _ "$T/bytes"
  wait_events '.kind=="FILE" and .attribution.deploy_id=="g-bytes-1"' 3
  wait_events '.kind=="GUARD" and .guard.rule=="files-radius"' 1
  sleep 0.3
  assert_eq "$(count_events '.kind=="GUARD" and .guard.rule=="files-radius"')" 1 "the third file is over the budget"
  assert_eq "$(events '.kind=="FILE" and .attribution.deploy_id=="g-bytes-1"' | jq -r .file.path | sort -u | wc -l)" 1 \
    "the outputs show one repaired name"
  assert_contains "$(events '.kind=="GUARD" and .guard.rule=="files-radius"' | jq -r .guard.reason)" "changed 3 files"
  ct_agent_stop
  # deploy show counts them from the store the same way
  local j; j=$("$CT" deploy show g-bytes-1 --store "$T/store" --policy "$T/bytes.policy" --json)
  assert_eq "$(jq -c '.budgets[] | select(.rule=="files-radius") | [.used, .over]' <<<"$j")" '[3,true]' "deploy show's budget"
  assert_eq "$(jq '.footprint.files.paths' <<<"$j")" 3 "distinct paths"
}
