# What changed while the agent was down: real restarts (SIGTERM, SIGKILL),
# changes made in between, the start-up comparison with the last known
# state, and the forensic commands over what it found.

# up STORE [agent args]: an agent on $T/STORE watching only $W (and what the
# args add); returns once the start-up comparison is done
up() {
  local st=$1; shift
  ct_agent_start --store "$T/$st" --watch-only --watch "$W" "$@"
  wait_compared
}
wait_compared() {
  for _ in $(seq 600); do
    "$CT" status 2>/dev/null | grep -q 'unobserved_compare_done=1' && return 0
    sleep 0.1
  done
  fail "the start-up comparison did not finish: $("$CT" status | grep -o 'unobserved_[a-z_]*=[0-9]*' | tr '\n' ' ')"
}
killed() { kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=; }
# events, while the agent may be writing a line: what is whole so far
# (jq stops with an error at a half-written last line)
got() { events "$1" || true; }
on_path() { echo ".kind==\"FILE\" and .file.path==\"$1\""; }
# unobserved events, leaving out namespaces other tests on this host create
# and change (every named namespace is followed)
UNOB='.unobserved == true and (.kind != "NET" or .net.netns_name == "host")'
status_counter() { "$CT" status | grep -o "$1=[0-9]*" | cut -d= -f2; }
# wait until the store holds what the agent emitted so far (a kill keeps that)
wait_stored() { # STORE JQ-FILTER
  for _ in $(seq 50); do
    [ "$("$CT" query --store "$T/$1" --json 2>/dev/null | jq -c "select($2)" | wc -l)" -gt 0 ] && return 0
    sleep 0.1
  done
  fail "not in the store: $2"
}

# a deploy writes, the agent goes down (SIGTERM or SIGKILL), a hand edit, a
# delete and a create: the next start reports exactly those three
three_changes_while_down() {
  local sig=$1 st=store-three-$1 d=unob-three-$1
  W=$T/w-three-$1
  mkdir -p "$W"
  echo keep > "$W/keep.conf"
  echo old > "$W/b.conf"
  up "$st"
  assert_eq "$("$CT" status | grep -c 'last known state: first-start')" 1
  "$CT" run --deploy "$d" --author unob-tests -- sh -c "echo deployed > '$W/a.conf'"
  wait_events "$(on_path "$W/a.conf") and .attribution.deploy_id==\"$d\"" 1
  if [ "$sig" = KILL ]; then
    wait_stored "$st" ".kind==\"FILE\" and .attribution.deploy_id==\"$d\""
    killed
  else
    ct_agent_stop
  fi
  echo hand > "$W/a.conf"
  rm "$W/b.conf"
  echo new > "$W/c.conf"
  up "$st"
  assert_eq "$(count_events "$UNOB")" 3 "unobserved events: $(events "$UNOB")"
  assert_eq "$(events "$(on_path "$W/a.conf") and .unobserved" | jq -r .file.op)" WRITE
  assert_eq "$(events "$(on_path "$W/b.conf") and .unobserved" | jq -r .file.op)" UNLINK
  assert_eq "$(events "$(on_path "$W/c.conf") and .unobserved" | jq -r .file.op)" CREATE
  local e; e=$(got "$(on_path "$W/a.conf") and .unobserved")
  # nobody's: no process, no deploy, not drift; the before is the deploy's version
  assert_eq "$(jq -r '.process // "none"' <<<"$e")" none
  assert_eq "$(jq -r '.attribution.deploy_id // ""' <<<"$e")" ""
  assert_eq "$(jq -r '.attribution.drift // false' <<<"$e")" false
  assert_eq "$(jq -r .file.sha256_before <<<"$e")" "$(echo deployed | sha256sum | cut -d' ' -f1)"
  assert_eq "$(jq -r .file.sha256_after <<<"$e")" "$(echo hand | sha256sum | cut -d' ' -f1)"
  # the window: from the previous run's last stored event to this start
  local from to; from=$(jq -r .unobserved_window.from_unix_nano <<<"$e"); to=$(jq -r .unobserved_window.to_unix_nano <<<"$e")
  [ "$from" -gt 0 ] && [ "$to" -gt "$from" ] || fail "window $from..$to"
  # an AGENT event heads them: the window and what changed in it
  local g; g=$(got '.kind=="AGENT" and .agent.state=="compared"')
  assert_eq "$(jq -r .time_unix_nano <<<"$g")" "$to"
  assert_contains "$(jq -r .agent.last_state_detail <<<"$g")" \
    "$(status_counter unobserved_changes) changes made while no agent watched"
  if [ "$sig" = KILL ]; then
    assert_eq "$(jq -r '.unobserved_window.clean_stop // false' <<<"$e")" false
    assert_contains "$(jq -r .agent.last_state_detail <<<"$g")" "no stop recorded"
  else
    assert_eq "$(jq -r .unobserved_window.clean_stop <<<"$e")" true
  fi
  ct_agent_stop
  # forensics, agent stopped
  local out; out=$("$CT" blame --store "$T/$st" "$W/a.conf")
  head -1 <<<"$out" | grep -q 'WRITE.*UNOBSERVED' || fail "blame's newest entry is not the edit: $out"
  grep -m1 'FILE' <<<"$(tail -n +2 <<<"$out")" | grep -q "deploy=$d" || fail "then the deploy's: $out"
  local id; id=$(jq -r .event_id <<<"$e")
  out=$("$CT" diff --store "$T/$st" "$id")
  assert_contains "$out" "-deployed"
  assert_contains "$out" "+hand"
  assert_eq "$("$CT" query --store "$T/$st" --unobserved --kind file --json | wc -l)" 3
  out=$("$CT" timeline --store "$T/$st")
  grep -A3 'agent compared' <<<"$out" | grep -q "$W/c.conf" || fail "timeline: the down window and its changes: $out"
  # the deploy's footprint is its own change only
  assert_contains "$("$CT" deploy show "$d" --store "$T/$st")" "files changed:        1 changes to 1 paths"
}

