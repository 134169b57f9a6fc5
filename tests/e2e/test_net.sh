# Network-policy changes, on the real kernel, only inside network
# namespaces this file creates (and deletes in teardown_file).
P=$BUILD/tests

setup_file() {
  need_root || return 1
  command -v nft >/dev/null && command -v ip >/dev/null || return 1
  NS=ct-test-$$-a
  ip netns add "$NS" || return 1
  echo "$NS" > "$T/ns"
  # before the agent starts, so it knows them as "before": legacy tables
  # (a first read creates them) and a sysctl value unlike the host's
  ip netns exec "$NS" iptables-legacy -L >/dev/null 2>&1 || true
  ip netns exec "$NS" ip6tables-legacy -L >/dev/null 2>&1 || true
  ip netns exec "$NS" sysctl -qw net.ipv4.ip_default_ttl=77 || return 1
  ct_agent_start
}

teardown_file() {
  ct_agent_stop
  [ -s "$T/ns" ] && ip netns del "$(cat "$T/ns")" 2>/dev/null
  for n in $(cat "$T/ns.extra" 2>/dev/null); do ip netns del "$n" 2>/dev/null; done
  return 0
}

ns() { cat "$T/ns"; }
ns_inode() { stat -L -c %i "/run/netns/$(ns)"; }
# in NS as deploy D: nsx D cmd...
nsx() { local d=$1; shift; "$CT" run --deploy "$d" --author net-tests -- ip netns exec "$(ns)" "$@"; }
net_of() { echo ".kind==\"NET\" and .attribution.deploy_id==\"$1\""; }

# every NET event of deploy D is in the test namespace and named
assert_all_in_ns() {
  local f; f=$(net_of "$1")
  assert_eq "$(count_events "$f and .net.netns_inode!=$(ns_inode)")" 0 "events outside the test netns"
  assert_eq "$(count_events "$f and .net.netns_name!=\"$(ns)\"")" 0 "netns name"
}

test_net_probes_attached() {
  local s; s=$("$CT" status --json)
  for p in ct_net_sendmsg_exit ct_net_sendto_exit ct_net_setsockopt_exit ct_net_bpf_exit; do
    assert_eq "$(jq -r ".status.probes[] | select(.name==\"$p\") | .attached" <<<"$s")" true "$p attached"
  done
}

test_nft_table_chain_rule_setelem() {
  local d=nft-1 f h
  nsx $d nft add table inet ct1
  nsx $d nft add chain inet ct1 in '{ type filter hook input priority 0; policy accept; }'
  nsx $d nft add rule inet ct1 in tcp dport 2222 accept
  nsx $d nft add set inet ct1 allow '{ type ipv4_addr; }'
  nsx $d nft add element inet ct1 allow '{ 192.0.2.1, 192.0.2.2 }'
  nsx $d nft delete element inet ct1 allow '{ 192.0.2.1 }'
  h=$(ip netns exec "$(ns)" nft -a list chain inet ct1 in | sed -n 's/.*dport 2222 accept # handle \([0-9]*\).*/\1/p')
  [ -n "$h" ] || fail "no rule handle"
  nsx $d nft delete rule inet ct1 in handle "$h"
  nsx $d nft delete chain inet ct1 in
  nsx $d nft delete table inet ct1
  f=$(net_of $d)
  wait_events "$f" 9
  sleep 0.3
  assert_eq "$(count_events "$f")" 9 "one event per change"
  assert_eq "$(count_events "$f and .net.subsystem==\"NFTABLES\" and .net.family==\"inet\" and .net.table==\"ct1\"")" 9
  assert_eq "$(count_events "$f and .net.object_type==\"table\" and .net.op==\"ADD\"")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"chain\" and .net.chain==\"in\" and .net.op==\"ADD\"")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"rule\" and .net.chain==\"in\" and .net.op==\"ADD\"")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"set\" and .net.set==\"allow\"")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"setelem\" and .net.op==\"ADD\" and (.net.detail|contains(\"2 elements\"))")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"setelem\" and .net.op==\"DELETE\"")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"rule\" and .net.op==\"DELETE\" and (.net.handle|tostring)==\"$h\"")" 1
  assert_eq "$(count_events "$f and .net.object_type==\"table\" and .net.op==\"DELETE\"")" 1
  assert_eq "$(count_events "$f and .net.acceptance==\"no-error\"")" 9 "nft batches: no error queued"
  assert_eq "$(count_events "$f and .process.comm==\"nft\"")" 9
  assert_all_in_ns $d
  # the ruleset before/after, taken in the namespace: the rule add shows it
  local e; e=$(events "$f and .net.object_type==\"rule\" and .net.op==\"ADD\"")
  assert_contains "$(jq -r .net.ruleset_diff <<<"$e")" "+		tcp dport 2222 accept"
  assert_contains "$(jq -r .net.ruleset_after <<<"$e")" "tcp dport 2222 accept"
  [[ "$(jq -r '.net.ruleset_before // ""' <<<"$e")" != *"dport 2222"* ]] || fail "before has the rule"
  assert_contains "$(jq -r .net.summary <<<"$e")" "nft add rule inet ct1 in tcp dport 2222 accept"
  assert_eq "$(jq -r .net.rule <<<"$e")" "tcp dport 2222 accept"
  # the delete names the rule by its handle and, from the diff, its text
  e=$(events "$f and .net.object_type==\"rule\" and .net.op==\"DELETE\"")
  assert_eq "$(jq -r .net.rule <<<"$e")" "tcp dport 2222 accept"
  assert_eq "$(count_events "$f and .net.ruleset_inexact")" 0 "one command at a time: read right after each"
  # the table's first add has a before too (the namespace was primed)
  e=$(events "$f and .net.object_type==\"table\" and .net.op==\"ADD\"")
  assert_contains "$(jq -r .net.ruleset_diff <<<"$e")" "+table inet ct1 {"
}

