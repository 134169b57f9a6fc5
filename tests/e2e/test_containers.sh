# Containers and Kubernetes pods (issue 21), on the real kernel: real
# containers (podman with runc, a root filesystem of busybox-static, no
# image registry), and Kubernetes' cgroup layout made by hand for a pod,
# since no kubelet runs here. Every container a test starts is removed
# when the test ends (teardown_file catches any left).

setup_file() {
  need_root || return 1
  mkdir -p "$T/watched" "$T/rootfs"
  : > "$T/containers"
  podman_probe
  ct_agent_start --watch "$T/watched"
}

teardown_file() {
  ct_agent_stop
  ctr_remove_all
  return 0
}

# ---------------------------------------------------------------- helpers

# Can podman run a container here? The answer (or why not) in $T/podman.
podman_probe() {
  local why= b
  for b in podman runc; do
    command -v "$b" >/dev/null || why="$b is not installed (tools/install-deps.sh installs it)"
  done
  if [ -z "$why" ] && ! ldd /bin/busybox 2>&1 | grep -q "not a dynamic"; then
    why="/bin/busybox is not static (tools/install-deps.sh installs busybox-static)"
  fi
  if [ -z "$why" ]; then
    mkdir -p "$T/rootfs/bin" "$T/rootfs/etc/app" "$T/rootfs/proc" "$T/rootfs/sys" \
      "$T/rootfs/dev" "$T/rootfs/tmp"
    cp /bin/busybox "$T/rootfs/bin/busybox"
    for b in sh sleep cat echo true hostname; do ln -sf busybox "$T/rootfs/bin/$b"; done
    local out
    if ! out=$(timeout 120 podman --runtime runc run --rm --cgroup-manager=cgroupfs \
        --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none \
        --rootfs "$T/rootfs" /bin/true 2>&1); then
      why="podman cannot run a container here: $(tail -n1 <<<"$out")"
    fi
  fi
  echo "${why:-ok}" > "$T/podman"
}

need_podman() {
  local s; s=$(cat "$T/podman" 2>/dev/null)
  [ "$s" = ok ] || skip "${s:-podman was not probed}"
}

# ctr_run NAME [podman run options] -- CMD [ARGS]: a detached container on
# the test's root filesystem; prints its id
ctr_run() {
  local name=$1 opts=()
  shift
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  echo "$name" >> "$T/containers"
  timeout 120 podman --runtime runc run -d --name "$name" --cgroup-manager=cgroupfs \
    --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network none \
    "${opts[@]}" --rootfs "$T/rootfs" "$@"
}

ctr_remove() { podman rm -f -t 0 "$@" >/dev/null 2>&1 || true; }
ctr_remove_all() {
  [ -s "$T/containers" ] || return 0
  local n
  while read -r n; do ctr_remove "$n"; done < "$T/containers"
  : > "$T/containers"
}

ctr_name() { echo "ct-$1-$$-$RANDOM"; }
inspect() { podman inspect -f "$2" "$1"; }

# events of one container, by its full id
ctr_events() { events ".process.container.id==\"$1\" and ($2)"; }

# ---------------------------------------------------------------- tests

test_container_exec_has_the_podman_id_and_names() {
  need_podman
  local n m id; n=$(ctr_name exec); m=$(marker ctrexec)
  trap 'ctr_remove '"$n" EXIT
  id=$(ctr_run "$n" --hostname "h-$n" -- /bin/sh -c "echo $m; sleep 2; echo $m-late")
  assert_eq "$id" "$(inspect "$n" '{{.Id}}')" "podman run prints the Id"
  wait_events "$(exec_with "$m" sh)" 1 20
  local e; e=$(events "$(exec_with "$m" sh)" | head -n1)
  echo "$e"
  assert_eq "$(jq -r .process.container.id <<<"$e")" "$(inspect "$n" '{{.Id}}')" "EXEC container id == podman inspect Id"
  assert_eq "$(jq -r .process.container.runtime <<<"$e")" podman
  assert_eq "$(jq -r .process.container.hostname <<<"$e")" "h-$n" "the container's UTS name"
  assert_contains "$(jq -r .process.cgroup_path <<<"$e")" "libpod-$id"
  # the names come from podman's storage, off the event loop: at the
  # latest on the container's later events
  local named=".process.container.id==\"$id\" and .process.container.name==\"$n\""
  wait_events "$named" 1 20
  e=$(events "$named" | head -n1)
  assert_eq "$(jq -r .process.container.names_from <<<"$e")" "podman storage"
  # a root filesystem has no image: said, not guessed
  assert_eq "$(jq -r '.process.container.image // ""' <<<"$e")" ""
  assert_contains "$(jq -r .process.container.names_unavailable <<<"$e")" "no image"
  # the text line says it too (from the store: once the agent sealed its
  # open block, every second)
  sleep 1.2
  local t; t=$("$CT" query --store "$T/store" --container "$n" --kind exec 2>&1 | grep -- "$m" | tail -n1)
  assert_contains "$t" "container=${id:0:12}[podman \"$n\""
  # a host process has no container
  /bin/true "$m-host"
  wait_events "$(exec_with "$m-host")" 1
  assert_eq "$(events "$(exec_with "$m-host")" | jq -r '.process.container // "none"')" none
}