test_unobserved_three_changes_after_sigterm() { three_changes_while_down TERM; }
test_unobserved_three_changes_after_sigkill() { three_changes_while_down KILL; }

test_unobserved_unchanged_restart_makes_no_events() {
  W=$T/w-same
  mkdir -p "$W/sub"
  echo a > "$W/a.conf"; echo b > "$W/sub/b.conf"; ln -s a.conf "$W/link"
  head -c $((2 << 20)) /dev/zero > "$W/big.img"   # past --hash-max: size, mtime, inode
  up store-same --hash-max 1
  ct_agent_stop
  up store-same --hash-max 1
  assert_eq "$(count_events "$UNOB")" 0 "$(events "$UNOB")"
  assert_eq "$(status_counter unobserved_files_compared)" 4
  # the summary counts what it heads (other tests' namespaces may have changed)
  assert_contains "$(events '.kind=="AGENT" and .agent.state=="compared"' | jq -r .agent.last_state_detail)" \
    "$(count_events '.unobserved == true') changes made while no agent watched"
  ct_agent_stop
}

# a name that is not UTF-8: events carry it repaired (raw_strings keep the
# bytes); the state keeps the bytes, so a kill and restart find it unchanged
test_unobserved_non_utf8_name_after_sigkill() {
  W=$T/w-utf8
  mkdir -p "$W"
  local f; f=$(printf '%s/caf\xff.conf' "$W")
  up store-utf8
  echo one > "$f"
  wait_events '.kind=="FILE" and (.raw_strings // [] | length) > 0' 1
  wait_stored store-utf8 '.kind=="FILE" and (.raw_strings // [] | length) > 0'
  killed
  up store-utf8
  assert_eq "$(count_events "$UNOB")" 0 "$(events "$UNOB")"
  ct_agent_stop
  echo two > "$f"
  up store-utf8
  assert_eq "$(count_events "$UNOB")" 1 "$(events "$UNOB")"
  assert_eq "$(events "$UNOB" | jq -r .file.op)" WRITE
  ct_agent_stop
}

test_unobserved_large_file_by_size_mtime_inode() {
  W=$T/w-large
  mkdir -p "$W"
  head -c $((2 << 20)) /dev/zero > "$W/big.img"
  up store-large --hash-max 1
  ct_agent_stop
  touch -m -d '2001-02-03 04:05:06' "$W/big.img"   # same bytes, same size: the mtime says
  up store-large --hash-max 1
  local e; e=$(got "$(on_path "$W/big.img") and .unobserved")
  assert_eq "$(jq -r .file.op <<<"$e")" WRITE
  assert_eq "$(jq -r '.file.sha256_after // ""' <<<"$e")" ""
  assert_eq "$(jq -r .file.mtime_unix_nano <<<"$e")" "$(( $(date -d '2001-02-03 04:05:06' +%s) * 1000000000 ))"
  ct_agent_stop
}

