#!/usr/bin/env bash
# Run every libFuzzer harness in $BUILD/fuzz for FUZZ_SECONDS each (or
# FUZZ_RUNS iterations), with a corpus kept in $BUILD/fuzz/corpus/NAME
# (seeded here with a few valid inputs). A crash leaves its input in
# $BUILD/fuzz/crashes/NAME and makes the script fail.
#   tests/fuzz/run.sh [NAME...]     e.g. tests/fuzz/run.sh store policy
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-$PWD/build}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(control netlink policy store watchlist agentconfig encoders laststate)

seed() { # NAME: write seed inputs into the corpus dir
  local d=$BUILD/fuzz/corpus/$1
  mkdir -p "$d"
  case $1 in
    control)
      printf '\x00\x00\x00\x02\x12\x00' > "$d/status"
      printf '\x00\x00\x00\x08\x52\x06\x0a\x04\x0a\x02d1' > "$d/deploy-start"
      printf '\x00\x00\x00\x02\x62\x00\x00\x00\x00\x06\x6a\x04\x0a\x02d1' > "$d/list-show"
      printf '\x00\x00\x00\x06\x5a\x04\x0a\x02d1' > "$d/deploy-end" ;;
    netlink)
      # rtnetlink RTM_NEWLINK with IFLA_IFNAME; an nfnetlink batch begin
      printf '\x00\x20\x00\x00\x00\x10\x00\x05\x06\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x03\x00eth0' > "$d/newlink"
      printf '\x01\x14\x00\x00\x00\x10\x00\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0a\x00' > "$d/nft-batch" ;;
    policy)
      printf 'protect /etc/payments /srv/app/conf\nprotect-net nft:inet/filter\nrule ai-unapproved: ai and unapproved and protected => halt\nrule scope: out-of-scope => alert\nrule d: not drift and file => kill\nbudget blast: files 50 => halt\nbudget n: net 10 => alert\n' > "$d/readme"
      printf 'rule no-destroy: ai and unapproved and exec "terraform destroy*" => halt\nrule rm: not drift and exec "/usr/*/rm -r* /*" => kill # c\nrule n: drift and high-risk and exec nft => alert\nrule s: out-of-scope and exec "kubectl delete * --all" => halt\n' > "$d/exec"
      printf 'terraform destroy -auto-approve *\n' > "$d/command" ;;
    watchlist)
      printf '/etc\n  /tmp/../tmp/./x  # comment\n\n/proc/sys\n' > "$d/list" ;;
    laststate)
      # version 1, a store id, seq 5, a root, a file, an nft ruleset
      printf '\x08\x01\x12\x100123456789abcdef\x18\x05\x2a\x02/w\x32\x0a\x0a\x04/w/a\x28\xa4\x81\x02\x3a\x1c\x0a\x04host\x1a\x03nft\x22\x0ftable ip t {\n}\n' > "$d/state" ;;
    encoders)
      # selector byte, then NUL-separated strings: bad bytes, escapes, a cut character
      printf '\x04id\0host\0ech\xffo\0/bin/echo\0/tmp\0/cg\0/bin/echo\0\xff\0\x1b]0;t\x07\0\xe2\x82\0' > "$d/exec"
      printf '\x00id\0h\0c\0e\0w\0g\0a\0b\0c\0d\0p\0pe\0D1\0/etc/\xc0\xaf\0/old\xed\xa0\x80\0n\0x' > "$d/file" ;;
    agentconfig)
      printf '# agent\njson\nwatch /srv/app conf  # spaces\notlp-endpoint http://127.0.0.1:4318\n--watch /etc\n' > "$d/conf" ;;
    store)
      if [ -x "$BUILD/tests/ct_store_bench" ] && [ ! -e "$d/seg" ]; then
        local t; t=$(mktemp -d)
        "$BUILD/tests/ct_store_bench" "$t/s" 300 >/dev/null 2>&1 &&
          cp "$(ls "$t"/s/seg-*.cts | head -n1)" "$d/seg"
        rm -rf "$t"
      fi ;;
  esac
}

rc=0
for n in "${names[@]}"; do
  bin=$BUILD/fuzz/fuzz_$n
  [ -x "$bin" ] || { echo "FAIL fuzz_$n: $bin not built (make fuzzers)"; rc=1; continue; }
  seed "$n"
  crashes=$BUILD/fuzz/crashes/$n
  mkdir -p "$crashes"
  log=$BUILD/fuzz/$n.log
  if [ -n "${FUZZ_RUNS:-}" ]; then lim=(-runs="$FUZZ_RUNS"); else lim=(-max_total_time="$FUZZ_SECONDS"); fi
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     "$bin" "${lim[@]}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/" \
       -print_final_stats=1 "$BUILD/fuzz/corpus/$n" > "$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "ok fuzz_$n: ${execs:-?} inputs, corpus $(ls "$BUILD/fuzz/corpus/$n" | wc -l)"
  else
    echo "FAIL fuzz_$n: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$log") (log $log, input in $crashes)"
    rc=1
  fi
done
exit $rc