test_container_write_to_watched_bind_mount_has_both_paths() {
  need_podman
  local n m id; n=$(ctr_name file); m=$(marker ctrfile)
  trap 'ctr_remove '"$n" EXIT
  echo old > "$T/watched/app-$m.conf"
  id=$(ctr_run "$n" -v "$T/watched:/etc/app" -- /bin/sh -c "echo new > /etc/app/app-$m.conf; sleep 1")
  local f=".kind==\"FILE\" and .file.path==\"$T/watched/app-$m.conf\" and .process.container"
  wait_events "$f" 1 20
  local e; e=$(events "$f" | head -n1)
  echo "$e"
  assert_eq "$(jq -r .process.container.id <<<"$e")" "$(inspect "$n" '{{.Id}}')" "FILE event container id"
  assert_eq "$(jq -r .file.ns_path <<<"$e")" "/etc/app/app-$m.conf" "the path as the container sees it"
  assert_eq "$(cat "$T/watched/app-$m.conf")" new
}

test_nft_rule_in_a_container_netns_is_its_net_event() {
  need_podman
  command -v nft >/dev/null || skip "nft is not installed"
  local n id pid netns t; n=$(ctr_name net)
  trap 'ctr_remove '"$n" EXIT
  id=$(ctr_run "$n" -- /bin/sh -c "sleep 60")
  pid=$(inspect "$n" '{{.State.Pid}}')
  netns=$(stat -Lc %i "/proc/$pid/ns/net")
  [ "$netns" != "$(stat -Lc %i /proc/self/ns/net)" ] || fail "the container shares the host's network namespace"
  t=ctct$$
  # from the host into the container's own namespace (--network none
  # still gives it one, with lo); the acting nft is not in the container
  nsenter -t "$pid" -n nft add table inet "$t"
  local f=".kind==\"NET\" and .net.table==\"$t\" and .net.netns_inode==$netns"
  wait_events "$f" 1 20
  local e; e=$(events "$f" | head -n1)
  echo "$e"
  assert_eq "$(jq -r .net.netns_container.id <<<"$e")" "$(inspect "$n" '{{.Id}}')" "NET event container id"
  assert_eq "$(jq -r '.process.container // "host"' <<<"$e")" host "nft ran on the host"
  sleep 1.2   # the agent seals its open block every second
  assert_eq "$("$CT" query --store "$T/store" --container "$id" --kind net --json | jq -s 'map(select(.net.table=="'"$t"'")) | length')" 1 \
    "query --container finds the NET event into its namespace"
  nsenter -t "$pid" -n nft delete table inet "$t"
}

