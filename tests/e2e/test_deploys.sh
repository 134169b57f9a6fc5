# Deploys, provenance and every attribution mechanism, on the
# real kernel with a real agent.
P=$BUILD/tests
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

setup_file() {
  need_root || return 1
  ct_agent_start
}
teardown_file() { ct_agent_stop; }

expect_fail() { # expect_fail CODE MESSAGE-SUBSTRING -- cmd...
  local code=$1 msg=$2 out rc; shift 3
  set +e; out=$("$@" 2>&1); rc=$?; set -e
  [ "$rc" -eq "$code" ] || fail "'$*' exited $rc, want $code: $out"
  assert_contains "$out" "$msg"
}

cg_root() { findmnt -n -t cgroup2 -o TARGET | head -n1; }

# A child cgroup for this test, removed by cg_cleanup once empty.
cg_make() {
  local root; root=$(cg_root)
  [ -n "$root" ] || skip "no cgroup2 mount"
  CG_REL=/ct-test-$$-$RANDOM
  CG=$root$CG_REL
  mkdir "$CG" || skip "cannot create a cgroup under $root"
}
cg_cleanup() {
  [ -n "${BG_PIDS:-}" ] && kill $BG_PIDS 2>/dev/null || true
  [ -n "${CG:-}" ] || return 0
  for _ in $(seq 50); do
    find "$CG" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ -d "$CG" ] || return 0
    sleep 0.1
  done
}

# ------------------------------------------------------------------ registry

test_deploy_start_from_flags() {
  local digest; digest=$(printf 'the plan' | sha256sum | cut -c1-64)
  "$CT" deploy start --id flags-1 --ai-tool claude-code --ai-model claude-opus-4 \
    --ai-session sess-42 --prompt-digest "$digest" --author alice \
    --approved-by bob --approved-by carol --ticket OPS-7 --repo https://git.example/app \
    --commit 0123abc --pipeline-run run-99 --rollback-plan "redeploy v1" \
    --scope /etc/app --risk high --environment prod >/dev/null
  local j; j=$("$CT" deploy show flags-1 --json)
  assert_eq "$(jq -r .id <<<"$j")" flags-1
  assert_eq "$(jq -r .ai.ai_assisted <<<"$j")" true
  assert_eq "$(jq -r .ai.tool <<<"$j")" claude-code
  assert_eq "$(jq -r .ai.model <<<"$j")" claude-opus-4
  assert_eq "$(jq -r .ai.session_id <<<"$j")" sess-42
  assert_eq "$(jq -r .ai.prompt_digest <<<"$j")" "$digest"
  assert_eq "$(jq -r .author <<<"$j")" alice
  assert_eq "$(jq -r '.approved_by | join(",")' <<<"$j")" bob,carol
  assert_eq "$(jq -r .ticket <<<"$j")" OPS-7
  assert_eq "$(jq -r .repository <<<"$j")" https://git.example/app
  assert_eq "$(jq -r .commit <<<"$j")" 0123abc
  assert_eq "$(jq -r .pipeline_run <<<"$j")" run-99
  assert_eq "$(jq -r .rollback_plan <<<"$j")" "redeploy v1"
  assert_eq "$(jq -r .risk <<<"$j")" HIGH
  assert_eq "$(jq -r .status <<<"$j")" RUNNING
  assert_eq "$(jq -r ".registered_by.uid // 0" <<<"$j")" 0
  assert_eq "$(jq -r .registered_by.pid <<<"$j" | grep -c "^[0-9][0-9]*$")" 1
  assert_eq "$(jq -r .registered_by.exe <<<"$j")" "$CT"
  # text show and list
  assert_contains "$("$CT" deploy show flags-1)" "approved by:    carol"
  assert_contains "$("$CT" deploy list)" flags-1
  assert_eq "$("$CT" deploy list --json | jq -r 'select(.id=="flags-1") | .author')" alice
  # the start is an event on the change path
  wait_events '.kind=="DEPLOY" and .deploy.action=="START" and .deploy.deploy.id=="flags-1"' 1
  assert_eq "$(events '.kind=="DEPLOY" and .deploy.deploy.id=="flags-1"' | jq -r .deploy.deploy.ai.tool)" claude-code
  # starting it again is refused; ending it works once
  expect_fail 1 "already started" -- "$CT" deploy start --id flags-1
  "$CT" deploy end --id flags-1 --status rolled_back >/dev/null
  expect_fail 1 "already ended" -- "$CT" deploy end --id flags-1 --status succeeded
  j=$("$CT" deploy show flags-1 --json)
  assert_eq "$(jq -r .status <<<"$j")" ROLLED_BACK
  [ "$(jq -r .end_time_unix_nano <<<"$j")" -gt 0 ] || fail "no end time"
  wait_events '.kind=="DEPLOY" and .deploy.action=="END" and .deploy.deploy.id=="flags-1" and .deploy.deploy.status=="ROLLED_BACK"' 1
  # a wrapper cannot join an ended deploy
  expect_fail 1 "has ended" -- "$CT" run --deploy flags-1 -- true
}

