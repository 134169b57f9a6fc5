# Exec rules: a command an exec rule names is stopped or killed in the exec
# probe, before its first instruction. The commands are copies of
# tests/progs/ct_marker (it creates the file named by its last argument as
# the first thing it does): the marker exists if and only if it ran.
#
# The agent's exec probe sees every exec on the host, and "drift" is every
# process this test's agent does not attribute: drift rules here name
# paths under $T only, so they never touch another test's processes.
P=$BUILD/tests
RECV=$PWD/tests/progs/otlp_receiver.py

# xg_bin NAME [DIR]: ct_marker installed as DIR/NAME (default $T/bin)
xg_bin() { local d=${2:-$T/bin}; mkdir -p "$d"; cp "$P/ct_marker" "$d/$1"; }
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
wait_stopped() {
  for _ in $(seq 50); do [ "$(proc_state "$1")" = T ] && return 0; sleep 0.1; done
  fail "pid $1 not stopped (state $(proc_state "$1"))"
}
guard_for() { echo ".kind==\"GUARD\" and .guard.deploy_id==\"$1\""; }
# run_rc CMD...: the exit code, without set -e ending the test
run_rc() { set +e; "$@" >/dev/null 2>&1; echo $?; set -e; }
no_marker() {
  sleep 0.3
  [ -e "$1" ] || return 0
  events '.kind=="GUARD"' >&2
  "$CT" status --json 2>/dev/null | jq -c '.status.counters[] | select(.name | startswith("guard"))' >&2
  fail "${2:-the command} ran: $1 exists"
}

teardown_file() {
  for n in $(cat "$T/xg.ns" 2>/dev/null); do ip netns del "$n" 2>/dev/null; done
  return 0
}

test_exec_rule_halts_ai_unapproved_command_before_it_runs() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin terraform
  printf '# destructive commands\nrule no-destroy: ai and unapproved and exec "terraform destroy*" => halt\n' \
    > "$T/x.policy"
  ct_agent_start --policy "$T/x.policy"
  local m=$D/m-halt
  "$CT" run --deploy xg-halt --ai-tool claude-code -- "$T/bin/terraform" destroy -auto-approve "$m" &
  local pid=$!
  wait_events "$(guard_for xg-halt)" 1
  local v; v=$(events "$(guard_for xg-halt)")
  assert_eq "$(jq -r .guard.rule <<<"$v")" no-destroy
  assert_eq "$(jq -r .guard.action <<<"$v")" HALT
  assert_eq "$(jq -r .guard.enforced <<<"$v")" true
  assert_eq "$(jq -r .guard.before_exec <<<"$v")" true
  assert_eq "$(jq -r .guard.command <<<"$v")" "terraform destroy*"
  assert_eq "$(jq -r .guard.policy_generation <<<"$v")" 1
  assert_eq "$(jq -r .process.pid <<<"$v")" "$pid"
  assert_eq "$(jq -r .process.exe <<<"$v")" "$T/bin/terraform"
  assert_eq "$(jq -c .process.argv <<<"$v")" "[\"$T/bin/terraform\",\"destroy\",\"-auto-approve\",\"$m\"]"
  assert_eq "$(jq -r .attribution.deploy_id <<<"$v")" xg-halt
  assert_contains "$(jq -r .guard.reason <<<"$v")" "(AI-assisted, no approver): ai and unapproved and exec"
  assert_contains "$(jq -r .guard.reason <<<"$v")" "stopped before its first instruction"
  # stopped at exec: not one instruction of it ran
  wait_stopped "$pid"
  no_marker "$m" "the stopped command"
  # its exec event names the rule too, and is the same image
  wait_events "$(exec_with "$m") and .exec.guard_rule==\"no-destroy\" and .exec.guard_action==\"HALT\"" 1
  assert_eq "$(events "$(exec_with "$m") and .exec.guard_rule==\"no-destroy\"" | jq -r .process.exec_id)" \
    "$(jq -r .process.exec_id <<<"$v")" "GUARD and EXEC name one exec"
  # deploy show and query --kind guard say what was stopped and why
  local out
  for _ in $(seq 30); do
    out=$("$CT" deploy show xg-halt --store "$T/store")
    grep -q "commands judged at exec" <<<"$out" && break
    sleep 0.1
  done
  echo "$out"
  assert_contains "$out" "status:         halted"
  assert_contains "$out" "pid=$pid no-destroy STOPPED: $T/bin/terraform destroy -auto-approve $m"
  assert_contains "$out" "why: command \"$T/bin/terraform destroy -auto-approve $m\" run by deploy xg-halt"
  out=$("$CT" deploy show xg-halt --store "$T/store" --json)
  assert_eq "$(jq -r '.footprint.guard.at_exec[0].rule' <<<"$out")" no-destroy
  assert_eq "$(jq -r '.footprint.guard.at_exec[0].pid' <<<"$out")" "$pid"
  out=$("$CT" query --store "$T/store" --kind guard)
  assert_contains "$out" "rule=no-destroy action=HALT enforced=yes at-exec argv=[$T/bin/terraform destroy -auto-approve $m]"
  # a human decides: resume, and the command runs to its end
  out=$("$CT" deploy resume xg-halt)
  assert_contains "$out" resumed
  wait "$pid" || fail "the resumed command failed ($?)"
  [ -e "$m" ] || fail "the resumed command did not run"
  ct_agent_stop
}

