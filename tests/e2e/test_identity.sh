# Every change event carries the identity (pid, comm, exe, argv, exec id)
# of the image that made it, taken at exec time: after an exec in the same
# pid (ip netns exec NS nft ...), for processes gone before the collector
# looked, and for DEPLOY events, the process that asked. Network changes
# run only in a namespace this file creates.

setup_file() {
  need_root || return 1
  command -v nft >/dev/null && command -v iptables >/dev/null || return 1
  local ns=ct-ident-$$
  ip netns add "$ns" || return 1
  echo "$ns" > "$T/ns"
  ip -n "$ns" link set lo up
}

teardown_file() {
  [ -s "$T/ns" ] && ip netns del "$(cat "$T/ns")" 2>/dev/null
  return 0
}

ns_inode() { stat -L -c %i "/run/netns/$(cat "$T/ns")"; }

# The event's argv names the program its comm does (comm is the first 15
# bytes of the executed file's name): not an image from before an exec.
consistent='((.process.argv // [])[0] // "" | split("/") | last | .[0:15]) == .process.comm'

test_exec_in_the_same_pid_gives_the_new_image() {
  local NS; NS=$(cat "$T/ns")
  local m; m=$(marker t); m=${m//-/_}
  ct_agent_start
  ip netns exec "$NS" nft add table inet "$m"
  wait_events ".kind==\"NET\" and .net.table==\"$m\"" 1 10
  local e; e=$(events ".kind==\"NET\" and .net.table==\"$m\"" | head -n1)
  echo "$e" | jq -c '.process | {pid, comm, exe, argv, exec_id}'
  assert_eq "$(jq -r .process.comm <<<"$e")" nft
  assert_eq "$(jq -r '.process.exe | split("/") | last' <<<"$e")" nft "exe of the image that made it"
  assert_eq "$(jq -c .process.argv <<<"$e")" "[\"nft\",\"add\",\"table\",\"inet\",\"$m\"]" "argv at exec time"
  # the same image as nft's EXEC event: same pid, same exec id
  local x; x=$(events ".kind==\"EXEC\" and .process.comm==\"nft\" and (.process.argv | index(\"$m\"))" | head -n1)
  assert_eq "$(jq .process.pid <<<"$e")" "$(jq .process.pid <<<"$x")" "pid"
  assert_eq "$(jq .process.exec_id <<<"$e")" "$(jq .process.exec_id <<<"$x")" "exec id"
  [ "$(jq .process.exec_id <<<"$e")" != null ] || fail "no exec id"
  ip netns exec "$NS" nft delete table inet "$m"
}

# 200 short commands, each gone long before its record is decoded (the
# agent is frozen meanwhile): every NET and FILE event has the argv of
# its own image.
test_argv_on_every_change_of_a_burst_of_short_commands() {
  local NS W=$T/burst; NS=$(cat "$T/ns")
  mkdir -p "$W"
  ct_agent_start --watch "$W"
  local ino; ino=$(ns_inode)
  kill -STOP "$AGENT_PID"
  trap 'kill -CONT $AGENT_PID 2>/dev/null' EXIT
  for i in $(seq 1 50); do
    ip -n "$NS" link add "a$i" type veth peer name "b$i"
    ip -n "$NS" addr add "10.77.$i.1/24" dev "a$i"
    ip netns exec "$NS" iptables -A INPUT -p tcp --dport $((2000 + i)) -j DROP
    /bin/cp /etc/hostname "$W/f$i"
  done
  kill -CONT "$AGENT_PID"
  local want=200
  wait_events "(.kind==\"NET\" and .net.netns_inode==$ino) or (.kind==\"FILE\" and (.file.path | startswith(\"$W/\")))" 150 30
  sleep 2
  local sel="(.kind==\"NET\" and .net.netns_inode==$ino) or (.kind==\"FILE\" and (.file.path | startswith(\"$W/\")))"
  local n bad
  n=$(count_events "$sel")
  bad=$(events "($sel) and ((.process.argv // []) | length == 0 or ($consistent | not))")
  echo "change events from the burst: $n; status: $("$CT" status --json | jq -c '[.status.counters[] | select(.name | test("image_|catch_ups|proc_cache_retired")) | {(.name): .value}] | add')"
  [ -z "$bad" ] || { echo "$bad" | head -n 5 | jq -c '{kind, comm: .process.comm, argv: .process.argv, exe: .process.exe}'; fail "$(wc -l <<<"$bad") events without their own argv"; }
  assert_ge "$n" "$want" "every command made a change event"
  # each command's argv is its own: the file events name their target
  for i in 1 25 50; do
    [ "$(count_events ".kind==\"FILE\" and .file.path==\"$W/f$i\" and (.process.argv | index(\"$W/f$i\"))")" -ge 1 ] ||
      fail "cp f$i without its argv"
  done
  ip netns exec "$NS" iptables -F INPUT
}

# A DEPLOY end names the process that ended the deploy, not the one
# that started it.
test_deploy_end_names_the_process_that_ended_it() {
  local id; id=ident-$RANDOM
  ct_agent_start
  "$CT" deploy start --id "$id" --author alice >/dev/null
  "$CT" deploy end --id "$id" --status succeeded >/dev/null
  wait_events ".kind==\"DEPLOY\" and .deploy.action==\"END\" and .deploy.deploy.id==\"$id\"" 1 10
  local s e x
  s=$(events ".kind==\"DEPLOY\" and .deploy.action==\"START\" and .deploy.deploy.id==\"$id\"" | head -n1)
  e=$(events ".kind==\"DEPLOY\" and .deploy.action==\"END\" and .deploy.deploy.id==\"$id\"" | head -n1)
  x=$(events ".kind==\"EXEC\" and (.process.argv // [] | index(\"end\")) and (.process.argv | index(\"$id\"))" | head -n1)
  echo "$e" | jq -c .process
  [ "$(jq .process.pid <<<"$s")" != "$(jq .process.pid <<<"$e")" ] || fail "END carries the starter's pid"
  assert_eq "$(jq .process.pid <<<"$e")" "$(jq .process.pid <<<"$x")" "END's pid is the deploy end command's"
  assert_eq "$(jq .process.exec_id <<<"$e")" "$(jq .process.exec_id <<<"$x")" "and its exec id"
  assert_eq "$(jq -c .process.argv <<<"$e")" "$(jq -c .process.argv <<<"$x")" "and its argv"
}