test_deploy_flag_validation() {
  expect_fail 2 "sha256" -- "$CT" deploy start --id v-1 --prompt-digest "not-a-digest"
  expect_fail 2 "sha256" -- "$CT" deploy start --id v-1 --prompt-digest "$(printf 'a%.0s' {1..63})"
  expect_fail 2 "--risk must be" -- "$CT" deploy start --id v-1 --risk extreme
  expect_fail 2 "--id ID is required" -- "$CT" deploy start --author x
  expect_fail 2 "deploy id is empty" -- "$CT" deploy start --id ""
  expect_fail 2 "may only contain" -- "$CT" deploy start --id 'bad id'
  expect_fail 2 "contradicts" -- "$CT" deploy start --id v-1 --no-ai --ai-tool x
  expect_fail 2 "--status must be" -- "$CT" deploy end --id v-1 --status done
  expect_fail 1 "no deploy v-1" -- "$CT" deploy end --id v-1 --status failed
  expect_fail 1 "no deploy v-1" -- "$CT" deploy show v-1
  expect_fail 1 "not a cgroup" -- "$CT" deploy start --id v-1 --cgroup /no/such/cgroup
  expect_fail 1 "invalid cgroup path" -- "$CT" deploy start --id v-2 --cgroup ../../etc
  expect_fail 1 "root cgroup" -- "$CT" deploy start --id v-2 --cgroup /
  expect_fail 1 "cannot find the cgroup of unit" -- "$CT" deploy start --id v-2 --unit no-such-unit-$$.service
  expect_fail 1 "no deploy v-2" -- "$CT" deploy show v-2   # nothing registered by refused starts
  # --no-ai is recorded as an explicit "not assisted"
  "$CT" deploy start --id v-3 --no-ai --author dana >/dev/null
  assert_eq "$("$CT" deploy show v-3 --json | jq -c .ai)" "{}"
}

test_deploy_from_git() {
  command -v git >/dev/null || skip "no git"
  local r=$T/repo
  git init -q "$r"
  git -C "$r" config user.name "Erin Dev"
  git -C "$r" config user.email erin@example.com
  git -C "$r" remote add origin https://ci-bot:s3cret@git.example.com/org/app.git
  echo v1 > "$r/f"; git -C "$r" add f
  git -C "$r" commit -q -m "first" -m "Plain commit, no trailers."
  local first; first=$(git -C "$r" rev-parse HEAD)
  echo v2 > "$r/f"
  git -C "$r" commit -q -a -m "Tune the pool size" -m "Why: latency.

Co-authored-by: Claude <noreply@anthropic.com>
Assisted-by: Claude Code (claude-sonnet-4-5)
Reviewed-by: Frank Ops <frank@example.com>
Approved-by: Grace Lead <grace@example.com>
Ticket: CHG-1234
Prompt-Digest: sha256:$(printf plan | sha256sum | cut -c1-64)"
  local head; head=$(git -C "$r" rev-parse HEAD)

  "$CT" deploy start --id git-1 --from-git "$r" >/dev/null
  local j; j=$("$CT" deploy show git-1 --json)
  assert_eq "$(jq -r .commit <<<"$j")" "$head"
  assert_eq "$(jq -r .author <<<"$j")" "Erin Dev <erin@example.com>"
  assert_eq "$(jq -r .repository <<<"$j")" "https://git.example.com/org/app.git" "credentials stripped"
  assert_eq "$(jq -r .ai.ai_assisted <<<"$j")" true
  assert_eq "$(jq -r .ai.tool <<<"$j")" claude
  assert_eq "$(jq -r .ai.model <<<"$j")" claude-sonnet-4-5
  assert_eq "$(jq -r .ai.prompt_digest <<<"$j")" "$(printf plan | sha256sum | cut -c1-64)"
  assert_eq "$(jq -r '.approved_by | join(";")' <<<"$j")" "Frank Ops <frank@example.com>;Grace Lead <grace@example.com>"
  assert_eq "$(jq -r .ticket <<<"$j")" CHG-1234

  # explicit flags override the commit; REV as an argument
  "$CT" deploy start --id git-2 --from-git "$r" HEAD~1 --author override --ai-tool cursor >/dev/null
  j=$("$CT" deploy show git-2 --json)
  assert_eq "$(jq -r .commit <<<"$j")" "$first"
  assert_eq "$(jq -r .author <<<"$j")" override
  assert_eq "$(jq -r .ai.tool <<<"$j")" cursor
  # a commit without AI trailers does not claim AI help
  "$CT" deploy start --id git-3 --from-git "$r" --git-rev "$first" >/dev/null
  assert_eq "$("$CT" deploy show git-3 --json | jq -r '.ai.ai_assisted // false')" false
  # bad inputs: not a repository, option-like revision
  expect_fail 2 "not a git repository" -- "$CT" deploy start --id git-4 --from-git "$T"
  expect_fail 2 "invalid git revision" -- "$CT" deploy start --id git-4 --from-git "$r" --git-rev=--output=/tmp/x
}

