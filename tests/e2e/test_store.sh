# The event store and the forensic CLI, with real agents on the
# real kernel. Every test runs its own agent on its own store under $T
# (socket, pin dir and store named after the test), so a test can stop,
# kill -9 or starve its agent without touching the others. Network changes
# happen only in namespaces the tests create.
P=$BUILD/tests
HDR=360   # sizeof(struct ct_block_hdr), user/store/store_format.h

# agent_up NAME [agent args]: store $T/NAME, socket $T/NAME.sock (exported,
# so the CLI talks to this agent), events on stdout to $T/NAME.jsonl.
agent_up() {
  need_root
  local name=$1; shift
  export CHANGETRACE_SOCKET=$T/$name.sock
  ST=${ST:-$T/$name}
  "$CT" agent --json --store "$ST" --pin-dir "$CT_PIN_DIR-$name" "$@" \
    >> "$T/$name.jsonl" 2>> "$T/$name.err" &
  APID=$!
  ct_track_pid "$APID"
  for _ in $(seq 1 100); do
    "$CT" status >/dev/null 2>&1 && return 0
    kill -0 "$APID" 2>/dev/null || { cat "$T/$name.err" >&2; return 1; }
    sleep 0.1
  done
  fail "agent $name did not come up"
}
agent_down() { kill -TERM "$APID"; wait "$APID" || true; }

q() { "$CT" query --store "$ST" --json "$@"; }
counter() { "$CT" status --json | jq ".status.counters[] | select(.name==\"$1\") | .value // 0"; }

# at_or_after FILE NS / at_or_before FILE NS: ids of events by time, in
# exact integers (jq compares 64-bit nanoseconds as doubles)
by_time() {
  python3 -c 'import json, sys
op, ns = sys.argv[2], int(sys.argv[3])
for line in open(sys.argv[1]):
    e = json.loads(line)
    t = e.get("time_unix_nano", 0)
    if (t >= ns) if op == "ge" else (t <= ns):
        print(e["event_id"])' "$@" | sort
}