test_exec_rule_halted_command_aborted_by_a_human() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin terraform
  printf 'rule no-destroy: ai and unapproved and exec "terraform destroy*" => halt\n' > "$T/x.policy"
  ct_agent_start --policy "$T/x.policy"
  local m=$D/m-abort rc
  "$CT" run --deploy xg-abort --ai-tool claude-code -- "$T/bin/terraform" destroy "$m" &
  local pid=$!
  wait_events "$(guard_for xg-abort)" 1
  wait_stopped "$pid"
  assert_contains "$("$CT" deploy abort xg-abort)" aborted
  set +e; wait "$pid"; rc=$?; set -e
  assert_eq "$rc" 137 "killed by SIGKILL"
  no_marker "$m" "the aborted command"
  ct_agent_stop
}

test_exec_rule_kill_action_kills_before_first_instruction() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin terraform
  printf 'rule no-destroy: ai and unapproved and exec "terraform destroy*" => kill\n' > "$T/x.policy"
  ct_agent_start --policy "$T/x.policy"
  local m=$D/m-kill
  assert_eq "$(run_rc "$CT" run --deploy xg-kill --ai-tool claude-code -- "$T/bin/terraform" destroy "$m")" 137
  no_marker "$m" "the killed command"
  wait_events "$(guard_for xg-kill)" 1
  local v; v=$(events "$(guard_for xg-kill)")
  assert_eq "$(jq -r .guard.action <<<"$v")" KILL
  assert_eq "$(jq -r .guard.enforced <<<"$v")" true
  assert_contains "$(jq -r .guard.reason <<<"$v")" "killed before its first instruction"
  ct_agent_stop
}

test_exec_rule_spares_approved_nonmatching_and_ai_only_drift() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin terraform
  xg_bin kubectl
  printf 'rule no-destroy: ai and unapproved and exec "terraform destroy*" => halt\nrule ai-delete: ai and exec "kubectl delete *" => kill\n' \
    > "$T/x.policy"
  ct_agent_start --policy "$T/x.policy"
  # the same command under an approved deploy
  "$CT" run --deploy xg-ok --ai-tool claude-code --approved-by alice -- \
    "$T/bin/terraform" destroy -auto-approve "$D/m-ok" || fail "approved command failed"
  [ -e "$D/m-ok" ] || fail "approved command did not run"
  # a command no rule matches (same program, other arguments)
  "$CT" run --deploy xg-plan --ai-tool claude-code -- "$T/bin/terraform" plan "$D/m-plan" ||
    fail "non-matching command failed"
  [ -e "$D/m-plan" ] || fail "non-matching command did not run"
  # drift, against a rule limited to ai
  "$T/bin/kubectl" delete ns "$D/m-drift" || fail "drift command failed"
  [ -e "$D/m-drift" ] || fail "drift command did not run"
  # the rules are live: the AI deploy's kubectl delete is killed
  assert_eq "$(run_rc "$CT" run --deploy xg-k --ai-tool claude-code -- "$T/bin/kubectl" delete ns "$D/m-k")" 137
  no_marker "$D/m-k"
  wait_events "$(guard_for xg-k)" 1
  sleep 0.3
  assert_eq "$(count_events '.kind=="GUARD"')" 1 "one verdict, for xg-k only"
  ct_agent_stop
}