# members of the agent's --group may register deploys (nogroup: gid 65534)
test_group_member_allowed() {
  command -v setpriv >/dev/null || skip "no setpriv"
  getent group nogroup >/dev/null || skip "no group nogroup"
  RN=g
  own_agent_start --group nogroup
  trap 'kill -TERM $RPID 2>/dev/null || true' EXIT
  CHANGETRACE_SOCKET=$RS "${NOBODY[@]}" "$CT" deploy start --id grp-1 --author nobody >/dev/null
  assert_eq "$(CHANGETRACE_SOCKET=$RS "$CT" deploy show grp-1 --json | jq -r .registered_by.uid)" 65534
  # the environment of a group member is believed, of others not
  local m m2; m=$(marker grpenv); m2=$(marker grpenv2)
  "${NOBODY[@]}" env CHANGETRACE_DEPLOY_ID=grp-1 sh -c "true $m"
  setpriv --reuid=65534 --regid=1 --clear-groups env CHANGETRACE_DEPLOY_ID=grp-1 sh -c "true $m2"
  local deadline=$(( $(date +%s) + 10 ))
  until [ "$(jq -c "select($(exec_with "$m" sh) and .attribution.deploy_id==\"grp-1\" and .attribution.method==\"ENVIRONMENT\")" "$T/g.jsonl" | wc -l)" -ge 1 ] &&
        [ "$(jq -c "select($(exec_with "$m2" sh))" "$T/g.jsonl" | wc -l)" -ge 1 ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "group member's env not attributed"
    sleep 0.1
  done
  assert_eq "$(jq -c "select($(exec_with "$m2") and .attribution.drift!=true)" "$T/g.jsonl" | wc -l)" 0 "non-member env ignored"
  # a caller outside the group is still refused
  expect_fail 1 "permission denied" -- env CHANGETRACE_SOCKET=$RS setpriv --reuid=65534 --regid=1 --clear-groups "$CT" deploy start --id grp-2
  own_agent_stop
}

test_non_root_refused() {
  command -v setpriv >/dev/null || skip "no setpriv"
  "$CT" deploy start --id nr-ok --author root >/dev/null
  expect_fail 1 "permission denied" -- "${NOBODY[@]}" "$CT" deploy start --id nr-2 --author eve
  expect_fail 1 "permission denied" -- "${NOBODY[@]}" "$CT" deploy end --id nr-ok --status failed
  expect_fail 1 "permission denied" -- "${NOBODY[@]}" "$CT" run --deploy nr-ok -- true
  # reading is allowed; nothing changed
  "${NOBODY[@]}" "$CT" deploy show nr-ok >/dev/null || fail "non-root show"
  assert_eq "$("$CT" deploy show nr-ok --json | jq -r .status)" RUNNING
  expect_fail 1 "no deploy nr-2" -- "$CT" deploy show nr-2
  [ "$("$CT" status --json | jq '.status.counters[] | select(.name=="control_refused") | .value')" -ge 3 ] || fail "refusals not counted"
}

# ------------------------------------------------------------------ attribution

test_attr_wrapper() {
  local m; m=$(marker wrap)
  "$CT" deploy start --id wrap-1 --author alice >/dev/null
  "$CT" run --deploy wrap-1 -- sh -c "sh -c 'true $m'"
  wait_events "$(exec_with "$m")" 2
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.deploy_id==\"wrap-1\" and .attribution.method==\"WRAPPER\"")" 1
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.deploy_id==\"wrap-1\" and .attribution.method==\"INHERITED\"")" 1
  # unknown deploy, no provenance: refused with a way forward
  expect_fail 1 "is not registered" -- "$CT" run --deploy wrap-unknown -- true
  # unknown deploy with provenance: started implicitly
  "$CT" run --deploy wrap-2 --author bob --ai-tool copilot -- true
  assert_eq "$("$CT" deploy show wrap-2 --json | jq -r '.author + " " + .ai.tool + " " + .status')" "bob copilot RUNNING"
  wait_events '.kind=="DEPLOY" and .deploy.deploy.id=="wrap-2"' 1
  # --unregistered: runs, flagged unregistered
  local m2; m2=$(marker wrapu)
  "$CT" run --deploy wrap-3 --unregistered -- sh -c "true $m2"
  wait_events "$(exec_with "$m2") and .attribution.deploy_id==\"wrap-3\" and .attribution.unregistered==true" 1
}