test_nft_batch_file_many_changes() {
  local d=nftb-1 f=$T/batch.nft
  {
    echo "add table ip ctb"
    echo "add chain ip ctb fw { type filter hook forward priority 0; }"
    for i in $(seq 1 30); do echo "add rule ip ctb fw tcp dport $((10000 + i)) drop"; done
    echo "add set ip ctb s { type ipv4_addr; }"
    echo "add element ip ctb s { 198.51.100.1, 198.51.100.2, 198.51.100.3 }"
  } > "$f"
  nsx $d nft -f "$f"
  wait_events "$(net_of $d)" 34
  sleep 0.3
  assert_eq "$(count_events "$(net_of $d)")" 34 "each change of the batch is an event"
  assert_eq "$(count_events "$(net_of $d) and .net.object_type==\"rule\" and .net.table==\"ctb\" and .net.chain==\"fw\"")" 30
  assert_eq "$(count_events "$(net_of $d) and .net.batch_count==34")" 34
  assert_eq "$(events "$(net_of $d)" | jq -s 'map(.net.batch_index // 0) | sort | . == [range(0;34)]')" true "batch indexes"
  # the ruleset travels once per request
  assert_eq "$(count_events "$(net_of $d) and (.net.ruleset_after // \"\") != \"\"")" 1
  assert_all_in_ns $d
  ip netns exec "$(ns)" nft delete table ip ctb
}

test_rejected_requests_are_not_changes() {
  local d=rej-1 before after
  before=$("$CT" status --json | jq '.status.counters[] | select(.name=="net_rejected") | .value // 0')
  nsx $d nft delete table inet ct-nonexistent 2>/dev/null && fail "nft should fail"
  nsx $d nft add rule inet ct-nonexistent c tcp dport 1 accept 2>/dev/null && fail "nft should fail"
  nsx $d ip route del 203.0.113.0/24 2>/dev/null && fail "ip route del should fail"
  nsx $d ip link del ct-missing0 2>/dev/null && fail "ip link del should fail"
  # a marker to know the agent has processed everything before it
  nsx $d nft add table inet ctrej
  wait_events "$(net_of $d)" 1
  sleep 0.3
  assert_eq "$(count_events "$(net_of $d)")" 1 "only the accepted request is a change"
  assert_eq "$(events "$(net_of $d)" | jq -r .net.table)" ctrej
  after=$("$CT" status --json | jq '.status.counters[] | select(.name=="net_rejected") | .value // 0')
  assert_ge "$after" $((before + 3)) "rejected requests are counted"
  ip netns exec "$(ns)" nft delete table inet ctrej
}

test_read_only_commands_produce_nothing() {
  local d=ro-1
  ip netns exec "$(ns)" nft add table inet ctro
  nsx $d nft list ruleset >/dev/null
  nsx $d nft list tables >/dev/null
  nsx $d ip route show >/dev/null
  nsx $d ip -6 route show >/dev/null
  nsx $d ip link show >/dev/null
  nsx $d ip addr show >/dev/null
  nsx $d ip rule show >/dev/null
  nsx $d ip xfrm policy show >/dev/null
  nsx $d tc qdisc show >/dev/null
  nsx $d ip neigh show >/dev/null
  # marker
  nsx $d nft delete table inet ctro
  wait_events "$(net_of $d)" 1
  sleep 0.3
  assert_eq "$(count_events "$(net_of $d)")" 1 "only the delete"
  assert_eq "$(events "$(net_of $d)" | jq -r .net.op)" DELETE
}