test_sighup_reload_adds_exec_rule_for_next_exec() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin kubectl
  printf 'rule other: ai and exec "terraform destroy*" => halt\n' > "$T/r.policy"
  ct_agent_start --policy "$T/r.policy"
  "$T/bin/kubectl" delete pod "$D/m1" || fail "ran before the rule: exit $?"
  [ -e "$D/m1" ] || fail "no rule yet, but the command did not run"
  printf 'rule other: ai and exec "terraform destroy*" => halt\nrule no-delete: drift and exec "kubectl delete pod %s/*" => kill\n' "$T" \
    > "$T/r.policy"
  kill -HUP "$AGENT_PID"
  for _ in $(seq 50); do grep -q "generation 2" "$T/agent.err" && break; sleep 0.1; done
  assert_contains "$(cat "$T/agent.err")" "policy reloaded: 2 rules (2 exec rules, generation 2)"
  # the next exec is judged by the new policy
  assert_eq "$(run_rc "$T/bin/kubectl" delete pod "$D/m2")" 137
  no_marker "$D/m2"
  wait_events '.kind=="GUARD" and .guard.rule=="no-delete"' 1
  assert_eq "$(events '.kind=="GUARD" and .guard.rule=="no-delete"' | jq -r .guard.policy_generation)" 2
  assert_eq "$(events '.kind=="GUARD" and .guard.rule=="no-delete"' | jq -r .attribution.drift)" true
  # a policy that does not parse changes nothing in the kernel
  printf 'rule no-delete: drift and exec "kubectl delete pod %s/* => kill\n' "$T" > "$T/r.policy"
  kill -HUP "$AGENT_PID"
  for _ in $(seq 50); do grep -q "keeping the previous policy" "$T/agent.err" && break; sleep 0.1; done
  assert_contains "$(cat "$T/agent.err")" "line 1: a quote is not closed"
  assert_eq "$(run_rc "$T/bin/kubectl" delete pod "$D/m2b")" 137
  no_marker "$D/m2b"
  # and a reload that drops it lets the next one run
  printf 'rule other: ai and exec "terraform destroy*" => halt\n' > "$T/r.policy"
  kill -HUP "$AGENT_PID"
  for _ in $(seq 50); do grep -q "generation 3" "$T/agent.err" && break; sleep 0.1; done
  grep -q "generation 3" "$T/agent.err" || fail "third policy not loaded"
  "$T/bin/kubectl" delete pod "$D/m3" || fail "the rule was dropped, but the command failed"
  [ -e "$D/m3" ] || fail "the rule was dropped, but the command did not run"
  assert_eq "$("$CT" status --json | jq '.status.counters[] | select(.name=="guard_exec_matches") | .value')" 2
  ct_agent_stop
}

