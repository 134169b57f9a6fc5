#!/usr/bin/env bash
# Install every Debian package changetrace needs to build, test and bench.
# Idempotent and quiet when everything is already there.
set -euo pipefail

PKGS=(
  # build
  make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
  protobuf-c-compiler libprotobuf-c-dev libssl-dev libcurl4-openssl-dev
  libnftables-dev libsystemd-dev libjansson-dev
  # man pages, the Debian package and the systemd unit's checks
  help2man debhelper dpkg-dev lintian systemd man-db bsdextrautils adduser bash-completion
  # tests
  jq iproute2 nftables iptables util-linux procps git python3
  # real containers (tests/e2e/test_containers.sh): podman with runc, a
  # busybox root filesystem, no image registry
  podman runc conmon busybox-static
  # benchmarks and fuzzing
  auditd libbpf-tools hyperfine libclang-rt-14-dev valgrind libjansson-dev
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# auditd is only for side-by-side benchmarks: if this script just installed
# it and the package started it, stop that instance (by its pidfile).
if [[ " ${missing[*]} " == *" auditd "* ]] && [ -s /var/run/auditd.pid ]; then
  kill "$(cat /var/run/auditd.pid)" 2>/dev/null || true
fi