test_ip_link_addr_route() {
  local d=ip-1 f
  nsx $d ip link add ctv0 type veth peer name ctv1
  nsx $d ip link set ctv0 up
  nsx $d ip link set ctv0 mtu 1400
  nsx $d ip addr add 192.0.2.10/24 dev ctv0
  nsx $d ip route add 198.51.100.0/24 via 192.0.2.1
  nsx $d ip route add default via 192.0.2.1 table 100
  nsx $d ip rule add from 192.0.2.0/24 lookup 100
  nsx $d ip route del 198.51.100.0/24 via 192.0.2.1
  nsx $d ip link del ctv0
  f=$(net_of $d)
  wait_events "$f" 9
  sleep 0.3
  assert_eq "$(count_events "$f")" 9
  assert_eq "$(count_events "$f and .net.subsystem==\"LINK\" and .net.op==\"ADD\" and .net.device==\"ctv0\" and (.net.detail|contains(\"kind veth\"))")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"LINK\" and .net.op==\"SET\" and .net.device==\"ctv0\" and .net.detail==\"up\"")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"LINK\" and (.net.detail|contains(\"mtu 1400\"))")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"ADDRESS\" and .net.destination==\"192.0.2.10/24\" and .net.device==\"ctv0\"")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"ROUTE\" and .net.op==\"ADD\" and .net.destination==\"198.51.100.0/24\" and .net.gateway==\"192.0.2.1\"")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"ROUTE\" and .net.destination==\"default\" and .net.table==\"100\"")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"RULE\" and .net.op==\"ADD\" and .net.table==\"100\"")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"ROUTE\" and .net.op==\"DELETE\"")" 1
  assert_eq "$(count_events "$f and .net.subsystem==\"LINK\" and .net.op==\"DELETE\"")" 1
  assert_eq "$(count_events "$f and .net.acceptance==\"acked\"")" 9 "ip asks for acks"
  assert_all_in_ns $d
  # the acting process and its lineage
  local e; e=$(events "$f and .net.subsystem==\"ADDRESS\"")
  assert_eq "$(jq -r .process.comm <<<"$e")" ip
  assert_ge "$(jq '.process.lineage | length' <<<"$e")" 1 "lineage"
}

test_tc_qdisc() {
  local d=tc-1
  ip -n "$(ns)" link add ctq0 type veth peer name ctq1
  nsx $d tc qdisc add dev ctq0 root handle 1: htb default 10
  nsx $d tc qdisc del dev ctq0 root
  wait_events "$(net_of $d)" 2
  assert_eq "$(count_events "$(net_of $d) and .net.subsystem==\"TC\" and .net.object_type==\"qdisc\" and .net.op==\"ADD\" and .net.device==\"ctq0\" and (.net.detail|contains(\"kind htb\"))")" 1
  assert_eq "$(count_events "$(net_of $d) and .net.object_type==\"qdisc\" and .net.op==\"DELETE\"")" 1
  assert_all_in_ns $d
  ip -n "$(ns)" link del ctq0
}

test_xfrm_policy() {
  local d=xfrm-1
  nsx $d ip xfrm policy add src 10.0.0.0/24 dst 10.1.0.0/24 dir out action allow
  nsx $d ip xfrm policy del src 10.0.0.0/24 dst 10.1.0.0/24 dir out
  wait_events "$(net_of $d)" 2
  assert_eq "$(count_events "$(net_of $d) and .net.subsystem==\"XFRM\" and .net.object_type==\"policy\" and .net.op==\"ADD\" and .net.destination==\"10.1.0.0/24\" and (.net.detail|contains(\"dir out\"))")" 1
  assert_eq "$(count_events "$(net_of $d) and .net.object_type==\"policy\" and .net.op==\"DELETE\"")" 1
  assert_all_in_ns $d
}

test_iptables_nft() {
  command -v iptables-nft >/dev/null || skip "no iptables-nft"
  local d=iptn-1
  nsx $d iptables-nft -A INPUT -p tcp --dport 8081 -j ACCEPT
  nsx $d iptables-nft -D INPUT -p tcp --dport 8081 -j ACCEPT
  wait_events "$(net_of $d) and .net.object_type==\"rule\"" 2
  assert_eq "$(count_events "$(net_of $d) and .net.object_type==\"rule\" and .net.op==\"ADD\" and .net.family==\"ip\" and .net.table==\"filter\" and .net.chain==\"INPUT\"")" 1
  assert_eq "$(count_events "$(net_of $d) and .net.object_type==\"rule\" and .net.op==\"DELETE\" and .net.chain==\"INPUT\"")" 1
  # the ruleset diff travels on the request's first object
  assert_contains "$(events "$(net_of $d)" | jq -r '.net.ruleset_diff // ""')" "+		tcp dport 8081"
  assert_all_in_ns $d
  ip netns exec "$(ns)" iptables-nft -F 2>/dev/null || true
}