test_container_env_deploy_id_attributes_its_changes() {
  need_podman
  local n m d id; n=$(ctr_name env); m=$(marker ctrenv); d=CT-ENV-$$-$RANDOM
  trap 'ctr_remove '"$n" EXIT
  "$CT" deploy start --id "$d" --ai-tool kiro --author ci >/dev/null
  # the Kubernetes rollout pattern: the deploy id in the container's env
  id=$(ctr_run "$n" -e "CHANGETRACE_DEPLOY_ID=$d" -v "$T/watched:/etc/app" -- \
    /bin/sh -c "echo $m > /etc/app/env-$m.conf; sleep 1")
  local x="$(exec_with "$m" sh)"
  wait_events "$x" 1 20
  local e; e=$(events "$x" | head -n1)
  assert_eq "$(jq -r .attribution.deploy_id <<<"$e")" "$d" "exec attributed"
  assert_eq "$(jq -r .attribution.method <<<"$e")" ENVIRONMENT
  assert_eq "$(jq -r '.attribution.unregistered // false' <<<"$e")" false "a registered deploy"
  local f=".kind==\"FILE\" and .file.path==\"$T/watched/env-$m.conf\""
  wait_events "$f" 1 20
  e=$(events "$f" | head -n1)
  assert_eq "$(jq -r .attribution.deploy_id <<<"$e")" "$d" "the container's file change attributed"
  assert_eq "$(jq -r .process.container.id <<<"$e")" "$id"
  "$CT" deploy end --id "$d" --status succeeded >/dev/null
  local j; j=$("$CT" deploy show "$d" --store "$T/store" --json)
  assert_eq "$(jq -r --arg id "$id" '.footprint.containers | map(select(.id==$id)) | length' <<<"$j")" 1 \
    "deploy show lists the container"
}

test_deploy_start_container_claims_a_running_container() {
  need_podman
  local n d id; n=$(ctr_name claim); d=CT-CLAIM-$$-$RANDOM
  trap 'ctr_remove '"$n" EXIT
  id=$(ctr_run "$n" -- /bin/sh -c 'while :; do sleep 0.2; done')
  sleep 0.5
  # nothing claims it yet: drift
  assert_eq "$(ctr_events "$id" '.kind=="EXEC" and .attribution.deploy_id' | wc -l)" 0
  "$CT" deploy start --id "$d" --container "$n" --author alice >/dev/null
  local j; j=$("$CT" deploy show "$d" --json)
  assert_eq "$(jq -r '.containers[0]' <<<"$j")" "$id" "the claim names the full id"
  assert_contains "$(jq -r '.cgroups[0]' <<<"$j")" "libpod-$id"
  # its running shell was tagged: what it starts from now on is the deploy's
  wait_events ".process.container.id==\"$id\" and .kind==\"EXEC\" and .attribution.deploy_id==\"$d\"" 2 20
  # a process podman execs into it is claimed by its cgroup
  podman exec "$n" /bin/sh -c "true claimed-$$"
  wait_events "$(exec_with "claimed-$$" sh) and .attribution.deploy_id==\"$d\"" 1 20
  assert_eq "$(events "$(exec_with "claimed-$$" sh)" | jq -r .attribution.method | head -n1)" CGROUP
  # an id prefix and a name that is not running are refused, clearly
  local out rc
  set +e; out=$("$CT" deploy start --id "$d-x" --container nosuch-$$ 2>&1); rc=$?; set -e
  assert_eq "$rc" 1 "unknown container refused"
  assert_contains "$out" "no running container nosuch-$$"
  "$CT" deploy end --id "$d" --status succeeded >/dev/null
  j=$("$CT" deploy show "$d" --store "$T/store")
  assert_contains "$j" "containers touched:   1"
  assert_contains "$j" "${id:0:12} podman"
}