test_malformed_exec_rules_refused_with_line_number() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  need_root
  local rc out
  printf 'rule ok: ai and exec "terraform destroy*" => halt\n\nrule bad: ai and exec "terra* destroy" => halt\n' > "$T/bad.policy"
  set +e; out=$("$CT" policy check "$T/bad.policy" 2>&1); rc=$?; set -e
  assert_eq "$rc" 1
  assert_contains "$out" "line 3:"
  assert_contains "$out" "wildcard"
  set +e; out=$("$CT" agent --quiet --socket "$T/bad.sock" --policy "$T/bad.policy" 2>&1); rc=$?; set -e
  assert_eq "$rc" 2 "agent refuses to start"
  assert_contains "$out" "line 3:"
  printf 'rule ok: exec "nft flush ruleset" => alert\nrule open: drift and exec "rm -rf => kill\n' > "$T/bad2.policy"
  set +e; out=$("$CT" policy check "$T/bad2.policy" 2>&1); rc=$?; set -e
  assert_eq "$rc" 1
  assert_contains "$out" "line 2: a quote is not closed"
  printf 'rule files: protected and exec "rm" => halt\n' > "$T/bad3.policy"
  set +e; out=$("$CT" policy check "$T/bad3.policy" 2>&1); rc=$?; set -e
  assert_eq "$rc" 1
  assert_contains "$out" "line 1: 'protected' is about file and network changes"
  # a valid one says what the kernel will match
  printf 'rule no-destroy: ai and unapproved and exec "terraform   destroy*" => halt\n' > "$T/ok.policy"
  out=$("$CT" policy check "$T/ok.policy")
  assert_contains "$out" "1 exec rules"
  assert_contains "$out" 'ai and unapproved and exec "terraform destroy*"'
}

test_exec_rule_sees_paths_symlinks_scripts_and_inner_execs() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin tool
  xg_bin terraform
  mkdir -p "$T/other"
  ln -s "$T/bin/tool" "$T/other/alias"
  ln -s "$T/bin/tool" "$T/other/a-name-longer-than-comm"
  cp "$T/bin/tool" "$T/other/renamed"
  printf '#!/bin/sh\ntouch "$2"\n' > "$T/bin/deploy.sh"
  printf '#!/usr/bin/env sh\ntouch "$2"\n' > "$T/bin/deploy2.sh"
  chmod +x "$T/bin/deploy.sh" "$T/bin/deploy2.sh"
  cat > "$T/p.policy" <<EOF
rule by-path: ai and exec "$T/bin/tool wipe" => kill
rule script: ai and exec "deploy.sh destroy" => kill
rule script-env: ai and exec "deploy2.sh destroy" => kill
rule inner: ai and exec "terraform destroy*" => kill
rule long-name: ai and exec "a-name-longer-than-comm erase" => kill
EOF
  ct_agent_start --policy "$T/p.policy"
  ai() { local id=$1; shift; run_rc "$CT" run --deploy "$id" --ai-tool claude-code -- "$@"; }
  # the executable's path: as given, resolved from a relative path, behind a symlink of another name
  assert_eq "$(ai xg-p1 "$T/bin/tool" wipe "$D/m1")" 137
  assert_eq "$(cd "$T/bin" && ai xg-p2 ./tool wipe "$D/m2")" 137
  assert_eq "$(ai xg-p3 "$T/other/alias" wipe "$D/m3")" 137
  no_marker "$D/m1"; no_marker "$D/m2"; no_marker "$D/m3"
  # the name it was invoked by, longer than comm holds (read from the path)
  assert_eq "$(ai xg-p10 "$T/other/a-name-longer-than-comm" erase "$D/m10")" 137
  assert_eq "$(ai xg-p11 "$T/other/a-name-longer-than-comm" list "$D/m11")" 0
  no_marker "$D/m10"
  [ -e "$D/m11" ] || fail "the long-named symlink with other arguments did not run"
  # other arguments run; a renamed copy is another file (a documented limit)
  assert_eq "$(ai xg-p4 "$T/bin/tool" list "$D/m4")" 0
  assert_eq "$(ai xg-p5 "$T/other/renamed" wipe "$D/m5")" 0
  [ -e "$D/m4" ] && [ -e "$D/m5" ] || fail "commands no rule matches did not run"
  # a script, by its own name; its arguments follow its path (with and
  # without an interpreter option on the #! line)
  assert_eq "$(ai xg-p6 "$T/bin/deploy.sh" destroy "$D/m6")" 137
  assert_eq "$(ai xg-p7 "$T/bin/deploy2.sh" destroy "$D/m7")" 137
  assert_eq "$(ai xg-p8 "$T/bin/deploy.sh" status "$D/m8")" 0
  no_marker "$D/m6"; no_marker "$D/m7"
  [ -e "$D/m8" ] || fail "the script with other arguments did not run"
  # through an interpreter: the shell's own exec is not judged, the
  # command it execs is (and, the rule's action being kill, the deploy
  # with it)
  assert_eq "$(ai xg-p9 sh -c "echo started > $D/m9-sh; $T/bin/terraform destroy $D/m9")" 137
  no_marker "$D/m9" "the inner command"
  [ -e "$D/m9-sh" ] || fail "the shell did not run"
  wait_events '.kind=="GUARD"' 7
  # every kill was the probe's, at exec
  assert_eq "$(count_events '.kind=="GUARD" and .guard.enforced==true')" 7
  assert_eq "$(events '.kind=="GUARD" and .guard.deploy_id=="xg-p10"' | jq -r .guard.rule)" long-name
  assert_eq "$(events '.kind=="GUARD" and .guard.deploy_id=="xg-p9"' | jq -r .guard.rule)" inner
  assert_eq "$(events '.kind=="GUARD" and .guard.deploy_id=="xg-p6"' | jq -r .guard.rule)" script
  assert_eq "$(events '.kind=="GUARD" and .guard.deploy_id=="xg-p7"' | jq -r .guard.rule)" script-env
  ct_agent_stop
}