test_attr_environment() {
  local m; m=$(marker env)
  "$CT" deploy start --id env-1 --ai-tool claude-code >/dev/null
  env CHANGETRACE_DEPLOY_ID=env-1 sh -c "sh -c 'true $m'; true"
  wait_events "$(exec_with "$m")" 2
  local f; f="$(exec_with "$m") and .attribution.deploy_id==\"env-1\""
  assert_eq "$(count_events "$f and .attribution.method==\"ENVIRONMENT\" and .process.comm==\"sh\"")" 1
  assert_eq "$(count_events "$f and .attribution.method==\"INHERITED\"")" 1
  assert_eq "$(count_events "$f and .attribution.ai_assisted==true")" 2
  # the variable among many others, late in the environment
  local m2; m2=$(marker envlate)
  env $(for i in $(seq 40); do printf 'PAD_%02d=%s ' "$i" "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; done) \
    CHANGETRACE_DEPLOY_ID=env-1 sh -c "true $m2"
  wait_events "$(exec_with "$m2") and .attribution.deploy_id==\"env-1\" and .attribution.method==\"ENVIRONMENT\"" 1
  # a look-alike inside another variable's value does not count
  local m3; m3=$(marker envfake)
  env FOO=CHANGETRACE_DEPLOY_ID=env-1 XCHANGETRACE_DEPLOY_ID=env-1 sh -c "true $m3"
  wait_events "$(exec_with "$m3")" 1
  sleep 0.3
  assert_eq "$(count_events "$(exec_with "$m3") and .attribution.drift!=true")" 0 "look-alike ignored"
  # an unprivileged process cannot claim a deploy through its environment
  if command -v setpriv >/dev/null; then
    local m5; m5=$(marker envnobody)
    "${NOBODY[@]}" env CHANGETRACE_DEPLOY_ID=env-1 sh -c "true $m5"
    wait_events "$(exec_with "$m5" sh)" 1
    assert_eq "$(count_events "$(exec_with "$m5") and .attribution.drift!=true")" 0 "untrusted env ignored"
    [ "$("$CT" status --json | jq '.status.counters[] | select(.name=="env_id_untrusted") | .value')" -ge 1 ] || fail "untrusted env not counted"
  fi
  # clearing the environment does not shed the attribution
  local m4; m4=$(marker envclear)
  env CHANGETRACE_DEPLOY_ID=env-1 sh -c "env -i /bin/sh -c 'true $m4'; true"
  wait_events "$(exec_with "$m4") and .attribution.deploy_id==\"env-1\" and .attribution.method==\"INHERITED\"" 1
}

test_attr_environment_unregistered() {
  local m; m=$(marker envu)
  env CHANGETRACE_DEPLOY_ID=never-registered-1 sh -c "sh -c 'true $m'; true"
  wait_events "$(exec_with "$m")" 2
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.deploy_id==\"never-registered-1\" and .attribution.unregistered==true")" 2
  wait_events '.kind=="DEPLOY" and .deploy.deploy.id=="never-registered-1" and .attribution.unregistered==true' 1
  local j; j=$("$CT" deploy show never-registered-1 --json)
  assert_eq "$(jq -r .unregistered <<<"$j")" true
  [ "$(jq -r .slot <<<"$j")" -ge 512 ] || fail "kernel slot expected: $j"
  # registering it later keeps the slot and clears the flag
  local slot; slot=$(jq -r .slot <<<"$j")
  "$CT" deploy start --id never-registered-1 --author late >/dev/null
  j=$("$CT" deploy show never-registered-1 --json)
  assert_eq "$(jq -r '.unregistered // false' <<<"$j")" false
  assert_eq "$(jq -r .slot <<<"$j")" "$slot"
  local m2; m2=$(marker envu2)
  env CHANGETRACE_DEPLOY_ID=never-registered-1 sh -c "true $m2"
  wait_events "$(exec_with "$m2") and .attribution.deploy_id==\"never-registered-1\" and (.attribution.unregistered // false)==false" 1
}