# Legacy iptables: every change carries its table before and after, in
# iptables-save form, read in the namespace; the diff says what it did.
test_iptables_legacy() {
  [ -x /usr/sbin/iptables-legacy ] || skip "no iptables-legacy"
  ip netns exec "$(ns)" iptables-legacy -L >/dev/null 2>&1 || skip "ip_tables not available in this kernel"
  local d=iptl-1 f e add='-A INPUT -p tcp -m tcp --dport 8082 -j ACCEPT'
  nsx $d iptables-legacy -A INPUT -p tcp --dport 8082 -j ACCEPT
  nsx $d iptables-legacy -D INPUT -p tcp --dport 8082 -j ACCEPT
  nsx $d iptables-legacy -A INPUT -p tcp --dport 8083 -j DROP
  nsx $d iptables-legacy -A INPUT -p udp --dport 8084 -j DROP
  nsx $d iptables-legacy -F INPUT
  nsx $d ip6tables-legacy -A INPUT -p tcp --dport 8085 -j ACCEPT
  # a table made by this command (its first read creates it): from nothing
  nsx $d iptables-legacy -t mangle -A OUTPUT -p tcp --dport 8086 -j ACCEPT
  f="$(net_of $d) and .net.subsystem==\"IPTABLES_LEGACY\""
  wait_events "$f" 7
  sleep 0.3
  assert_eq "$(count_events "$f")" 7
  assert_eq "$(count_events "$f and .net.acceptance==\"syscall\" and (.net.ruleset_after // \"\") != \"\"")" 7
  assert_eq "$(count_events "$f and .net.ruleset_inexact")" 0 "one command at a time: read right after each"
  # the add: before without the rule, after with it, the diff, the rule
  e=$(events "$f and .net.op==\"ADD\" and .net.family==\"ip\" and .net.table==\"filter\"" | head -n1)
  assert_eq "$(jq -r '[.net.object_type, .net.table, .net.chain, .net.rule] | join("|")' <<<"$e")" "rule|filter|INPUT|$add"
  assert_contains "$(jq -r .net.ruleset_before <<<"$e")" ":INPUT ACCEPT"    # iptables-save form
  [[ "$(jq -r .net.ruleset_before <<<"$e")" != *"--dport 8082"* ]] || fail "before has the rule"
  assert_contains "$(jq -r .net.ruleset_after <<<"$e")" "$add"
  assert_eq "$(jq -r .net.ruleset_diff <<<"$e")" "+$add"
  assert_contains "$(jq -r .net.summary <<<"$e")" "iptables-legacy add rule ip filter INPUT $add"
  # the delete: the other way round
  e=$(events "$f and .net.op==\"DELETE\"")
  assert_eq "$(jq -r .net.rule <<<"$e")" "$add"
  assert_contains "$(jq -r .net.ruleset_before <<<"$e")" "$add"
  [[ "$(jq -r .net.ruleset_after <<<"$e")" != *"--dport 8082"* ]] || fail "after has the rule"
  assert_eq "$(jq -r .net.ruleset_diff <<<"$e")" "-$add"
  # the flush: both rules before, none after
  e=$(events "$f and .net.op==\"FLUSH\"")
  assert_eq "$(jq -r '[.net.object_type, .net.chain] | join("|")' <<<"$e")" "chain|INPUT"
  assert_contains "$(jq -r .net.ruleset_before <<<"$e")" "-A INPUT -p tcp -m tcp --dport 8083 -j DROP"
  assert_contains "$(jq -r .net.ruleset_before <<<"$e")" "-A INPUT -p udp -m udp --dport 8084 -j DROP"
  [[ "$(jq -r .net.ruleset_after <<<"$e")" != *"-A INPUT"* ]] || fail "rules after the flush"
  assert_eq "$(jq -r .net.ruleset_diff <<<"$e" | grep -v '^$' | sort | tr '\n' '|')" \
    "--A INPUT -p tcp -m tcp --dport 8083 -j DROP|--A INPUT -p udp -m udp --dport 8084 -j DROP|"
  # ip6tables-legacy: its own table
  e=$(events "$f and .net.family==\"ip6\"")
  assert_eq "$(jq -r .net.rule <<<"$e")" "-A INPUT -p tcp -m tcp --dport 8085 -j ACCEPT"
  [[ "$(jq -r .net.ruleset_after <<<"$e")" != *"8083"* ]] || fail "the ip6 table shows the ip one"
  # a new table: nothing before, all of it added
  e=$(events "$f and .net.table==\"mangle\"")
  assert_eq "$(jq -r '.net.ruleset_before // ""' <<<"$e")" ""
  assert_contains "$(jq -r .net.ruleset_diff <<<"$e")" "+*mangle"
  assert_eq "$(jq -r '[.net.op, .net.rule] | join("|")' <<<"$e")" "ADD|-A OUTPUT -p tcp -m tcp --dport 8086 -j ACCEPT"
  assert_all_in_ns $d
  local s; s=$("$CT" status --json)
  assert_ge "$(jq '.status.counters[] | select(.name=="net_legacy_dumps") | .value' <<<"$s")" 7
  assert_eq "$(jq '.status.counters[] | select(.name=="net_legacy_failures") | .value // 0' <<<"$s")" 0
  ip netns exec "$(ns)" iptables-legacy -F 2>/dev/null || true
  ip netns exec "$(ns)" iptables-legacy -t mangle -F 2>/dev/null || true
  ip netns exec "$(ns)" ip6tables-legacy -F 2>/dev/null || true
}

# Back to back, the collector reads tables after later changes: such an
# event says so (ruleset_inexact) rather than give another command's rule.
test_iptables_legacy_burst_never_misattributes() {
  [ -x /usr/sbin/iptables-legacy ] || skip "no iptables-legacy"
  ip netns exec "$(ns)" iptables-legacy -L >/dev/null 2>&1 || skip "ip_tables not available in this kernel"
  local d=iptlb-1 f pids
  nsx $d sh -c 'for i in $(seq 101 160); do iptables-legacy -A FORWARD -p tcp --dport $i -j DROP; done'
  f="$(net_of $d) and .net.subsystem==\"IPTABLES_LEGACY\""
  wait_events "$f" 60 30
  sleep 0.3
  # each command's port, by its pid (from its exec)
  pids=$(events ".kind==\"EXEC\" and .attribution.deploy_id==\"$d\" and ((.process.argv // []) | index(\"--dport\"))" |
    jq -s -c 'map({key: (.process.pid|tostring), value: (.process.argv as $a | $a[($a | index("--dport")) + 1])}) | from_entries')
  assert_eq "$(jq 'length' <<<"$pids")" 60 "execs seen"
  # a rule given is the one its own command added; one not given is flagged
  assert_eq "$(events "$f" | jq -s --argjson p "$pids" '[.[] | select((.net.rule // "") != "") |
    select(.net.rule != "-A FORWARD -p tcp -m tcp --dport \($p[.process.pid|tostring]) -j DROP")] | length')" 0 "misattributed rules"
  assert_eq "$(count_events "$f and (.net.rule // \"\") == \"\" and (.net.ruleset_inexact | not)")" 0 "no rule, not flagged"
  local exact; exact=$(count_events "$f and (.net.rule // \"\") != \"\"")
  echo "exact: $exact of 60"
  assert_ge "$(jq '.status.counters[] | select(.name=="net_legacy_inexact") | .value // 0' <<<"$("$CT" status --json)")" \
    "$(count_events "$(net_of $d) and .net.ruleset_inexact")" "counted"
  ip netns exec "$(ns)" iptables-legacy -F FORWARD
}

