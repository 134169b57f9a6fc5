# Process lineage and wrapper attribution, on the real kernel.
P=$BUILD/tests

setup_file() {
  need_root || return 1
  # A process older than the agent: once the agent is up (not after a
  # fixed sleep: a loaded machine starts the agent slower), it execs.
  OLD_MARK=$(marker old)
  sh -c "while [ ! -e '$T/old.go' ]; do sleep 0.05; done; exec /bin/sh -c 'true $OLD_MARK; true'" &
  OLD_PID=$!
  echo "$OLD_PID $OLD_MARK" > "$T/old"
  ct_agent_start
  touch "$T/old.go"
}
teardown_file() { ct_agent_stop; }

test_probes_attached() {
  local s
  s=$("$CT" status --json)
  assert_eq "$(jq -r .agent <<<"$s")" up
  for p in ct_exec ct_fork ct_exit; do
    assert_eq "$(jq -r ".status.probes[] | select(.name==\"$p\") | .attached" <<<"$s")" true "$p attached"
  done
}

# Tagged chain of depth 6: every exec once, attributed, depth increasing.
test_tagged_deep_chain() {
  local m; m=$(marker deep)
  "$CT" run --deploy deep-1 --author alice -- "$P/ct_chain" "$m" 6
  wait_events "$(exec_with "$m" ct_chain)" 7
  sleep 0.3
  local f; f=$(exec_with "$m" ct_chain)
  assert_eq "$(count_events "$f")" 7 "each exec reported exactly once"
  assert_eq "$(count_events "$f and .attribution.deploy_id==\"deep-1\"")" 7 "all attributed"
  # the wrapper's own image is tagged 'wrapper', descendants 'inherited'
  assert_eq "$(count_events "$f and .attribution.method==\"WRAPPER\"")" 1
  assert_eq "$(count_events "$f and .attribution.method==\"INHERITED\"")" 6
  local depths; depths=$(events "$f" | jq -r '.attribution.depth // 0' | sort -n | tr '\n' ' ')
  assert_eq "$depths" "0 1 2 3 4 5 6 " "depths"
  # lineage: the deepest exec's parent chain names the earlier chain processes
  local deepest; deepest=$(events "$f and .attribution.depth==6")
  assert_ge "$(jq '[.process.lineage[] | select(.comm=="ct_chain")] | length' <<<"$deepest")" 6 "lineage chain"
  [ "$(jq -r '.process.lineage[0].exe' <<<"$deepest")" == "$P/ct_chain" ] || fail "parent exe from the cache: $(jq -c .process.lineage[0] <<<"$deepest")"
}

test_untagged_chain_is_drift() {
  local m; m=$(marker plain)
  "$P/ct_chain" "$m" 5     # 6 images: N=5..0
  wait_events "$(exec_with "$m")" 6
  sleep 0.3
  assert_eq "$(count_events "$(exec_with "$m")")" 6
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.drift==true and (.attribution.deploy_id // \"\")==\"\"")" 6 "no untagged process attributed"
}

test_threads_inherit() {
  local m; m=$(marker thr)
  "$CT" run --deploy thr-1 --unregistered -- "$P/ct_threads" "$m"
  wait_events "$(exec_with "$m-forked")" 2
  wait_events "$(exec_with "$m-thread-exec")" 1
  assert_eq "$(count_events "$(exec_with "$m-forked") and .attribution.deploy_id==\"thr-1\"")" 2
  # exec from a non-leader thread: same process, still the wrapper's tag
  local e; e=$(events "$(exec_with "$m-thread-exec")")
  assert_eq "$(jq -r .attribution.deploy_id <<<"$e")" thr-1
  assert_eq "$(jq -r .attribution.method <<<"$e")" WRAPPER
  [ "$(jq -r '.exec.old_pid' <<<"$e")" != "$(jq -r '.process.pid' <<<"$e")" ] || fail "old_pid should be the exec'ing thread"
}

