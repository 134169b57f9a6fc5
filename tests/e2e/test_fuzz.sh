# Short libFuzzer runs of every harness in tests/fuzz (make fuzz runs them
# longer): the control-socket decoder, the store reader, the netlink
# decoder, the policy parser, the watch-list parser, the agent's
# configuration file and its last known state snapshot, the
# JSON/text/OTLP encoders, built with
# ASan/UBSan. CT_FUZZ_SECONDS (default 5) per harness.

fuzz_one() {
  [ -x "$BUILD/fuzz/fuzz_$1" ] || skip "fuzzer not built (make fuzzers: clang with -fsanitize=fuzzer)"
  FUZZ_SECONDS=${CT_FUZZ_SECONDS:-5} tests/fuzz/run.sh "$1" | tee /dev/stderr | grep -q "^ok fuzz_$1"
}

test_fuzz_control_socket_decoder() { fuzz_one control; }
test_fuzz_store_reader() { fuzz_one store; }
test_fuzz_netlink_decoder() { fuzz_one netlink; }
test_fuzz_policy_parser() { fuzz_one policy; }
test_fuzz_watch_list_parser() { fuzz_one watchlist; }
test_fuzz_agent_config_parser() { fuzz_one agentconfig; }
test_fuzz_last_state_snapshot() { fuzz_one laststate; }
# JSON, text and OTLP encoders on arbitrary bytes, checked by a strict decoder
test_fuzz_encoders_output_strict_utf8() { fuzz_one encoders; }