test_attr_cgroup() {
  cg_make
  trap 'cg_cleanup || true' EXIT
  mkdir "$CG/inner"
  # a process already in the cgroup when the deploy starts
  local m0; m0=$(marker cgold)
  mkfifo "$T/cg.fifo"
  sh -c "echo \$\$ > $CG/cgroup.procs; read x < $T/cg.fifo; exec sh -c 'true $m0'" &
  local old=$!
  BG_PIDS=$old
  sleep 0.3
  "$CT" deploy start --id cg-1 --cgroup "$CG_REL" --author ops >/dev/null
  assert_eq "$("$CT" deploy show cg-1 --json | jq -r '.cgroups[0]')" "$CG_REL"
  echo go > "$T/cg.fifo"; wait $old
  wait_events "$(exec_with "$m0") and .attribution.deploy_id==\"cg-1\" and .attribution.method==\"CGROUP\"" 1
  # a process that moves into a sub-cgroup, then execs and forks
  local m; m=$(marker cg)
  sh -c "echo \$\$ > $CG/inner/cgroup.procs; exec sh -c \"sh -c 'true $m'; true\""
  wait_events "$(exec_with "$m")" 2
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.deploy_id==\"cg-1\" and .attribution.method==\"CGROUP\"")" 1
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.deploy_id==\"cg-1\" and .attribution.method==\"INHERITED\"")" 1
  [ "$("$CT" status --json | jq '.status.counters[] | select(.name=="attributed_by_cgroup") | .value')" -ge 1 ] || fail "cgroup counter"
  # a second deploy cannot claim the same cgroup
  expect_fail 1 "already claimed by deploy cg-1" -- "$CT" deploy start --id cg-2 --cgroup "$CG"
  # after the end, new processes in the cgroup are no longer claimed
  "$CT" deploy end --id cg-1 --status succeeded >/dev/null
  local m2; m2=$(marker cgafter)
  sh -c "echo \$\$ > $CG/cgroup.procs; exec sh -c 'true $m2'"
  wait_events "$(exec_with "$m2")" 1
  wait_events "$(exec_with "$m2" sh) and .attribution.drift==true" 2
  assert_eq "$(count_events "$(exec_with "$m2") and .attribution.drift!=true")" 0 "claim released"
}

# wrapper > env > cgroup for a process not yet attributed; an attributed
# process keeps its deploy against env and cgroup; an explicit wrapper
# (an authorized request) re-tags.
test_attr_precedence() {
  cg_make
  trap 'cg_cleanup || true' EXIT
  "$CT" deploy start --id pr-cg --cgroup "$CG_REL" >/dev/null
  "$CT" deploy start --id pr-env --author a >/dev/null
  "$CT" deploy start --id pr-wrap --author b >/dev/null
  "$CT" deploy start --id pr-wrap2 --author c >/dev/null
  local m1 m2 m3 m4
  m1=$(marker p-envcg); m2=$(marker p-wrapenv); m3=$(marker p-envinwrap); m4=$(marker p-wrapinenv)
  # env beats cgroup (the process moves itself in, then execs with the variable)
  sh -c "echo \$\$ > $CG/cgroup.procs; CHANGETRACE_DEPLOY_ID=pr-env exec sh -c 'true $m1'"
  wait_events "$(exec_with "$m1") and .attribution.deploy_id==\"pr-env\" and .attribution.method==\"ENVIRONMENT\"" 1
  # wrapper beats env of the same process
  env CHANGETRACE_DEPLOY_ID=pr-env "$CT" run --deploy pr-wrap -- sh -c "true $m2"
  wait_events "$(exec_with "$m2") and .attribution.deploy_id==\"pr-wrap\" and .attribution.method==\"WRAPPER\"" 1
  # env of another deploy inside a wrapped tree: ignored, inherited
  "$CT" run --deploy pr-wrap -- sh -c "CHANGETRACE_DEPLOY_ID=pr-env sh -c 'true $m3'; true"
  wait_events "$(exec_with "$m3") and .attribution.deploy_id==\"pr-wrap\" and .attribution.method==\"INHERITED\"" 1
  # an explicit wrapper of another deploy inside an env-attributed tree re-tags
  env CHANGETRACE_DEPLOY_ID=pr-env sh -c "\"$CT\" run --deploy pr-wrap2 -- sh -c 'true $m4'; true"
  wait_events "$(exec_with "$m4") and .attribution.deploy_id==\"pr-wrap2\" and .attribution.method==\"WRAPPER\"" 1
  # and a process the cgroup claimed first keeps the cgroup's deploy
  local m5; m5=$(marker p-cgenv)
  sh -c "echo \$\$ > $CG/cgroup.procs; exec env CHANGETRACE_DEPLOY_ID=pr-env sh -c 'true $m5'"
  wait_events "$(exec_with "$m5" sh) and .attribution.deploy_id==\"pr-cg\" and .attribution.method==\"CGROUP\"" 1
}

# ------------------------------------------------------------------ restart, corruption, fuzz