test_unobserved_mode_owner_and_symlink() {
  W=$T/w-meta
  mkdir -p "$W"
  echo m > "$W/m.conf"; chmod 644 "$W/m.conf"
  echo o > "$W/o.conf"
  echo s > "$W/s.conf"
  up store-meta
  ct_agent_stop
  chmod 600 "$W/m.conf"
  chown 4321:4322 "$W/o.conf"
  rm "$W/s.conf"; ln -s /etc/hostname "$W/s.conf"
  up store-meta
  assert_eq "$(count_events "$UNOB")" 3 "$(events "$UNOB")"
  local e
  e=$(got "$(on_path "$W/m.conf") and .unobserved")
  assert_eq "$(jq -r .file.op <<<"$e")" CHMOD
  assert_eq "$(jq -r '.file.mode % 4096' <<<"$e")" $((8#600))
  assert_eq "$(jq -r '.file.mode_before % 4096' <<<"$e")" $((8#644))
  e=$(got "$(on_path "$W/o.conf") and .unobserved")
  assert_eq "$(jq -r .file.op <<<"$e")" CHOWN
  assert_eq "$(jq -r '"\(.file.uid):\(.file.gid) \(.file.uid_before // 0)"' <<<"$e")" "4321:4322 0"
  e=$(got "$(on_path "$W/s.conf") and .unobserved")
  assert_eq "$(jq -r .file.op <<<"$e")" SYMLINK
  assert_eq "$(jq -r .file.old_path <<<"$e")" /etc/hostname
  assert_eq "$(jq -r '(.file.mode_before / 4096 | floor)' <<<"$e")" 8     # was a regular file
  assert_eq "$(jq -r '(.file.mode / 4096 | floor)' <<<"$e")" 10           # is a symlink
  # the text says it too
  "$CT" query --store "$T/store-meta" --unobserved | grep -F "$W/m.conf" | grep -q 'mode=0644->0600' ||
    fail "text: $("$CT" query --store "$T/store-meta" --unobserved)"
  ct_agent_stop
}

test_unobserved_first_start_and_new_watch_are_baselines() {
  W=$T/w-base
  local w2=$T/w-base2
  mkdir -p "$W" "$w2"
  echo 1 > "$W/one.conf"
  up store-base
  assert_eq "$(count_events '.unobserved == true or .agent.state=="compared"')" 0
  assert_eq "$(events '.kind=="AGENT" and .agent.state=="started"' | jq -r .agent.last_state)" first-start
  ct_agent_stop
  echo 2 > "$w2/two.conf"
  up store-base --watch "$w2"          # a path newly watched: its files are not "created"
  assert_eq "$(count_events "$UNOB")" 0 "$(events "$UNOB")"
  ct_agent_stop
  echo 3 > "$w2/two.conf"
  up store-base --watch "$w2"          # ... from now on they are followed
  assert_eq "$(count_events "$UNOB")" 1 "$(events "$UNOB")"
  assert_eq "$(events "$(on_path "$w2/two.conf") and .unobserved" | jq -r .file.op)" WRITE
  ct_agent_stop
}

test_unobserved_store_wiped_is_said_plainly() {
  W=$T/w-wipe
  mkdir -p "$W"
  echo x > "$W/x.conf"
  up store-wipe
  ct_agent_stop
  rm -rf "$T/store-wipe"
  echo y > "$W/x.conf"
  up store-wipe
  grep -q 'STORE WIPED: the store at .*store-wipe was wiped' "$T/agent.err" || fail "agent log: $(cat "$T/agent.err")"
  "$CT" status | grep -q '^last known state: STORE WIPED store-wiped: ' || fail "status: $("$CT" status | head -3)"
  assert_eq "$(count_events '.unobserved == true')" 0
  ct_agent_stop
  # under a hardened service the crumb beside the store cannot be written:
  # the pin dir remembers the store too
  rm -rf "$T/store-wipe" "$T/.store-wipe.last-state"
  up store-wipe
  grep -q 'STORE WIPED: the store at .*store-wipe was wiped' "$T/agent.err" || fail "agent log (pin dir): $(cat "$T/agent.err")"
  ct_agent_stop
  # another store directory with the same pin dir is a first start, no wipe
  up store-wipe-other
  "$CT" status | grep -q '^last known state: first-start' || fail "status: $("$CT" status | head -3)"
  ct_agent_stop
}

# A file changed live while the comparison runs is reported once, live. The
# comparison is made long, not by sleeping: a 2 GiB sparse file (digested,
# --hash-max 4096) is between the two roots in the walk, which goes last
# configured first: x2 is read before it, x1 after it.
test_unobserved_live_change_during_comparison_reported_once() {
  W=$T/w-live
  local r1=$T/w-live1 r2=$T/w-live2
  mkdir -p "$W" "$r1" "$r2"
  truncate -s 2G "$W/sparse.img"
  echo x1 > "$r1/x1.conf"; echo x2 > "$r2/x2.conf"; echo z > "$r1/z.conf"
  ct_agent_start --store "$T/store-live" --watch-only --watch "$r1" --watch "$W" --watch "$r2" --hash-max 4096
  wait_compared
  ct_agent_stop
  # changed while down: all three
  echo x1-down > "$r1/x1.conf"; echo x2-down > "$r2/x2.conf"; echo z-down > "$r1/z.conf"
  ct_agent_start --store "$T/store-live" --watch-only --watch "$r1" --watch "$W" --watch "$r2" --hash-max 4096
  # ... and x1, x2 again, live, while the comparison runs
  echo x1-live > "$r1/x1.conf"; echo x2-live > "$r2/x2.conf"
  assert_eq "$(status_counter unobserved_compare_done)" 0 "the live writes came after the comparison"
  wait_compared
  wait_events "$(on_path "$r1/x1.conf")" 1
  wait_events "$(on_path "$r2/x2.conf")" 1
  sleep 0.5   # nothing more is coming for them
  for f in "$r1/x1.conf" "$r2/x2.conf"; do
    assert_eq "$(count_events "$(on_path "$f")")" 1 "$f: $(events "$(on_path "$f")")"
    assert_eq "$(events "$(on_path "$f")" | jq -r '.unobserved // false')" false
    assert_eq "$(events "$(on_path "$f")" | jq -r '.process.comm')" bash
  done
  assert_eq "$(events "$(on_path "$r1/z.conf")" | jq -r '.unobserved')" true
  assert_eq "$(status_counter unobserved_superseded)" 2
  ct_agent_stop
  # and the state took the live versions: a restart finds nothing
  ct_agent_start --store "$T/store-live" --watch-only --watch "$r1" --watch "$W" --watch "$r2" --hash-max 4096
  wait_compared
  assert_eq "$(count_events "$UNOB")" 0 "$(events "$UNOB")"
  ct_agent_stop
  rm -f "$W/sparse.img"
}

test_unobserved_nft_rule_added_in_a_test_netns() {
  command -v nft >/dev/null && command -v ip >/dev/null || skip "no nft/ip"
  local ns=ct-unob-$$-$RANDOM
  ip netns add "$ns" || fail "ip netns add"
  ip netns exec "$ns" nft add table inet ctunob
  ip netns exec "$ns" nft add chain inet ctunob input '{ type filter hook input priority 0; policy accept; }'
  W=$T/w-net
  mkdir -p "$W"
  up store-net
  ct_agent_stop
  ip netns exec "$ns" nft add rule inet ctunob input tcp dport 2323 accept
  up store-net
  local e; e=$(got ".unobserved == true and .kind==\"NET\" and .net.netns_name==\"$ns\"")
  ip netns del "$ns"
  assert_eq "$(wc -l <<<"$e")" 1 "$e"
  assert_eq "$(jq -r '"\(.net.op) \(.net.object_type) \(.net.family) \(.net.table)"' <<<"$e")" "REPLACE table inet ctunob"
  assert_contains "$(jq -r .net.ruleset_diff <<<"$e")" "+		tcp dport 2323 accept"
  assert_contains "$(jq -r .net.ruleset_after <<<"$e")" "tcp dport 2323 accept"
  [[ "$(jq -r .net.ruleset_before <<<"$e")" != *"dport 2323"* ]] || fail "before has the rule"
  assert_eq "$(jq -r '.process // "none"' <<<"$e")" none
  ct_agent_stop
  "$CT" query --store "$T/store-net" --unobserved --kind net | grep -F "$ns" | grep -q UNOBSERVED || fail "text"
}

# iptables-legacy tables: a live change is followed across a kill (the
# event carries its table, the state takes it in), one made while down is
# found at the next start
test_unobserved_iptables_legacy_rule_in_a_test_netns() {
  command -v iptables-legacy >/dev/null && command -v ip >/dev/null || skip "no iptables-legacy/ip"
  local ns=ct-unob-$$-l$RANDOM
  ip netns add "$ns" || fail "ip netns add"
  ip netns exec "$ns" iptables-legacy -N CTUNOB
  W=$T/w-legacy
  mkdir -p "$W"
  up store-legacy
  ip netns exec "$ns" iptables-legacy -A CTUNOB -p tcp --dport 2525 -j ACCEPT
  local live=".kind==\"NET\" and .net.subsystem==\"IPTABLES_LEGACY\" and .net.netns_name==\"$ns\""
  wait_events "$live and (.net.ruleset_after // \"\" | contains(\"2525\"))" 1
  wait_stored store-legacy "$live"
  killed
  up store-legacy
  local un=".unobserved == true and .net.netns_name==\"$ns\""
  assert_eq "$(count_events "$un")" 0 "the live change again: $(events "$un")"
  ct_agent_stop
  ip netns exec "$ns" iptables-legacy -A INPUT -p tcp --dport 2424 -j ACCEPT
  up store-legacy
  local e; e=$(got "$un")
  ip netns del "$ns"
  assert_eq "$(wc -l <<<"$e")" 1 "$e"
  assert_eq "$(jq -r '"\(.net.subsystem) \(.net.op) \(.net.family) \(.net.table)"' <<<"$e")" "IPTABLES_LEGACY REPLACE ip filter"
  assert_contains "$(jq -r .net.ruleset_diff <<<"$e")" "+-A INPUT -p tcp -m tcp --dport 2424 -j ACCEPT"
  ct_agent_stop
}

# /proc/sys values: the agent in a test netns reads that namespace's values
test_unobserved_sysctl_value_in_a_test_netns() {
  command -v ip >/dev/null || skip "no ip"
  local ns=ct-unob-$$-s$RANDOM
  ip netns add "$ns" || fail "ip netns add"
  W=/proc/sys/net/ipv4/ip_forward
  ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
  need_root
  ip netns exec "$ns" "$CT" agent --json --store "$T/store-sysctl" --pin-dir "$CT_PIN_DIR" \
    --watch-only --watch "$W" > "$T/events.jsonl" 2> "$T/agent.err" &
  AGENT_PID=$!; ct_track_pid "$AGENT_PID"
  wait_compared
  ct_agent_stop
  ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  ip netns exec "$ns" "$CT" agent --json --store "$T/store-sysctl" --pin-dir "$CT_PIN_DIR" \
    --watch-only --watch "$W" > "$T/events.jsonl" 2> "$T/agent.err" &
  AGENT_PID=$!; ct_track_pid "$AGENT_PID"
  wait_compared
  ct_agent_stop
  ip netns del "$ns"
  local e; e=$(got "$(on_path "$W") and .unobserved")
  assert_eq "$(jq -r '"\(.file.op) \(.file.sysctl_name) \(.file.sysctl_before)->\(.file.sysctl_after)"' <<<"$e")" "SYSCTL net.ipv4.ip_forward 0->1"
  "$CT" diff --store "$T/store-sysctl" "$(jq -r .event_id <<<"$e")" | grep -q '^+1$' || fail "diff"
}

test_unobserved_guard_condition() {
  W=$T/w-guard
  mkdir -p "$W"
  echo a > "$W/g.conf"
  printf 'protect %s\nrule down: unobserved and protected => alert\nrule nobody-drift: drift and protected => halt\n' "$W" > "$T/unob.policy"
  up store-guard --policy "$T/unob.policy"
  ct_agent_stop
  echo b > "$W/g.conf"
  up store-guard --policy "$T/unob.policy"
  local id; id=$(got "$(on_path "$W/g.conf") and .unobserved" | jq -r .event_id)
  local v; v=$(got ".kind==\"GUARD\" and .guard.change_event_id==\"$id\"")
  assert_eq "$(jq -r .guard.rule <<<"$v")" down "verdicts: $v"
  assert_eq "$(jq -r '.guard.enforced // false' <<<"$v")" false
  assert_contains "$(jq -r .guard.reason <<<"$v")" "made while no agent watched"
  ct_agent_stop
}