# The same for nftables, by its generation: a rule's text is its own
# command's, or the event says its ruleset was read late.
test_nft_burst_never_misattributes() {
  local d=nftb-2 f pids
  ip netns exec "$(ns)" nft add table inet ctburst
  ip netns exec "$(ns)" nft add chain inet ctburst c
  nsx $d sh -c 'for i in $(seq 201 260); do nft add rule inet ctburst c tcp dport $i drop; done'
  f="$(net_of $d) and .net.object_type==\"rule\""
  wait_events "$f" 60 30
  sleep 0.3
  pids=$(events ".kind==\"EXEC\" and .attribution.deploy_id==\"$d\" and .process.comm==\"nft\"" |
    jq -s -c 'map({key: (.process.pid|tostring), value: .process.argv[-2]}) | from_entries')
  assert_eq "$(jq 'length' <<<"$pids")" 60 "execs seen"
  assert_eq "$(events "$f" | jq -s --argjson p "$pids" '[.[] | select((.net.rule // "") != "") |
    select(.net.rule != "tcp dport \($p[.process.pid|tostring]) drop")] | length')" 0 "misattributed rules"
  assert_eq "$(count_events "$f and (.net.rule // \"\") == \"\" and (.net.ruleset_inexact | not)")" 0 "no rule, not flagged"
  echo "exact: $(count_events "$f and (.net.rule // \"\") != \"\"") of 60"
  ip netns exec "$(ns)" nft delete table inet ctburst
}

# A sysctl written in the test namespace: its old and new value there, from
# the value known there (primed at start: 77, not the host's), never the
# host's, which stays as it was.
test_sysctl_values_in_the_writers_namespace() {
  local d=sysctl-1 f e ttl=/proc/sys/net/ipv4/ip_default_ttl fwd=/proc/sys/net/ipv4/ip_forward
  local host_ttl host_fwd; host_ttl=$(cat $ttl); host_fwd=$(cat $fwd)
  [ "$host_ttl" != 77 ] || skip "the host's ip_default_ttl is the test's value"
  nsx $d sysctl -qw net.ipv4.ip_default_ttl=91
  nsx $d sysctl -qw net.ipv4.ip_default_ttl=92
  nsx $d sysctl -qw net.ipv4.ip_forward=1
  f=".kind==\"FILE\" and .attribution.deploy_id==\"$d\""
  wait_events "$f" 3
  sleep 0.3
  assert_eq "$(count_events "$f")" 3
  assert_eq "$(count_events "$f and .file.op==\"SYSCTL\" and .file.sysctl_netns==\"$(ns)\" and .process.net_ns==$(ns_inode)")" 3
  # each value as written (the bytes the write gave), never read back later
  assert_eq "$(count_events "$f and .file.sysctl_after_source==\"WRITTEN\"")" 3
  e=$(events "$f and .file.sysctl_after==\"91\"")
  assert_eq "$(jq -r '[.file.sysctl_name, .file.sysctl_before, .file.sysctl_after] | join("|")' <<<"$e")" \
    "net.ipv4.ip_default_ttl|77|91"
  e=$(events "$f and .file.sysctl_after==\"92\"")
  assert_eq "$(jq -r .file.sysctl_before <<<"$e")" 91       # the last known value there
  e=$(events "$f and .file.sysctl_name==\"net.ipv4.ip_forward\"")
  assert_eq "$(jq -r '.file.sysctl_before + " -> " + .file.sysctl_after' <<<"$e")" "0 -> 1"
  # the digests are of the namespace's values
  assert_eq "$(jq -r .file.sha256_before <<<"$e")" "$(printf '0\n' | sha256sum | cut -d' ' -f1)"
  assert_eq "$(jq -r .file.sha256_after <<<"$e")" "$(printf '1\n' | sha256sum | cut -d' ' -f1)"
  # the host's values: untouched, and in no event
  assert_eq "$(cat $ttl) $(cat $fwd)" "$host_ttl $host_fwd"
  assert_eq "$(count_events "$f and (.file.sysctl_netns // \"\") != \"$(ns)\"")" 0
  assert_eq "$(count_events "$f and .file.sysctl_name==\"net.ipv4.ip_default_ttl\" and (.file.sysctl_before==\"$host_ttl\" or .file.sysctl_after==\"$host_ttl\")")" 0
  assert_eq "$(jq '.status.counters[] | select(.name=="file_sysctl_unread") | .value // 0' <<<"$("$CT" status --json)")" 0
  ip netns exec "$(ns)" sysctl -qw net.ipv4.ip_forward=0
}