test_exec_rule_out_of_scope_and_high_risk() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  xg_bin terraform
  printf 'rule oos: ai and out-of-scope and exec "terraform *" => kill\nrule risky: high-risk and exec "terraform apply*" => kill\n' \
    > "$T/s.policy"
  ct_agent_start --policy "$T/s.policy"
  local id
  for id in xg-s1 xg-s2; do
    "$CT" deploy start --id "$id" --ai-tool claude-code --scope /etc/app --scope "exec:terraform plan*" >/dev/null
  done
  "$CT" deploy start --id xg-s3 --ai-tool claude-code >/dev/null
  # the deploy declared it runs terraform plan: in scope
  assert_eq "$(run_rc "$CT" run --deploy xg-s1 -- "$T/bin/terraform" plan "$D/m1")" 0
  # ... not terraform destroy
  assert_eq "$(run_rc "$CT" run --deploy xg-s2 -- "$T/bin/terraform" destroy "$D/m2")" 137
  # no scope declared: nothing is out of it
  assert_eq "$(run_rc "$CT" run --deploy xg-s3 -- "$T/bin/terraform" destroy "$D/m3")" 0
  [ -e "$D/m1" ] && [ -e "$D/m3" ] || fail "in-scope commands did not run"
  no_marker "$D/m2"
  "$CT" deploy start --id xg-r1 --author bob --risk high >/dev/null
  "$CT" deploy start --id xg-r2 --author bob --risk low >/dev/null
  assert_eq "$(run_rc "$CT" run --deploy xg-r1 -- "$T/bin/terraform" apply "$D/m4")" 137
  assert_eq "$(run_rc "$CT" run --deploy xg-r2 -- "$T/bin/terraform" apply "$D/m5")" 0
  no_marker "$D/m4"
  [ -e "$D/m5" ] || fail "low-risk apply did not run"
  # a scope entry that cannot be a command is refused at registration
  local out rc
  set +e; out=$("$CT" deploy start --id xg-bad --scope "exec:terra* plan" 2>&1); rc=$?; set -e
  [ "$rc" -ne 0 ] || fail "bad exec: scope accepted"
  assert_contains "$out" "wildcard"
  ct_agent_stop
}