test_untagged_threads_drift() {
  local m; m=$(marker thr0)
  "$P/ct_threads" "$m" || true
  wait_events "$(exec_with "$m")" 4    # ct_threads, 2 forked, 1 thread-exec
  assert_eq "$(count_events "$(exec_with "$m") and .attribution.drift==true")" 4
}

test_double_fork_daemon_keeps_attribution() {
  local m; m=$(marker dd)
  "$CT" run --deploy daemon-1 --unregistered -- "$P/ct_daemon" "$m"
  wait_events "$(exec_with "$m-daemon")" 1
  local e; e=$(events "$(exec_with "$m-daemon")")
  assert_eq "$(jq -r .attribution.deploy_id <<<"$e")" daemon-1 "re-parented daemon keeps its deploy"
  assert_eq "$(jq -r .attribution.method <<<"$e")" INHERITED
  assert_eq "$(jq -r .attribution.depth <<<"$e")" 2
  [ "$(jq -r .process.ppid <<<"$e")" != "$(jq -r .attribution.origin_pid <<<"$e")" ] || fail "daemon should be re-parented"
  # its exit is attributed too, and the task map entry goes away with it
  wait_events ".kind==\"EXIT\" and .process.pid==$(jq .process.pid <<<"$e")" 1
}

test_process_older_than_agent() {
  read -r old_pid old_mark < "$T/old"
  wait_events "$(exec_with "$old_mark")" 1 5
  local e; e=$(events "$(exec_with "$old_mark")" | head -n1)
  # the exec replaced the pre-agent sh in place; its parent is this shell
  assert_eq "$(jq -r .process.pid <<<"$e")" "$old_pid"
  assert_eq "$(jq -r .attribution.drift <<<"$e")" true
  wait "$old_pid" 2>/dev/null || true
}

test_lineage_names_ancestors_seeded_from_proc() {
  # this test's shell forked after the agent started and never exec'd:
  # the collector reads it from /proc on the first miss
  local m me myexe
  m=$(marker anc); me=$BASHPID; myexe=$(readlink /proc/$me/exe)
  sh -c "true; /bin/true $m"
  wait_events "$(exec_with "$m") and .process.comm==\"true\"" 1
  local e; e=$(events "$(exec_with "$m") and .process.comm==\"true\"")
  # lineage[0] = the sh, lineage[1] = this bash (known from the /proc seed)
  assert_eq "$(jq -r '.process.lineage[1].pid' <<<"$e")" "$me"
  assert_eq "$(jq -r '.process.lineage[1].exe' <<<"$e")" "$myexe"
}

test_exit_events_carry_code_and_signal() {
  local m; m=$(marker exit)
  sh -c "exit 7" "$m" || true
  sh -c 'kill -TERM $$' "$m" || true
  wait_events ".kind==\"EXIT\" and .exit.exit_code==7" 1
  wait_events ".kind==\"EXIT\" and .exit.signal==15" 1
}

test_status_counts_events() {
  local s; s=$("$CT" status --json)
  assert_ge "$(jq '.status.seen[] | select(.name=="exec") | .value' <<<"$s")" 10 "exec seen"
  assert_eq "$(jq '[.status.dropped[]?.value] | add // 0' <<<"$s")" 0 "nothing dropped"
}

test_text_output() {
  # the default (text) output is one line per event with the deploy
  local sock=$T/text.sock m; m=$(marker text)
  "$CT" agent --socket "$sock" --store "$T/text-store" --pin-dir "$CT_PIN_DIR-text" > "$T/text.out" 2>/dev/null &
  local pid=$!
  ct_track_pid $pid
  for _ in $(seq 50); do "$CT" status --socket "$sock" >/dev/null 2>&1 && break; sleep 0.1; done
  "$CT" run --socket "$sock" --deploy text-1 --unregistered -- /bin/true "$m"
  sleep 0.5
  kill -TERM $pid; wait $pid
  grep -F "$m" "$T/text.out" | grep -q 'EXEC .*deploy=text-1 via=wrapper' || fail "text line: $(grep -F "$m" "$T/text.out")"
}