# wait_stored JQ N: until the store holds at least N events matching JQ
wait_stored() {
  local deadline=$(( $(date +%s) + ${3:-10} ))
  while [ "$(q | jq -c "select($1)" | wc -l)" -lt "$2" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "store: timeout waiting for $2 events matching $1"
    sleep 0.2
  done
}

# ids FILE-OR-STDIN: sorted event ids
ids() { jq -r .event_id | sort; }

# A test netns, deleted when the test's subshell exits.
make_ns() {
  NS=ct-st-$$-$1
  ip netns add "$NS"
  trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
  NS_INODE=$(stat -L -c %i "/run/netns/$NS")
}

# blocks SEGMENT: "offset length" of every block, walking the headers
blocks() {
  python3 - "$1" "$HDR" <<'EOF'
import struct, sys
data = open(sys.argv[1], 'rb').read()
hdr, off = int(sys.argv[2]), 0
while off + hdr <= len(data):
    magic, = struct.unpack_from('<I', data, off)
    if magic != 0x31425443:
        break
    comp, = struct.unpack_from('<I', data, off + 48)
    if off + hdr + comp > len(data):
        break
    print(off, hdr + comp)
    off += hdr + comp
EOF
}

# ------------------------------------------------------------------ round trip

test_store_round_trip_every_kind_json_and_proto() {
  make_ns rt
  printf 'rule scope: out-of-scope => alert\n' > "$T/rt.policy"
  agent_up rt --policy "$T/rt.policy"
  local m; m=$(marker rt)
  "$CT" deploy start --id rt-1 --ai-assisted --ai-tool claude-code --author alice \
    --approved-by bob --scope nft:inet/rtok >/dev/null
  "$CT" run --deploy rt-1 -- /bin/true "$m-deployed"
  "$CT" run --deploy rt-1 -- ip netns exec "$NS" nft add table inet rtout
  "$CT" deploy end --id rt-1 --status succeeded >/dev/null
  /bin/true "$m-drift"
  wait_events_in rt ".kind==\"GUARD\" and .guard.deploy_id==\"rt-1\"" 1
  agent_down
  # the agent is stopped: everything below reads the store alone
  "$CT" status >/dev/null 2>&1 && fail "agent still answering"
  # every event the agent emitted is in the store, byte-identical as JSON
  q > "$T/rt.q.jsonl"
  diff <(jq -c . "$T/rt.jsonl") <(jq -c . "$T/rt.q.jsonl") > "$T/rt.diff" || \
    fail "store differs from the live stream: $(head -c 600 "$T/rt.diff")"
  for k in AGENT EXEC EXIT NET DEPLOY GUARD; do
    assert_ge "$(jq -c "select(.kind==\"$k\")" "$T/rt.q.jsonl" | wc -l)" 1 "stored $k events"
  done
  assert_eq "$(jq -c "select($(exec_with "$m-deployed")) | select(.attribution.deploy_id==\"rt-1\" and .attribution.ai_assisted)" "$T/rt.q.jsonl" | wc -l)" 1 "deploy exec"
  assert_eq "$(jq -c "select($(exec_with "$m-drift" true)) | select(.attribution.drift)" "$T/rt.q.jsonl" | wc -l)" 1 "drift exec"
  assert_eq "$(jq -r 'select(.kind=="DEPLOY") | .deploy.action' "$T/rt.q.jsonl" | tr '\n' ' ')" "START END " "deploy records"
  assert_eq "$(jq -r 'select(.kind=="NET") | .net.table' "$T/rt.q.jsonl")" rtout
  # --proto: length-delimited Events that decode to exactly the same
  "$CT" query --store "$ST" --proto > "$T/rt.pb"
  "$P/ct_pbdecode" < "$T/rt.pb" > "$T/rt.pb.jsonl"
  diff "$T/rt.q.jsonl" "$T/rt.pb.jsonl" >/dev/null || fail "--proto does not decode to the --json events"
  assert_ge "$(wc -l < "$T/rt.pb.jsonl")" 8 "events via --proto"
  # seq has no holes, ids are unique
  assert_eq "$(jq -s '[.[].seq] | (. == [range(1; length + 1)])' "$T/rt.q.jsonl")" true "seq 1..N"
  assert_eq "$(ids < "$T/rt.q.jsonl" | uniq -d | wc -l)" 0 "duplicate ids"
  # the other commands work with the agent stopped too
  "$CT" timeline --store "$ST" > "$T/rt.timeline"
  assert_contains "$(cat "$T/rt.timeline")" "$m-drift"
  "$CT" blame /etc/nonexistent-ct --store "$ST" | grep -q "no recorded changes"
  "$CT" verify --store "$ST" | grep -q "chain intact"
  "$CT" deploy show rt-1 --store "$ST" | grep -q "network changes: *1 in 1 objects"
  # and clear errors
  set +e
  out=$("$CT" query --store "$T/none" 2>&1); rc=$?
  set -e
  assert_eq "$rc" 1 "missing store"
  assert_contains "$out" "no store at $T/none"
  for bad in "--since yesterday" "--kind bogus" "--pid x" "--deploy a%b" "--until 2h --since 1h"; do
    set +e; "$CT" query --store "$ST" $bad >/dev/null 2>&1; rc=$?; set -e
    assert_eq "$rc" 2 "query $bad"
  done
}

# ------------------------------------------------------------------ filters (real agent)

test_store_filters_real_events() {
  make_ns f
  agent_up flt
  local m tmid; m=$(marker f)
  "$CT" deploy start --id fa --ai-assisted --ai-tool claude-code >/dev/null
  "$CT" deploy start --id fb --no-ai >/dev/null
  # phase A
  "$CT" run --deploy fa -- /bin/true "$m-a"
  /bin/true "$m-drift"
  setpriv --reuid=65534 --regid=65534 --clear-groups /bin/true "$m-nobody"
  wait_stored "$(exec_with "$m-nobody" true)" 1
  sleep 1.2
  tmid=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
  sleep 3.5
  # phase B
  "$CT" run --deploy fb -- /bin/echo "$m-b" >/dev/null
  "$CT" run --deploy fb -- ip netns exec "$NS" nft add table inet ftab
  wait_stored ".kind==\"NET\" and .net.table==\"ftab\"" 1
  # relative times first, while phase B is younger than 3 s
  q --since 3s | jq -c "select($(exec_with "$m-b" echo))" | grep -q . || fail "--since 3s misses phase B"
  q --since 3s | jq -c "select($(exec_with "$m-a" true))" | grep -q . && fail "--since 3s has phase A"
  q --until 3s | jq -c "select($(exec_with "$m-a" true))" | grep -q . || fail "--until 3s misses phase A"
  q --until 3s | jq -c "select($(exec_with "$m-b" echo))" | grep -q . && fail "--until 3s has phase B"
  # the rest compares with a full scan: freeze the store first
  agent_down
  q > "$T/f.all"
  # RFC 3339: exactly the events on each side of tmid
  local tns; tns=$(python3 -c "import sys,calendar,time; s=sys.argv[1]; print(calendar.timegm(time.strptime(s[:19],'%Y-%m-%dT%H:%M:%S'))*10**9 + int(s[20:29]))" "$tmid")
  diff <(q --since "$tmid" | ids) <(by_time "$T/f.all" ge "$tns") >/dev/null || fail "--since $tmid"
  diff <(q --until "$tmid" | ids) <(by_time "$T/f.all" le "$tns") >/dev/null || fail "--until $tmid"
  assert_ge "$(q --since "$tmid" | wc -l)" 3
  assert_ge "$(q --until "$tmid" | wc -l)" 3
  # --deploy: all of fa's events and nothing else
  diff <(q --deploy fa | ids) <(jq -c 'select(.attribution.deploy_id=="fa" or .deploy.deploy.id=="fa")' "$T/f.all" | ids) >/dev/null || fail "--deploy fa"
  q --deploy fa | jq -c "select($(exec_with "$m-a" true))" | grep -q . || fail "--deploy fa misses its exec"
  assert_eq "$(q --deploy fa | jq -c "select($(exec_with "$m-b" echo))" | wc -l)" 0 "fb in --deploy fa"
  # --kind
  assert_eq "$(q --kind net | jq -r .kind | sort -u)" NET
  assert_eq "$(q --kind deploy,net | jq -r .kind | sort -u | tr '\n' ' ')" "DEPLOY NET "
  assert_eq "$(q --kind deploy | jq -r .deploy.deploy.id | sort | tr '\n' ' ')" "fa fb "
  # --ai: fa (AI-assisted) yes, fb and drift no
  q --ai | jq -c "select($(exec_with "$m-a" true))" | grep -q . || fail "--ai misses fa"
  assert_eq "$(q --ai | jq -c 'select(.attribution.ai_assisted | not)' | wc -l)" 0 "--ai has non-AI events"
  assert_eq "$(q --ai | jq -c "select($(exec_with "$m-b" echo))" | wc -l)" 0 "--ai has fb"
  # --drift
  q --drift | jq -c "select($(exec_with "$m-drift" true))" | grep -q . || fail "--drift misses drift"
  assert_eq "$(q --drift | jq -c 'select(.attribution.drift | not)' | wc -l)" 0 "--drift has attributed events"
  assert_eq "$(q --drift | jq -c "select($(exec_with "$m-a" true))" | wc -l)" 0 "--drift has fa"
  # --comm, --uid, --pid
  diff <(q --comm echo | ids) <(jq -c 'select(.process.comm=="echo")' "$T/f.all" | ids) >/dev/null || fail "--comm"
  q --comm echo | jq -c "select($(exec_with "$m-b" echo))" | grep -q . || fail "--comm echo misses it"
  diff <(q --uid 65534 | ids) <(jq -c 'select(.process.uid==65534)' "$T/f.all" | ids) >/dev/null || fail "--uid"
  q --uid 65534 | jq -c "select($(exec_with "$m-nobody" true))" | grep -q . || fail "--uid misses nobody's exec"
  local pid; pid=$(jq -r "select($(exec_with "$m-drift" true)) | .process.pid" "$T/f.all")
  diff <(q --pid "$pid" | ids) <(jq -c "select(.process.pid==$pid)" "$T/f.all" | ids) >/dev/null || fail "--pid"
  assert_ge "$(q --pid "$pid" | wc -l)" 2 "exec and exit of pid $pid"
  # --netns: the nft change and the processes in the namespace, nothing else
  assert_eq "$(q --netns "$NS_INODE" --kind net | jq -r .net.table)" ftab
  q --netns "$NS_INODE" | jq -c 'select(.kind=="EXEC" and .process.comm=="nft")' | grep -q . || fail "--netns misses nft"
  assert_eq "$(q --netns "$NS_INODE" | jq -c "select($(exec_with "$m-"))" | wc -l)" 0 "host execs in --netns"
  # filters combine (and)
  assert_eq "$(q --deploy fb --kind exec --comm echo | jq -c "select($(exec_with "$m-b" echo))" | wc -l)" 1
  assert_eq "$(q --deploy fb --comm true | wc -l)" 0
}

# Every filter on a bigger synthetic store (FILE events included, which the
# probes do not produce yet), checked against a full scan with jq.
test_store_filters_synthetic_store_match_full_scan() {
  ST=$T/syn
  "$P/ct_store_bench" "$ST" 50000 >/dev/null
  q > "$T/syn.all"
  assert_eq "$(wc -l < "$T/syn.all")" 50000
  check() { # check "query args" "jq filter" [min]
    local - got want
    set -f   # globs are for the query, not for this shell
    got=$(q $1 | ids | md5sum); want=$(jq -c "select($2)" "$T/syn.all" | ids | md5sum)
    [ "$got" == "$want" ] || fail "query $1 != jq $2"
    assert_ge "$(q $1 | wc -l)" "${3:-1}" "query $1"
  }
  check "--deploy d-2" '.attribution.deploy_id=="d-2"' 200
  check "--path /etc/app/7.conf" '.file.path=="/etc/app/7.conf"' 2
  check "--path /etc/app/1*.conf" '(.file.path // "") | test("^/etc/app/1[^/]*\\.conf$")' 222
  check "--kind file" '.kind=="FILE"' 1000
  check "--ai" '.attribution.ai_assisted' 300
  check "--drift" '.attribution.drift' 49000
  check "--comm curl" '.process.comm=="curl"'
  check "--pid 1234" '.process.pid==1234'
  check "--uid 1000" '.process.uid==1000'
  check "--netns 4026531840" '.process.net_ns==4026531840' 50000
  local t; t=$(sed -n 25000p "$T/syn.all" | python3 -c 'import json,sys; print(json.load(sys.stdin)["time_unix_nano"])')
  local rfc; rfc=$(date -u -d "@$((t / 1000000000))" +%Y-%m-%dT%H:%M:%S).$(printf %09d $((t % 1000000000)))Z
  diff <(q --since "$rfc" | ids) <(by_time "$T/syn.all" ge "$t") >/dev/null || fail "--since $rfc"
  diff <(q --until "$rfc" | ids) <(by_time "$T/syn.all" le "$t") >/dev/null || fail "--until $rfc"
  assert_eq "$(q --since "$rfc" | wc -l)" 25001 "--since"
  assert_eq "$(q --until "$rfc" | wc -l)" 25000 "--until"
  check "--deploy d-4 --kind file --ai" '.attribution.deploy_id=="d-4" and .kind=="FILE" and .attribution.ai_assisted' 4
  assert_eq "$(q --deploy d-999 | wc -l)" 0 "unknown deploy"
  "$CT" verify --store "$ST" | grep -q "chain intact: .* 50000 events"
}

# ------------------------------------------------------------------ deploy show

test_store_deploy_show_footprint() {
  make_ns fp
  printf 'rule scope: out-of-scope => alert\n' > "$T/fp.policy"
  agent_up fp --policy "$T/fp.policy"
  "$CT" deploy start --id fp-1 --author alice --scope /etc/fp-app --scope nft:inet/fpok >/dev/null
  "$CT" run --deploy fp-1 -- ip netns exec "$NS" sh -c '
    nft add table inet fpok; nft add chain inet fpok c
    nft add table inet fpbad; nft delete table inet fpbad
    /bin/true; /bin/true; /bin/ls / >/dev/null'
  wait_events_in fp '.kind=="GUARD" and .guard.deploy_id=="fp-1"' 2
  wait_stored '.kind=="GUARD" and .guard.deploy_id=="fp-1"' 2
  # what the live stream says the deploy did
  local ex nft; ex=$(count_events_in fp '.kind=="EXEC" and .attribution.deploy_id=="fp-1"')
  nft=$(count_events_in fp '.kind=="EXEC" and .attribution.deploy_id=="fp-1" and .process.comm=="nft"')
  assert_eq "$nft" 4
  check_fp() {
    local j; j=$("$CT" deploy show fp-1 --store "$ST" --json)
    assert_eq "$(jq -r .id <<<"$j")" fp-1
    assert_eq "$(jq -r .source <<<"$j")" "$1"
    assert_eq "$(jq .footprint.processes.execs <<<"$j")" "$ex" "execs"
    assert_eq "$(jq '.footprint.processes.comms[] | select(.name=="nft") | .count' <<<"$j")" 4
    assert_eq "$(jq '.footprint.processes.comms[] | select(.name=="true") | .count' <<<"$j")" 2
    assert_eq "$(jq .footprint.net.changes <<<"$j")" 4
    assert_eq "$(jq -c '.footprint.net.objects[] | select(.name=="nft:inet/fpbad table") | [.count, .ops.ADD, .ops.DELETE, .out_of_scope]' <<<"$j")" '[2,1,1,true]'
    assert_eq "$(jq -c '.footprint.net.objects[] | select(.name=="nft:inet/fpok table") | [.count, .out_of_scope]' <<<"$j")" '[1,false]'
    assert_eq "$(jq -c '.footprint.net.objects[] | select(.name=="nft:inet/fpok/c chain") | [.count, .out_of_scope]' <<<"$j")" '[1,false]'
    assert_eq "$(jq .footprint.net.out_of_scope <<<"$j")" 2
    assert_eq "$(jq .footprint.out_of_scope <<<"$j")" 2
    assert_eq "$(jq -c '.footprint.guard.rules[] | [.name, .count]' <<<"$j")" '["scope ALERT",2]'
    assert_eq "$(jq .footprint.files.changes <<<"$j")" 0
    local t; t=$("$CT" deploy show fp-1 --store "$ST")
    assert_contains "$t" "processes launched:   $ex execs"
    assert_contains "$t" "network changes:      4 in 3 objects"
    assert_contains "$t" "outside scope:        0 file changes, 2 network changes"
    assert_contains "$t" "scope ALERT"
  }
  check_fp agent
  agent_down
  # agent stopped: the registry it saved, then the store's DEPLOY events
  check_fp registry
  mv "$ST/deploys.pb" "$T/fp.deploys.pb"
  check_fp store
  set +e; out=$("$CT" deploy show nope --store "$ST" 2>&1); rc=$?; set -e
  assert_eq "$rc" 1
  assert_contains "$out" "no deploy nope"
}

count_events_in() { jq -c "select($2)" "$T/$1.jsonl" | wc -l; }

# ------------------------------------------------------------------ tamper evidence

test_store_verify_names_flipped_removed_reordered_block() {
  agent_up vf
  local m; m=$(marker vf)
  for i in 1 2 3 4 5 6; do /bin/true "$m-$i"; sleep 1.1; done   # a block a second
  agent_down
  local seg; seg=$(ls "$ST"/seg-*.cts | head -n1)
  local name; name=$(basename "$seg")
  "$CT" verify --store "$ST" | grep -q "chain intact" || fail "fresh store does not verify"
  blocks "$seg" > "$T/vf.blocks"
  assert_ge "$(wc -l < "$T/vf.blocks")" 5 "blocks"
  read -r o2 l2 < <(sed -n 3p "$T/vf.blocks")   # block 2 (0-based)
  read -r o3 l3 < <(sed -n 4p "$T/vf.blocks")
  local total; total=$(q | wc -l)
  tamper() { rm -rf "$T/vf.t"; cp -a "$ST" "$T/vf.t"; python3 -c "$1" "$T/vf.t/$name" "$o2" "$l2" "$o3" "$l3"; }
  expect_broken() {
    set +e; out=$("$CT" verify --store "$T/vf.t"); rc=$?; set -e
    assert_eq "$rc" 1 "verify exit"
    assert_contains "$out" "BROKEN after $2 good blocks: $name block $2 at offset $3: $1"
  }
  # a flipped byte in block 2's payload
  tamper 'import sys; p,o,l=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]); d=bytearray(open(p,"rb").read()); d[o+l-5]^=1; open(p,"wb").write(d)'
  expect_broken "payload checksum mismatch" 2 "$o2"
  # the rest still answers; the bad block is skipped and reported
  local n; n=$("$CT" query --store "$T/vf.t" --json 2>"$T/vf.err" | wc -l)
  assert_contains "$(cat "$T/vf.err")" "1 corrupt block(s) skipped"
  [ "$n" -lt "$total" ] && [ "$n" -gt 0 ] || fail "query on damaged store: $n of $total"
  assert_eq "$("$CT" query --store "$T/vf.t" --json 2>/dev/null | jq -c "select($(exec_with "$m-6"))" | wc -l)" 1 "events after the bad block"
  # a flipped byte in block 2's header (its first sequence number)
  tamper 'import sys; p,o=sys.argv[1],int(sys.argv[2]); d=bytearray(open(p,"rb").read()); d[o+8]^=0x40; open(p,"wb").write(d)'
  expect_broken "header checksum mismatch" 2 "$o2"
  # block 2 removed: block 3 moves to its place and names another predecessor
  tamper 'import sys; p,o,l=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]); d=open(p,"rb").read(); open(p,"wb").write(d[:o]+d[o+l:])'
  expect_broken "chain broken" 2 "$o2"
  # blocks 2 and 3 swapped
  tamper 'import sys; p,o2,l2,o3,l3=sys.argv[1],*map(int,sys.argv[2:6]); d=open(p,"rb").read(); open(p,"wb").write(d[:o2]+d[o3:o3+l3]+d[o2:o2+l2]+d[o3+l3:])'
  expect_broken "chain broken" 2 "$o2"
  # the first block removed (the start of history cut off)
  read -r o0 l0 < <(sed -n 1p "$T/vf.blocks")
  tamper "import sys; p=sys.argv[1]; d=open(p,'rb').read(); open(p,'wb').write(d[$l0:])"
  expect_broken "chain broken" 0 0
}

# ------------------------------------------------------------------ crash safety

test_store_kill9_mid_write_loses_nothing_committed() {
  agent_up k9
  local m; m=$(marker k9)
  ( for i in $(seq 1 4000); do /bin/true "$m-$i"; done ) &
  local storm=$!
  sleep 2
  q | ids > "$T/k9.committed"          # what was on disk before the kill
  assert_ge "$(wc -l < "$T/k9.committed")" 10 "events committed before the kill"
  kill -9 "$APID"; wait "$APID" 2>/dev/null || true
  kill "$storm" 2>/dev/null || true; wait "$storm" 2>/dev/null || true
  local seg; seg=$(ls "$ST"/seg-*.cts | tail -n1)
  # a torn write: the start of a block (header and part of its payload)
  # left at the end of the segment, as a crash mid-write leaves it
  read -r o l < <(blocks "$seg" | awk '$2 > 600' | tail -n1)
  [ -n "$o" ] || fail "no block big enough to tear"
  local size; size=$(stat -c %s "$seg")
  cp "$seg" "$T/k9.seg.good"
  head -c $((o + HDR + 100)) "$seg" | tail -c $((HDR + 100)) >> "$seg"
  assert_eq "$(stat -c %s "$seg")" $((size + HDR + 100))
  "$CT" verify --store "$ST" | grep -q "chain intact" || fail "torn tail makes verify fail"
  agent_up k9
  assert_eq "$(counter store_torn_bytes_truncated)" $((HDR + 100)) "torn bytes"
  # cut back to its good end: the good blocks as they were, then only
  # whole blocks (the new agent writes its own at start: a GAP for the
  # kill), no torn bytes
  cmp -n "$size" "$seg" "$T/k9.seg.good" || fail "good blocks changed"
  assert_eq "$(blocks "$seg" | awk '{n += $2} END {print n}')" "$(stat -c %s "$seg")" "segment cut back to its good end"
  /bin/true "$m-after"
  wait_stored "$(exec_with "$m-after")" 1
  agent_down
  q | ids > "$T/k9.final"
  comm -23 "$T/k9.committed" "$T/k9.final" > "$T/k9.lost"
  assert_eq "$(wc -l < "$T/k9.lost")" 0 "committed events lost: $(head -3 "$T/k9.lost")"
  assert_eq "$(uniq -d "$T/k9.final" | wc -l)" 0 "duplicate ids after restart"
  "$CT" verify --store "$ST" | grep -q "chain intact" || fail "verify after recovery: $("$CT" verify --store "$ST")"
}

# ------------------------------------------------------------------ full disk

test_store_full_disk_survived_counted_and_resumed() {
  need_root
  local mnt=$T/small
  mkdir -p "$mnt"
  mount -t tmpfs -o size=2m ct-store-test "$mnt" || skip "cannot mount tmpfs"
  SMALL=$mnt
  trap 'set +e; small_cleanup' EXIT
  ST=$mnt/store
  agent_up fd
  local m; m=$(marker fd)
  dd if=/dev/zero of="$mnt/fill" bs=64k 2>/dev/null || true     # ENOSPC ends it
  for i in $(seq 1 300); do /bin/true "$m-full-$i"; done
  local deadline=$(( $(date +%s) + 10 ))
  while [ "$(counter store_events_failed)" -eq 0 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "no store failure counted"
    sleep 0.2
  done
  kill -0 "$APID" || fail "agent died on a full disk"
  assert_eq "$(counter store_last_errno)" 28 "ENOSPC reported"
  grep -q "store: cannot write to $ST: No space left on device" "$T/fd.err" || fail "first store failure not on stderr: $(cat "$T/fd.err")"
  # the events still flow live
  wait_events_in fd "$(exec_with "$m-full-300")" 1
  # space returns: the agent resumes and records the hole as a GAP
  rm -f "$mnt/fill"
  /bin/true "$m-back"
  wait_stored "$(exec_with "$m-back")" 1
  wait_stored '.kind=="GAP" and .gap.path=="STORE"' 1
  local failed gaps; failed=$(counter store_events_failed)
  gaps=$(q | jq -s '[.[] | select(.kind=="GAP" and .gap.path=="STORE") | .gap.count] | add')
  assert_eq "$gaps" "$failed" "GAP events account for every event lost"
  assert_ge "$failed" 1
  q | jq -c 'select(.kind=="GAP" and .gap.path=="STORE")' | head -n1 | grep -q "No space left on device" || fail "GAP reason"
  assert_eq "$(counter store_last_errno)" 0 "writing again"
  assert_eq "$(grep -c "store: cannot write to" "$T/fd.err")" 1 "failure said once"
  grep -q "store: writing to $ST again" "$T/fd.err" || fail "recovery not on stderr"
  kill -0 "$APID" || fail "agent died"
  agent_down
  local v; v=$("$CT" verify --store "$ST" 2>&1) || fail "verify after a full disk: $v"
  assert_contains "$v" "chain intact"
}

# Copies of file content (the baseline at start, then every change) leave
# room for events: on a 2 MiB store watching 3.2 MB of text (2.4 MB
# compressed), the events are stored from the first block on, and the
# copies that did not fit are counted and said on stderr.
test_store_content_copies_leave_room_for_events() {
  need_root
  local mnt=$T/bsmall
  mkdir -p "$mnt" "$T/bl-w"
  mount -t tmpfs -o size=2m ct-store-test "$mnt" || skip "cannot mount tmpfs"
  SMALL=$mnt
  trap 'set +e; small_cleanup' EXIT
  local i
  for i in $(seq 1 80); do head -c 30000 /dev/urandom | base64 > "$T/bl-w/f$i.conf"; done
  ST=$mnt/store
  agent_up bl --watch-only --watch "$T/bl-w"
  local deadline=$(( $(date +%s) + 20 ))
  until [ "$(counter file_baseline_done)" -eq 1 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "baseline not done"
    sleep 0.2
  done
  local m; m=$(marker bl)
  /bin/true "$m"
  wait_stored "$(exec_with "$m" true)" 1
  echo "blobs written $(counter file_blobs_written), not kept $(counter file_blobs_no_room), free $(df -k --output=avail "$mnt" | tail -n1) KiB"
  assert_eq "$(counter store_events_failed)" 0 "events lost to the store"
  assert_ge "$(counter file_blobs_no_room)" 1 "copies skipped for room"
  assert_ge "$(counter file_blobs_written)" 1 "copies kept while there was room"
  grep -q "copies of file content are no longer kept" "$T/bl.err" || fail "not said on stderr"
  q | jq -c 'select(.kind=="AGENT" and .agent.state=="started")' | grep -q . || fail "the first events are not stored"
  agent_down
}

# stop the test's agent (it holds the filesystem), then unmount
small_cleanup() {
  [ -n "${APID:-}" ] && kill -TERM "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
  umount "$SMALL" 2>/dev/null || umount -l "$SMALL"
}

wait_events_in() {
  local deadline=$(( $(date +%s) + ${4:-10} ))
  while [ "$(count_events_in "$1" "$2")" -lt "$3" ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "timeout waiting for $3 events matching $2 in $1"
    sleep 0.1
  done
}

# ------------------------------------------------------------------ retention

test_store_retention_by_age_and_size() {
  ST=$T/ret
  "$P/ct_store_bench" "$ST" 20000 --days-ago 10 --segment-kib 64 >/dev/null
  "$P/ct_store_bench" "$ST" 40000 --segment-kib 64 >/dev/null
  local segs0 total; segs0=$(ls "$ST"/seg-*.cts | wc -l)
  assert_ge "$segs0" 10 "segments"
  total=$(q | wc -l)
  assert_eq "$total" 60000
  old_before=$(q --until 5d | wc -l)
  assert_ge "$old_before" 19000
  # by age: segments whose newest event is older than 5 days go
  agent_up ret --retention-days 5
  local deadline=$(( $(date +%s) + 10 ))
  while [ "$(counter store_segments_retired)" -eq 0 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "nothing retired by age"
    sleep 0.2
  done
  agent_down
  local old_after; old_after=$(q --until 5d | wc -l)
  [ "$old_after" -lt 2000 ] || fail "old events left: $old_after"
  assert_eq "$(q --since 1d | jq -c 'select(.host=="bench-host")' | wc -l)" 40000 "recent events kept"
  [ -s "$ST/retired" ] || fail "no retired anchors"
  "$CT" verify --store "$ST" | grep -q "chain intact" || fail "verify after age retention: $("$CT" verify --store "$ST")"
  # by size: oldest segments go until the store is under 1 MiB
  local last; last=$(q | jq -s 'map(.seq) | max')
  agent_up ret --retention-mb 1
  deadline=$(( $(date +%s) + 10 ))
  while [ "$(du -cb "$ST"/seg-*.cts | tail -n1 | cut -f1)" -gt 1048576 ]; do
    [ "$(date +%s)" -ge "$deadline" ] && fail "store not cut to 1 MiB"
    sleep 0.2
  done
  agent_down
  assert_eq "$(q | jq -s 'map(.seq) | max >= '"$last")" true "newest events kept"
  [ "$(q | jq -s 'map(.seq) | min')" -gt 30000 ] || fail "oldest events not retired: $(q | jq -s 'map(.seq) | min')"
  "$CT" verify --store "$ST" | grep -q "chain intact" || fail "verify after size retention: $("$CT" verify --store "$ST")"
}