# An agent of our own, named $RN (socket $RS, store, pin dir, output), that
# the test may restart.
own_agent_start() {
  RS=$T/$RN.sock
  "$CT" agent --json --socket "$RS" --store "$T/$RN-store" --pin-dir "$CT_PIN_DIR-$RN" "$@" \
    >> "$T/$RN.jsonl" 2>> "$T/$RN.err" &
  RPID=$!
  for _ in $(seq 100); do
    "$CT" status --socket "$RS" >/dev/null 2>&1 && return 0
    kill -0 $RPID 2>/dev/null || { cat "$T/$RN.err" >&2; return 1; }
    sleep 0.1
  done
  fail "own agent did not come up"
}
own_agent_stop() { kill -TERM $RPID; wait $RPID || true; }

test_registry_and_attribution_survive_restart() {
  RN=r
  own_agent_start
  trap 'kill -TERM $RPID 2>/dev/null || true' EXIT
  CHANGETRACE_SOCKET=$RS "$CT" deploy start --id keep-1 --ai-tool claude-code --author alice >/dev/null
  local slot; slot=$(CHANGETRACE_SOCKET=$RS "$CT" deploy show keep-1 --json | jq -r .slot)
  local m m2; m=$(marker keep); m2=$(marker keepu)
  mkfifo "$T/k1" "$T/k2"
  # tagged processes that keep running across the restart
  CHANGETRACE_SOCKET=$RS "$CT" run --deploy keep-1 -- sh -c "read x < $T/k1; sh -c 'true $m'" &
  local p1=$!
  env CHANGETRACE_DEPLOY_ID=keep-unreg sh -c "read x < $T/k2; sh -c 'true $m2'" &
  local p2=$!
  trap "kill -TERM \$RPID $p1 $p2 2>/dev/null || true" EXIT
  sleep 0.5
  own_agent_stop
  [ -s "$T/r-store/deploys.pb" ] || fail "registry not persisted"
  own_agent_start
  # the registry survived, same slots
  local j; j=$(CHANGETRACE_SOCKET=$RS "$CT" deploy show keep-1 --json)
  assert_eq "$(jq -r .author <<<"$j")" alice
  assert_eq "$(jq -r .slot <<<"$j")" "$slot"
  assert_eq "$(CHANGETRACE_SOCKET=$RS "$CT" deploy show keep-unreg --json | jq -r .unregistered)" true
  # the running processes now fork and exec: still attributed
  echo go > "$T/k1"; echo go > "$T/k2"; wait $p1 $p2
  local deadline=$(( $(date +%s) + 10 ))
  until [ "$(jq -c "select($(exec_with "$m") and .attribution.deploy_id==\"keep-1\" and .attribution.method==\"INHERITED\")" "$T/r.jsonl" | wc -l)" -ge 1 ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "no attributed exec after restart: $(grep -c . "$T/r.jsonl") events"
    sleep 0.1
  done
  until [ "$(jq -c "select($(exec_with "$m2") and .attribution.deploy_id==\"keep-unreg\" and .attribution.unregistered==true)" "$T/r.jsonl" | wc -l)" -ge 1 ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "unregistered env id lost across restart"
    sleep 0.1
  done
  own_agent_stop
}

test_corrupt_registry_is_kept_aside() {
  RN=c
  mkdir -p "$T/c-store"
  head -c 300 /dev/urandom > "$T/c-store/deploys.pb"
  cp "$T/c-store/deploys.pb" "$T/bad.copy"
  own_agent_start
  trap 'kill -TERM $RPID 2>/dev/null || true' EXIT
  assert_contains "$(cat "$T/c.err")" "deploy registry unusable"
  local aside; aside=$(ls "$T"/c-store/deploys.pb.corrupt-* | head -n1)
  cmp -s "$aside" "$T/bad.copy" || fail "bad file not kept intact"
  assert_eq "$(CHANGETRACE_SOCKET=$RS "$CT" deploy list --json | wc -l)" 0
  CHANGETRACE_SOCKET=$RS "$CT" deploy start --id after-corrupt --author x >/dev/null
  own_agent_stop
}

test_control_socket_fuzz() {
  command -v python3 >/dev/null || skip "no python3"
  "$CT" deploy start --id fuzz-anchor --author alice >/dev/null
  cat > "$T/fuzz.py" <<'EOF'
import os, random, socket, struct, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
rnd = random.Random(int(sys.argv[3]))
def frame(b): return struct.pack(">I", len(b)) + b
def varint(n):
    out = b""
    while True:
        c = n & 0x7f; n >>= 7
        out += bytes([c | (0x80 if n else 0)])
        if not n: return out
def field(num, payload): return varint(num << 3 | 2) + varint(len(payload)) + payload
def rand_bytes(n): return bytes(rnd.getrandbits(8) for _ in range(n))
def junk_request():
    # a Request oneof with random (often invalid) nested bytes
    num = rnd.choice([1, 2, 10, 11, 12, 13, 29, 99])
    inner = rnd.choice([rand_bytes(rnd.randint(0, 300)),
                        field(1, rnd.choice([b"", b"x" * 70, b"a\nb", rand_bytes(40)])),
                        field(1, field(1, b"fz-" + rand_bytes(8)) + field(3, b"\x01\x02")),
                        field(1, b"ok-id") + b"\x10" + varint(rnd.randint(0, 2**32))])
    return frame(field(num, inner))
sent = 0
end = time.time() + seconds
while time.time() < end:
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(0.5)
        s.connect(path)
        kind = rnd.randrange(7)
        if kind == 0: s.sendall(rand_bytes(rnd.randint(1, 600)))
        elif kind == 1: s.sendall(struct.pack(">I", rnd.choice([0xffffffff, 65537, 10**9])) + rand_bytes(50))
        elif kind == 2: s.sendall(struct.pack(">I", 400) + rand_bytes(rnd.randint(0, 399)))  # truncated
        elif kind == 3: s.sendall(frame(rand_bytes(rnd.randint(0, 2000))))
        elif kind == 4: s.sendall(b"".join(junk_request() for _ in range(rnd.randint(1, 20))))
        elif kind == 5: s.sendall(frame(b""))
        else: s.sendall(junk_request()[: rnd.randint(1, 10)])
        try: s.recv(65536)
        except Exception: pass
        s.close()
        sent += 1
    except (ConnectionError, socket.timeout, OSError):
        pass
print(sent)
EOF
  python3 "$T/fuzz.py" "$CHANGETRACE_SOCKET" 6 1 > "$T/fuzz1.out" &
  local f1=$!
  python3 "$T/fuzz.py" "$CHANGETRACE_SOCKET" 6 2 > "$T/fuzz2.out" &
  local f2=$!
  # a legitimate client keeps working meanwhile
  local ok=0
  for i in $(seq 20); do
    "$CT" deploy show fuzz-anchor --json | jq -e '.author=="alice"' >/dev/null && ok=$((ok + 1))
    "$CT" status >/dev/null && ok=$((ok + 1))
    sleep 0.2
  done
  wait $f1 $f2
  assert_eq "$ok" 40 "legitimate requests during the fuzz"
  kill -0 "$AGENT_PID" || fail "agent died"
  assert_ge "$(cat "$T/fuzz1.out")" 50 "fuzz frames sent"
  local bad; bad=$("$CT" status --json | jq '.status.counters[] | select(.name=="control_bad_frames") | .value')
  assert_ge "$bad" 10 "bad frames counted"
  # state intact: the registry still loads and nothing odd registered
  "$CT" deploy show fuzz-anchor >/dev/null
  "$CT" deploy list --json | jq -r .id | while read -r id; do
    case "$id" in *[!A-Za-z0-9._:/@+-]*) fail "odd deploy id registered: $id";; esac
  done
}

# 511 agent slots: an ended deploy nobody carries is forgotten to make room.
test_slots_recycled_when_full() {
  command -v python3 >/dev/null || skip "no python3"
  RN=e
  own_agent_start
  trap 'kill -TERM $RPID 2>/dev/null || true' EXIT
  python3 - "$RS" <<'EOF'
import socket, struct, sys
def varint(n):
    out = b""
    while True:
        c = n & 0x7f; n >>= 7
        out += bytes([c | (0x80 if n else 0)])
        if not n: return out
def field(num, payload): return varint(num << 3 | 2) + varint(len(payload)) + payload
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
def call(req):
    s.sendall(struct.pack(">I", len(req)) + req)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    return s.recv(n, socket.MSG_WAITALL)
for i in range(511):
    r = call(field(10, field(1, field(1, b"fill-%d" % i))))
    assert r[:2] == b"\x08\x01", (i, r)
    r = call(field(11, field(1, b"fill-%d" % i) + b"\x10\x02"))
    assert r[:2] == b"\x08\x01", (i, r)
EOF
  CHANGETRACE_SOCKET=$RS "$CT" deploy start --id after-full --author x >/dev/null
  expect_fail 1 "no deploy fill-0" -- env CHANGETRACE_SOCKET=$RS "$CT" deploy show fill-0
  CHANGETRACE_SOCKET=$RS "$CT" deploy show fill-510 >/dev/null
  assert_eq "$(CHANGETRACE_SOCKET=$RS "$CT" deploy show after-full --json | jq -r .slot)" 1
  assert_eq "$(CHANGETRACE_SOCKET=$RS "$CT" status --json | jq '.status.counters[] | select(.name=="deploys_evicted") | .value')" 1
  own_agent_stop
}

# complete FILE: its lines but a last one still being written
complete() { head -n "$(wc -l < "$1")" "$1"; }

# A deploy claimed through the environment that attributes nothing is
# drift, but never plain drift: once the kernel's 512 slots for
# unregistered ids are used, a trusted claim marks the process, and its
# events (and its descendants') name the claimed id and why; an untrusted
# caller's claim is named on its exec.
test_env_claim_beyond_kernel_slots_is_flagged_drift() {
  RN=ks
  mkdir -p "$T/ks-w"
  # an exec rule for drift sees a marked process as drift too
  printf 'rule ks-drift-exec: drift and exec "echo ksguard*" => alert\n' > "$T/ks.policy"
  own_agent_start --watch "$T/ks-w" --policy "$T/ks.policy"
  trap 'kill -TERM $RPID 2>/dev/null || true' EXIT
  local i
  for i in $(seq 1 512); do env CHANGETRACE_DEPLOY_ID="ks-fill-$i" /bin/true; done
  local m; m=$(marker ksover)
  env CHANGETRACE_DEPLOY_ID=ks-over-the-top sh -c "echo a > $T/ks-w/one; sh -c 'echo b > $T/ks-w/two; true $m'; /bin/echo ksguard-$m >/dev/null"
  local deadline=$(( $(date +%s) + 30 ))
  until [ "$(jq -c "select(.kind==\"FILE\" and (.file.path==\"$T/ks-w/one\" or .file.path==\"$T/ks-w/two\"))" <(complete "$T/ks.jsonl") | wc -l)" -ge 2 ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "no file events"
    sleep 0.2
  done
  local f
  for f in one two; do
    local e; e=$(jq -c "select(.kind==\"FILE\" and .file.path==\"$T/ks-w/$f\")" <(complete "$T/ks.jsonl"))
    echo "$e"
    assert_eq "$(jq -r .attribution.drift <<<"$e")" true "$f: drift"
    assert_eq "$(jq -r '.attribution.deploy_id // ""' <<<"$e")" "" "$f: deploy"
    assert_eq "$(jq -r .attribution.claimed_deploy_id <<<"$e")" ks-over-the-top "$f: claimed id"
    assert_contains "$(jq -r .attribution.claim_refused <<<"$e")" "no kernel slot left"
  done
  # the claimer's exec and its child's (both sh with the marker in argv)
  assert_eq "$(jq -c "select($(exec_with "$m" sh) and .attribution.drift and .attribution.claimed_deploy_id==\"ks-over-the-top\")" <(complete "$T/ks.jsonl") | wc -l)" 2 "execs naming the claim"
  deadline=$(( $(date +%s) + 10 ))
  until [ "$(jq -c "select($(exec_with "ksguard-$m" echo))" <(complete "$T/ks.jsonl") | wc -l)" -ge 1 ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "no exec of the marked echo"
    sleep 0.1
  done
  assert_eq "$(jq -r "select($(exec_with "ksguard-$m" echo)) | .exec.guard_rule" <(complete "$T/ks.jsonl"))" ks-drift-exec "drift exec rule on a marked process"
  local c; c=$("$CT" status --socket "$RS" --json)
  [ "$(jq '.status.counters[] | select(.name=="env_id_slots_full") | .value' <<<"$c")" -ge 1 ] || fail "slots not full"
  [ "$(jq '.status.counters[] | select(.name=="env_id_claims_unnamed") | .value' <<<"$c")" -ge 1 ] || fail "claim not counted"
  # an untrusted caller's claim is ignored, and said so on its exec
  local m2; m2=$(marker ksnobody)
  "${NOBODY[@]}" env CHANGETRACE_DEPLOY_ID=ks-fill-1 sh -c "true $m2"
  deadline=$(( $(date +%s) + 10 ))
  until [ "$(jq -c "select($(exec_with "$m2" sh))" <(complete "$T/ks.jsonl") | wc -l)" -ge 1 ]; do
    [ "$(date +%s)" -lt $deadline ] || fail "no exec of nobody's claim"
    sleep 0.1
  done
  local e; e=$(jq -c "select($(exec_with "$m2" sh))" <(complete "$T/ks.jsonl"))
  assert_eq "$(jq -r .attribution.drift <<<"$e")" true
  assert_eq "$(jq -r .attribution.claimed_deploy_id <<<"$e")" ks-fill-1
  assert_contains "$(jq -r .attribution.claim_refused <<<"$e")" "neither root nor in the agent's group"
  own_agent_stop
}