counter() { jq ".status.counters[] | select(.name==\"$1\") | .value // 0" <<<"$("$CT" status --json)"; }

# The test namespace's ip_default_ttl is put back as it was when the test
# ends (other tests expect the value set in setup_file).
keep_ttl() {
  trap "ip netns exec $(ns) sysctl -qw net.ipv4.ip_default_ttl=$(ip netns exec "$(ns)" cat /proc/sys/net/ipv4/ip_default_ttl)" EXIT
}

# The events of deploy D, one line each: "before after source" of its sysctl.
sysctl_chain() {
  events ".kind==\"FILE\" and .attribution.deploy_id==\"$1\"" |
    jq -r '[.file.sysctl_before // "", .file.sysctl_after // "", .file.sysctl_after_source // ""] | join(" ")'
}

# Forty writes of distinct values back to back: twenty by one shell
# (open, write, close each), twenty through one open fd (lseek, write).
# Every event's "after" is the value that write set and its "before" the
# previous one's "after": the bytes each write gave, not a value read
# back once a later write may have changed it.
test_sysctl_back_to_back_writes_each_exact() {
  local d=sysctl-burst ttl=/proc/sys/net/ipv4/ip_default_ttl host_ttl prev want="" v
  keep_ttl
  host_ttl=$(cat $ttl)
  prev=$(ip netns exec "$(ns)" cat $ttl)
  nsx $d sh -c "for v in \$(seq 101 120); do echo \$v > $ttl; done"
  nsx $d "$P/ct_sysctlw" $ttl seek $(seq 121 140) >/dev/null
  wait_events ".kind==\"FILE\" and .attribution.deploy_id==\"$d\"" 40
  sleep 0.3
  for v in $(seq 101 140); do want+="$prev $v WRITTEN"$'\n'; prev=$v; done
  assert_eq "$(sysctl_chain $d)" "${want%$'\n'}"
  assert_eq "$(ip netns exec "$(ns)" cat $ttl)" 140
  assert_eq "$(cat $ttl)" "$host_ttl"           # the host's: untouched
}

# A write the kernel refuses (not a number, out of range) changes no value:
# no event, counted; the next write's "before" is the value from before
# them.
test_sysctl_refused_write_is_no_change() {
  local d=sysctl-refused ttl=/proc/sys/net/ipv4/ip_default_ttl before refused out
  keep_ttl
  before=$(ip netns exec "$(ns)" cat $ttl)
  refused=$(counter file_sysctl_refused)
  nsx $d sysctl -qw net.ipv4.ip_default_ttl=abc 2>/dev/null && fail "abc accepted"
  out=$(nsx $d "$P/ct_sysctlw" $ttl seek 300 nope 61)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "300 -22 nope -22 61 3 "
  wait_events ".kind==\"FILE\" and .attribution.deploy_id==\"$d\"" 1
  sleep 0.3
  assert_eq "$(sysctl_chain $d)" "$before 61 WRITTEN"
  assert_ge "$(counter file_sysctl_refused)" $((refused + 3))
}

# Where a write's bytes are not the whole value (spread over iovecs,
# longer than a record holds), the value is read back in the namespace and
# the event says so; pwrite and a one-iovec writev give their bytes. Each
# write waits for its event: a value read back shows any later write too.
test_sysctl_value_read_back_is_marked() {
  local d=sysctl-readback ttl=/proc/sys/net/ipv4/ip_default_ttl
  local ports=/proc/sys/net/ipv4/ip_local_reserved_ports f before
  keep_ttl
  f=".kind==\"FILE\" and .attribution.deploy_id==\"$d\""
  before=$(ip netns exec "$(ns)" cat $ttl)
  nsx $d "$P/ct_sysctlw" $ttl split 57 >/dev/null; wait_events "$f" 1
  nsx $d "$P/ct_sysctlw" $ttl pwrite 58 >/dev/null; wait_events "$f" 2
  nsx $d "$P/ct_sysctlw" $ttl writev 59 >/dev/null; wait_events "$f" 3
  nsx $d "$P/ct_sysctlw" $ports seek "$(seq -s, 20000 20100)" >/dev/null; wait_events "$f" 4
  nsx $d "$P/ct_sysctlw" $ports seek "" >/dev/null; wait_events "$f" 5
  assert_eq "$(sysctl_chain $d)" "$before 57 READ_BACK
57 58 WRITTEN
58 59 WRITTEN
 20000-20100 READ_BACK
20000-20100  WRITTEN"
  assert_eq "$(events "$f" | jq -r .file.sysctl_name | sort -u | tr '\n' ' ')" \
    "net.ipv4.ip_default_ttl net.ipv4.ip_local_reserved_ports "
}