test_exec_verdict_exported_over_otlp_at_error() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  need_root
  xg_bin terraform
  local ns=ct-xg-$$-$RANDOM port=4341
  ip netns add "$ns" || fail "ip netns add"
  echo "$ns" >> "$T/xg.ns"
  ip -n "$ns" link set lo up
  nsenter --net="/run/netns/$ns" python3 "$RECV" --port "$port" --out "$T/o.recs" \
    --requests "$T/o.reqs" --script 200 > "$T/o.recv.log" 2>&1 &
  local recv=$!
  for _ in $(seq 50); do grep -q listening "$T/o.recv.log" && break; sleep 0.1; done
  printf 'rule no-destroy: ai and unapproved and exec "terraform destroy*" => halt\n' > "$T/x.policy"
  nsenter --net="/run/netns/$ns" "$CT" agent --json --store "$T/store" --pin-dir "$CT_PIN_DIR" \
    --policy "$T/x.policy" --otlp-endpoint "http://127.0.0.1:$port" > "$T/events.jsonl" 2> "$T/agent.err" &
  AGENT_PID=$!
  ct_track_pid "$AGENT_PID"
  for _ in $(seq 100); do "$CT" status >/dev/null 2>&1 && break; sleep 0.1; done
  "$CT" run --deploy xg-otlp --ai-tool claude-code -- "$T/bin/terraform" destroy "$D/m-otlp" &
  local pid=$!
  wait_events "$(guard_for xg-otlp)" 1
  local f='.event_name=="changetrace.guard"' r
  for _ in $(seq 100); do [ -n "$(jq -c "select($f)" "$T/o.recs" 2>/dev/null)" ] && break; sleep 0.1; done
  r=$(jq -c "select($f)" "$T/o.recs" | head -n1)
  echo "$r"
  [ -n "$r" ] || fail "no GUARD record exported"
  assert_eq "$(jq -r .severity <<<"$r")" 17 "ERROR"
  assert_eq "$(jq -r '.attrs["changetrace.guard.rule"]' <<<"$r")" no-destroy
  assert_eq "$(jq -r '.attrs["changetrace.guard.action"]' <<<"$r")" halt
  assert_eq "$(jq -r '.attrs["changetrace.guard.before_exec"]' <<<"$r")" true
  assert_eq "$(jq -r '.attrs["changetrace.guard.command"]' <<<"$r")" "terraform destroy*"
  assert_eq "$(jq -r '.attrs["deployment.id"]' <<<"$r")" xg-otlp
  assert_eq "$(jq -r '.attrs["process.command_line"]' <<<"$r")" "$T/bin/terraform destroy $D/m-otlp"
  kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  ct_agent_stop
  kill "$recv" 2>/dev/null; wait "$recv" 2>/dev/null || true
}

# docs/examples/exec-guard.policy: off as shipped, valid and in force once enabled
test_shipped_exec_policy_is_off_until_enabled() {
  local D; D=$(mktemp -d "$T/t.XXXX")  # this test's markers
  local shipped=$PWD/docs/examples/exec-guard.policy out n
  out=$("$CT" policy check "$shipped")
  assert_contains "$out" "valid: 0 rules"
  sed 's/^# rule /rule /' "$shipped" > "$D/on.policy"
  out=$("$CT" policy check "$D/on.policy")
  n=$(grep -c '^# rule ' "$shipped")
  assert_ge "$n" 20
  assert_contains "$out" "valid: $n rules"
  assert_contains "$out" "$n exec rules"
  xg_bin terraform
  ct_agent_start --policy "$D/on.policy"
  "$CT" run --deploy xg-shipped --ai-tool claude-code -- "$T/bin/terraform" destroy "$D/m" &
  local pid=$!
  wait_events "$(guard_for xg-shipped)" 1
  assert_eq "$(events "$(guard_for xg-shipped)" | jq -r .guard.rule)" ai-terraform-destroy
  wait_stopped "$pid"
  no_marker "$D/m"
  kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
  ct_agent_stop
}