test_query_container_finds_its_events() {
  need_podman
  local n m id; n=$(ctr_name query); m=$(marker ctrq)
  trap 'ctr_remove '"$n" EXIT
  id=$(ctr_run "$n" -- /bin/sh -c "true $m; sleep 1; true $m-2")
  podman wait "$n" >/dev/null
  # its last process's exit is in
  wait_events ".process.container.id==\"$id\" and .kind==\"EXIT\" and .process.comm==\"sh\"" 1 20
  /bin/true "$m-host"
  wait_events "$(exec_with "$m-host")" 1
  sleep 1.2   # the agent seals its open block every second
  local by_id by_short by_name by_prefix host
  by_id=$("$CT" query --store "$T/store" --container "$id" --json | jq -s 'length')
  by_short=$("$CT" query --store "$T/store" --container "${id:0:12}" --json | jq -s 'length')
  by_prefix=$("$CT" query --store "$T/store" --container "${id:0:7}" --json | jq -s 'length')
  by_name=$("$CT" query --store "$T/store" --container "$n" --json | jq -s 'length')
  assert_ge "$by_id" 3 "the container's execs and exits"
  assert_eq "$by_short" "$by_id" "short id"
  assert_eq "$by_prefix" "$by_id" "id prefix"
  # by name: the events before podman's name was looked up too
  assert_eq "$by_name" "$by_id" "name"
  host=$("$CT" query --store "$T/store" --container "$n" --json | jq -s "map(select(.process.argv // [] | any(contains(\"$m-host\")))) | length")
  assert_eq "$host" 0 "no host events"
  assert_eq "$("$CT" query --store "$T/store" --container "$n" --json | jq -s "map(select(.process.container.id != \"$id\" and .net.netns_container.id != \"$id\")) | length")" 0
  assert_eq "$("$CT" query --store "$T/store" --container nosuch-$$ --json | jq -s length)" 0
  local out rc
  set +e; out=$("$CT" query --store "$T/store" --container "" 2>&1); rc=$?; set -e
  assert_eq "$rc" 2 "an empty --container is a usage error"
}

# Kubernetes' own layout (systemd driver), made by hand: a pod slice and,
# after the claim, a containerd container scope in it with a process.
test_deploy_pod_claims_containers_started_later() {
  local root; root=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
  [ -n "$root" ] || skip "no cgroup2 mount"
  local uid; uid=$(cat /proc/sys/kernel/random/uuid)
  local base="$root/ct-test-$$-$RANDOM"
  local pod="$base/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${uid//-/_}.slice"
  local cid; cid=$(printf '%s' "$uid-ctr" | sha256sum | cut -c1-64)
  local d=CT-POD-$$-$RANDOM m; m=$(marker ctrpod)
  BGP=
  trap 'kill $BGP 2>/dev/null; sleep 0.2; find "'"$base"'" -depth -type d -exec rmdir {} \; 2>/dev/null; true' EXIT
  mkdir -p "$pod" || skip "cannot create cgroups under $root"
  "$CT" deploy start --id "$d" --pod "$uid" >/dev/null
  assert_eq "$("$CT" deploy show "$d" --json | jq -r '.pods[0]')" "$uid"
  # a container the pod starts after the claim
  mkdir "$pod/cri-containerd-$cid.scope"
  sh -c "echo \$\$ > '$pod/cri-containerd-$cid.scope/cgroup.procs'; exec sh -c '/bin/true $m; sleep 0.5; /bin/true $m-b; exec sleep 30'" &
  BGP=$!
  local x; x="$(exec_with "$m" true)"
  wait_events "$x" 1 20
  local e; e=$(events "$x" | head -n1)
  echo "$e"
  assert_eq "$(jq -r .attribution.deploy_id <<<"$e")" "$d" "claimed through the pod's cgroup"
  assert_eq "$(jq -r .process.container.id <<<"$e")" "$cid"
  assert_eq "$(jq -r .process.container.runtime <<<"$e")" containerd
  assert_eq "$(jq -r .process.container.pod_uid <<<"$e")" "$uid"
  assert_eq "$(jq -r .process.container.qos_class <<<"$e")" besteffort
  # no containerd state on this host: said so, once looked up
  local later="$(exec_with "$m-b") and (.process.container.names_unavailable // \"\" | startswith(\"no containerd bundle\"))"
  wait_events "$later" 1 20
  sleep 1.2
  assert_ge "$("$CT" query --store "$T/store" --pod "$uid" --json | jq -s length)" 1 "query --pod"
  "$CT" deploy end --id "$d" --status succeeded >/dev/null
  assert_contains "$("$CT" deploy show "$d" --store "$T/store")" "pods touched:         1"
  local out rc
  set +e; out=$("$CT" deploy start --id "$d-x" --pod 00000000-0000-0000-0000-000000000000 2>&1); rc=$?; set -e
  assert_eq "$rc" 1
  assert_contains "$out" "no pod 00000000-0000-0000-0000-000000000000"
}

# --runtime-socket: names from a docker-compatible API (podman's), asked
# before the state on disk.
test_container_names_from_runtime_socket() {
  need_podman
  local sock="$T/podman.sock" spid n m id
  podman system service --time=0 "unix://$sock" > "$T/podman-service.log" 2>&1 &
  spid=$!
  n=$(ctr_name sock); m=$(marker ctrsock)
  trap 'ctr_remove '"$n"'; kill '"$spid"' 2>/dev/null' EXIT
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  [ -S "$sock" ] || skip "podman system service did not start: $(tail -n1 "$T/podman-service.log")"
  CHANGETRACE_SOCKET=$T/ctl2.sock "$CT" agent --json --store "$T/store2" --pin-dir "$CT_PIN_DIR-2" \
    --no-feed --runtime-socket "$sock" > "$T/events2.jsonl" 2> "$T/agent2.err" &
  ct_track_pid $!
  for _ in $(seq 100); do CHANGETRACE_SOCKET=$T/ctl2.sock "$CT" status >/dev/null 2>&1 && break; sleep 0.1; done
  id=$(ctr_run "$n" -- /bin/sh -c "true $m; sleep 1; true $m-2")
  local f=".process.container.id==\"$id\" and .process.container.name==\"$n\""
  for _ in $(seq 200); do
    [ "$(jq -c "select($f)" "$T/events2.jsonl" 2>/dev/null | wc -l)" -ge 1 ] && break
    sleep 0.1
  done
  local e; e=$(jq -c "select($f)" "$T/events2.jsonl" | head -n1)
  [ -n "$e" ] || fail "no event named by the runtime socket: $(tail -n3 "$T/agent2.err")"
  assert_eq "$(jq -r .process.container.names_from <<<"$e")" "runtime socket"
  assert_eq "$(jq -r .process.container.id <<<"$e")" "$id"
  CHANGETRACE_SOCKET=$T/ctl2.sock "$CT" status --json | jq -e '.status.counters[] | select(.name=="container_names_socket_queries") | .value >= 1' >/dev/null \
    || fail "socket queries not counted"
}

# A tree delegated to a user (as systemd's user@.service delegates one) is
# the user's: a cgroup they name docker-<id>.scope there is not that
# container, neither on their events nor for a deploy's --container claim,
# which finds the runtime's own cgroup of that id.
test_delegated_cgroup_does_not_pass_as_a_container() {
  local root; root=$(findmnt -n -t cgroup2 -o TARGET | head -n1)
  [ -n "$root" ] || skip "no cgroup2 mount"
  local cid; cid=$(printf '%s' "deleg-$$-$RANDOM" | sha256sum | cut -c1-64)
  local base="$root/ct-test-$$-$RANDOM"
  local user="$base/user-tree" runtime="$base/runtime"
  local m d=CT-DELEG-$$-$RANDOM; m=$(marker deleg)
  UP= RP=
  trap 'kill $UP $RP 2>/dev/null; sleep 0.2; find "'"$base"'" -depth -type d -exec rmdir {} \; 2>/dev/null; true' EXIT
  mkdir -p "$user" "$runtime" || skip "cannot create cgroups under $root"
  chown nobody "$user"
  # the user names a cgroup in their tree after the container
  setpriv --reuid=nobody --regid=nogroup --clear-groups mkdir "$user/docker-$cid.scope"
  [ "$(stat -c %U "$user/docker-$cid.scope")" = nobody ] || fail "the user's cgroup is not theirs"
  mkdir "$runtime/docker-$cid.scope"
  sh -c "echo \$\$ > '$user/docker-$cid.scope/cgroup.procs'; exec setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c '/bin/true $m-user; exec sleep 30'" &
  UP=$!
  sh -c "echo \$\$ > '$runtime/docker-$cid.scope/cgroup.procs'; exec sh -c '/bin/true $m-runtime; exec sleep 30'" &
  RP=$!
  wait_events "$(exec_with "$m-user" true)" 1 20
  wait_events "$(exec_with "$m-runtime" true)" 1 20
  local e; e=$(events "$(exec_with "$m-user" true)" | head -n1)
  echo "$e"
  assert_contains "$(jq -r .process.cgroup_path <<<"$e")" "user-tree/docker-$cid.scope"
  assert_eq "$(jq -r '.process.container.id // "none"' <<<"$e")" none "the user's cgroup is no container"
  assert_eq "$(events "$(exec_with "$m-runtime" true)" | head -n1 | jq -r .process.container.id)" "$cid" \
    "the runtime's cgroup of that id is the container"
  "$CT" status --json | jq -e '.status.counters[] | select(.name=="container_unowned_cgroups") | .value >= 1' >/dev/null \
    || fail "the user's cgroup is not counted"
  # the claim takes the runtime's cgroup, never the user's
  "$CT" deploy start --id "$d" --container "$cid" >/dev/null
  local cg; cg=$("$CT" deploy show "$d" --json | jq -r '.cgroups[0]')
  assert_contains "$cg" "runtime/docker-$cid.scope"
  "$CT" deploy end --id "$d" --status succeeded >/dev/null
}