# `deploy show` names each network object by what identifies it, in its
# namespace: a route by table and destination, an address by device, a
# rule by table, chain and its text.
test_deploy_show_names_network_objects() {
  local d=fpnet-1 j n=0 legacy=0
  nsx $d ip link add ctn0 type veth peer name ctn1
  nsx $d ip addr add 192.0.2.20/24 dev ctn0
  nsx $d ip link set ctn0 up
  nsx $d ip route add 198.51.100.0/24 via 192.0.2.1
  nsx $d ip route add 203.0.113.0/24 via 192.0.2.1 table 100
  nsx $d nft add table inet ctfp
  nsx $d nft add chain inet ctfp in '{ type filter hook input priority 0; }'
  nsx $d nft add rule inet ctfp in tcp dport 2424 accept
  if ip netns exec "$(ns)" iptables-legacy -L >/dev/null 2>&1; then
    nsx $d iptables-legacy -A INPUT -p tcp --dport 2425 -j DROP
    legacy=1
  fi
  wait_events "$(net_of $d)" $((8 + legacy))
  for _ in $(seq 50); do
    j=$("$CT" deploy show $d --store "$T/store" --json)
    n=$(jq '.footprint.net.changes' <<<"$j")
    [ "$n" -ge $((8 + legacy)) ] && break
    sleep 0.2
  done
  assert_eq "$n" $((8 + legacy)) "stored net changes"
  obj() { jq -c --arg n "$1" '.footprint.net.objects[] | select(.name==$n) | del(.count, .ops, .out_of_scope)' <<<"$j"; }
  assert_eq "$(obj "route:main/198.51.100.0/24 route")" \
    "{\"name\":\"route:main/198.51.100.0/24 route\",\"netns\":\"$(ns)\",\"subsystem\":\"ROUTE\",\"family\":\"ip\",\"table\":\"main\",\"destination\":\"198.51.100.0/24\"}"
  assert_eq "$(obj "route:100/203.0.113.0/24 route" | jq -r '.table + " " + .destination + " " + .netns')" "100 203.0.113.0/24 $(ns)"
  assert_eq "$(obj "addr:ctn0/192.0.2.20/24 address" | jq -r '.device + " " + .destination + " " + .netns')" "ctn0 192.0.2.20/24 $(ns)"
  assert_eq "$(obj "nft:inet/ctfp/in rule tcp dport 2424 accept" | jq -r '[.table, .chain, .rule, .netns] | join("|")')" \
    "ctfp|in|tcp dport 2424 accept|$(ns)"
  if [ $legacy = 1 ]; then
    assert_eq "$(obj "iptables:filter/INPUT rule -A INPUT -p tcp -m tcp --dport 2425 -j DROP" | jq -r '[.table, .chain, .netns] | join("|")')" \
      "filter|INPUT|$(ns)"
  fi
  # the text names them too
  local t; t=$("$CT" deploy show $d --store "$T/store")
  grep -E "^    route:main/198.51.100.0/24 route +1 \(ADD=1\) netns $(ns)\$" <<<"$t" >/dev/null || fail "route line: $t"
  grep -E "^    addr:ctn0/192.0.2.20/24 address +1 \(ADD=1\) netns $(ns)\$" <<<"$t" >/dev/null || fail "address line: $t"
  ip netns exec "$(ns)" nft delete table inet ctfp
  ip netns exec "$(ns)" iptables-legacy -F 2>/dev/null || true
  ip -n "$(ns)" link del ctn0
}

test_unattributed_change_is_drift() {
  # this file's namespace only: the same test may run in another checkout
  local f=".kind==\"NET\" and .net.table==\"ctdrift\" and .net.netns_inode==$(ns_inode)"
  ip netns exec "$(ns)" nft add table inet ctdrift
  ip netns exec "$(ns)" nft delete table inet ctdrift
  wait_events "$f" 2
  assert_eq "$(count_events "$f and .attribution.drift==true")" 2
  # the summary is one readable line
  assert_eq "$(events "$f" | head -n1 | jq -r .net.summary)" "nft add table inet ctdrift"
}

# runs last (tests run in name order)
test_zz_net_status_counters() {
  local s; s=$("$CT" status --json)
  assert_ge "$(jq '.status.seen[] | select(.name=="net") | .value' <<<"$s")" 20 "net seen"
  assert_eq "$(jq '.status.dropped[] | select(.name=="net") | .value // 0' <<<"$s")" 0 "net dropped"
  assert_ge "$(jq '.status.counters[] | select(.name=="net_ruleset_snapshots") | .value' <<<"$s")" 5
  assert_eq "$(jq '.status.counters[] | select(.name=="net_ruleset_failures") | .value // 0' <<<"$s")" 0
}

# An XDP program attached through netlink (IFLA_XDP in a link request).
test_xdp_attach_via_netlink() {
  command -v clang >/dev/null || skip "no clang"
  local d=xdp-1 inc=/usr/include/$(uname -m)-linux-gnu
  printf '%s\n' '#include <linux/bpf.h>' \
    '__attribute__((section("xdp"), used)) int pass(struct xdp_md *c) { return XDP_PASS; }' \
    '__attribute__((section("license"), used)) char _license[] = "GPL";' > "$T/xdp.c"
  clang -O2 -target bpf -I"$inc" -c "$T/xdp.c" -o "$T/xdp.o" || skip "cannot build an XDP object"
  ip -n "$(ns)" link add ctx0 type veth peer name ctx1
  nsx $d ip link set dev ctx0 xdpgeneric obj "$T/xdp.o" sec xdp
  nsx $d ip link set dev ctx0 xdpgeneric off
  wait_events "$(net_of $d)" 2
  assert_eq "$(count_events "$(net_of $d) and .net.subsystem==\"LINK\" and .net.device==\"ctx0\" and .net.detail==\"xdp attach\"")" 1
  assert_eq "$(count_events "$(net_of $d) and .net.detail==\"xdp detach\"")" 1
  assert_all_in_ns $d
  ip -n "$(ns)" link del ctx0
}

# A program attached with bpf(BPF_LINK_CREATE, BPF_XDP) on a test interface.
test_bpf_link_create_xdp() {
  local d=bpfl-1
  ip -n "$(ns)" link add ctb0 type veth peer name ctb1
  nsx $d "$P/ct_xdp_link" ctb0 || fail "ct_xdp_link failed"
  wait_events "$(net_of $d)" 1
  local e; e=$(events "$(net_of $d)")
  assert_eq "$(jq -r .net.subsystem <<<"$e")" BPF
  assert_eq "$(jq -r .net.detail <<<"$e")" "link_create xdp"
  assert_eq "$(jq -r .net.device <<<"$e")" ctb0 "ifindex resolved in the namespace"
  assert_eq "$(jq -r .net.acceptance <<<"$e")" syscall
  assert_all_in_ns $d
  ip -n "$(ns)" link del ctb0
}

# A namespace that changes a large legacy table without pause (any user
# can: unshare -rn gives one a namespace of their own) does not hold the
# event loop: the waits for the namespace worker outside the host's have
# an eighth of the time per namespace, a quarter in all; past that a
# change is reported without its text, counted. An agent of its own, so
# the measure is this test's (the file's agent keeps its share for the
# other namespaces).
test_flooding_namespace_shares_a_wait_budget() {
  [ -x /usr/sbin/iptables-legacy ] || skip "no iptables-legacy"
  local n=ct-test-$$-flood
  ip netns add "$n" || fail "ip netns add"
  echo "$n" >> "$T/ns.extra"
  ip netns exec "$n" iptables-legacy -L >/dev/null 2>&1 || skip "ip_tables not available in this kernel"
  # 20,000 rules: a table iptables-legacy-save takes a while to print
  { echo '*filter'; echo ':INPUT ACCEPT [0:0]'; echo ':FORWARD ACCEPT [0:0]'; echo ':OUTPUT ACCEPT [0:0]'
    for i in $(seq 0 19999); do
      echo "-A INPUT -s 10.$((i / 65536)).$((i / 256 % 256)).$((i % 256))/32 -p tcp -m tcp --dport $((1000 + i % 5000)) -m comment --comment r$i -j ACCEPT"
    done; echo COMMIT; } > "$T/flood.rules"
  ip netns exec "$n" iptables-legacy-restore < "$T/flood.rules" || fail "restore"
  local sock=$T/ctl-flood.sock
  CHANGETRACE_SOCKET=$sock "$CT" agent --json --store "$T/store-flood" --pin-dir "$CT_PIN_DIR-flood" \
    --no-feed > "$T/events-flood.jsonl" 2> "$T/agent-flood.err" &
  ct_track_pid $!
  for _ in $(seq 100); do CHANGETRACE_SOCKET=$sock "$CT" status >/dev/null 2>&1 && break; sleep 0.1; done
  counter() { CHANGETRACE_SOCKET=$sock "$CT" status --json | jq ".status.counters[] | select(.name==\"$1\") | .value // 0"; }
  # past the first seconds (the 3 s saved are spent), 12 s measured
  local w0 t0 t1 w1 start k=0
  start=$(date +%s%N)
  while [ $(( $(date +%s%N) - start )) -lt 18000000000 ]; do
    if [ -z "${t0:-}" ] && [ $(( $(date +%s%N) - start )) -ge 6000000000 ]; then
      w0=$(counter net_worker_wait_us); t0=$(date +%s%N)
    fi
    ip netns exec "$n" iptables-legacy -A OUTPUT -j ACCEPT
    k=$((k + 1))
  done
  t1=$(date +%s%N); w1=$(counter net_worker_wait_us)
  local waited=$(( (w1 - w0) / 1000 )) wall=$(( (t1 - t0) / 1000000 ))
  echo "$k replaces; the event loop waited $waited ms of $wall ms; skipped: $(counter net_snapshots_skipped)"
  # at most a quarter in all, and a request in flight when it ran out
  [ "$waited" -le $(( wall / 4 + 2000 )) ] || fail "waited $waited ms of $wall ms"
  assert_ge "$(counter net_snapshots_skipped)" 1 "skips counted"
  # every replace reported, with or without its text
  local f=".kind==\"NET\" and .net.subsystem==\"IPTABLES_LEGACY\" and .net.netns_name==\"$n\""
  for _ in $(seq 300); do
    [ "$(jq -c "select($f)" "$T/events-flood.jsonl" | wc -l)" -ge "$k" ] && break
    sleep 0.1
  done
  assert_eq "$(jq -c "select($f)" "$T/events-flood.jsonl" | wc -l)" "$k" "a NET event per replace"
  ip netns del "$n"
}
