# make install / uninstall, the systemd unit, --help and the man pages, bash
# completion, and the Debian package (installed and removed on this host).

# every command the binary lists, then every deploy command
commands() { "$CT" --help | awk '/^  [a-z]+  /{print $1}'; }
deploy_commands() { "$CT" deploy --help | awk '/^  [a-z]+  /{print $1}'; }

# make install into a private root; prints nothing
stage_install() { # DESTDIR [make vars...]
  local dest=$1; shift
  make -s -C "$REPO" BUILD="$BUILD" install DESTDIR="$dest" PREFIX=/usr "$@" >/dev/null
}

setup_file() { REPO=$PWD; export REPO; }

test_make_install_lays_out_exactly_the_files() {
  stage_install "$T/root"
  local want; want=$(
    printf '%s\n' /etc/changetrace/changetrace.conf \
      /usr/lib/systemd/system/changetrace.service /usr/lib/tmpfiles.d/changetrace.conf \
      /usr/sbin/changetrace /usr/share/bash-completion/completions/changetrace \
      /usr/share/doc/changetrace/examples/guardrail.policy /usr/share/man/man8/changetrace.8 \
      /usr/share/doc/changetrace/examples/exec-guard.policy
    for c in $(commands); do
      [ "$c" = version ] || echo "/usr/share/man/man8/changetrace-$c.8"
    done | sort)
  local got; got=$(cd "$T/root" && find . -type f | sed 's/^\.//' | sort)
  [ "$got" = "$(sort <<<"$want")" ] || fail "installed files differ: $(diff <(sort <<<"$want") <(echo "$got"))"
  cmp -s "$T/root/usr/sbin/changetrace" "$CT" || fail "installed binary is not the built one"
  grep -qx 'ExecStart=/usr/sbin/changetrace agent --config /etc/changetrace/changetrace.conf' \
    "$T/root/usr/lib/systemd/system/changetrace.service" || fail "unit not made for sbindir/sysconfdir"
  # sbindir and sysconfdir are honoured
  stage_install "$T/alt" sbindir=/opt/ct/bin sysconfdir=/opt/ct/etc
  [ -x "$T/alt/opt/ct/bin/changetrace" ] && [ -f "$T/alt/opt/ct/etc/changetrace/changetrace.conf" ] ||
    fail "sbindir/sysconfdir ignored"
  grep -q 'ExecStart=/opt/ct/bin/changetrace agent --config /opt/ct/etc/changetrace/changetrace.conf' \
    "$T/alt/usr/lib/systemd/system/changetrace.service" || fail "unit paths not from sbindir/sysconfdir"
  # uninstall removes everything; an edited config survives install and uninstall
  make -s -C "$REPO" BUILD="$BUILD" uninstall DESTDIR="$T/root" PREFIX=/usr >/dev/null
  [ -z "$(find "$T/root" -type f)" ] || fail "uninstall left: $(find "$T/root" -type f)"
  stage_install "$T/root"
  echo "watch /srv/edited" >> "$T/root/etc/changetrace/changetrace.conf"
  stage_install "$T/root"
  grep -q /srv/edited "$T/root/etc/changetrace/changetrace.conf" || fail "install overwrote an edited config"
  make -s -C "$REPO" BUILD="$BUILD" uninstall DESTDIR="$T/root" PREFIX=/usr >/dev/null
  assert_eq "$(cd "$T/root" && find . -type f)" ./etc/changetrace/changetrace.conf "after uninstall"
}

test_systemd_analyze_verify_passes_on_the_unit() {
  command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (tools/install-deps.sh installs systemd)"
  # installed under a private prefix, so that the unit's ExecStart exists
  # and its Documentation= man pages resolve
  make -s -C "$REPO" BUILD="$BUILD" install PREFIX="$T/p" sysconfdir="$T/p/etc" INSTALL_GROUP=no >/dev/null
  local out rc
  set +e; out=$(MANPATH=$T/p/share/man systemd-analyze verify "$T/p/lib/systemd/system/changetrace.service" 2>&1); rc=$?; set -e
  [ $rc -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (rc $rc): $out"
  # what the issue asks of the unit
  local u=$T/p/lib/systemd/system/changetrace.service
  for l in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure NoNewPrivileges=yes \
      ProtectSystem=strict 'ReadWritePaths=/var/lib/changetrace /run/changetrace'; do
    grep -qxF "$l" "$u" || fail "unit lacks $l"
  done
  grep -q '^WatchdogSec=' "$u" && grep -q '^CapabilityBoundingSet=CAP_' "$u" || fail "no watchdog or bounding set"
}

test_every_command_answers_help() {
  local c out
  for c in $(commands) "help blame"; do
    out=$("$CT" $c --help) || fail "$c --help exited $?"
    case $c in help*) c=blame ;; esac
    [[ $out == "usage: changetrace $c"* ]] || fail "$c --help: no usage line: ${out:0:80}"
  done
  for c in $(deploy_commands); do
    out=$("$CT" deploy "$c" --help) || fail "deploy $c --help exited $?"
    [[ $out == "usage: changetrace deploy $c"* ]] || fail "deploy $c --help: ${out:0:80}"
    # `deploy --help` is the full usage: every deploy command's own text
    grep -qF -- "$out" <<<"$("$CT" deploy --help)" || fail "deploy --help lacks deploy $c's usage"
  done
  [ "$(deploy_commands | wc -l)" -ge 6 ] || fail "deploy commands: $(deploy_commands)"
  # --help wins wherever it is, and nothing runs
  "$CT" blame /etc/x --help >/dev/null || fail "blame PATH --help"
  "$CT" policy check --help >/dev/null || fail "policy check --help"
  "$CT" version --help | grep -q '^usage: changetrace version' || fail "version --help"
}

# the options a text names: --name tokens
options_in() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

test_man_pages_agree_with_help() {
  stage_install "$T/root"
  local man=$T/root/usr/share/man/man8 c page text
  for c in "" $(commands); do
    [ "$c" = version ] && continue
    page=$man/changetrace${c:+-$c}.8
    [ -f "$page" ] || fail "no man page for '${c:-changetrace}'"
    text=$(MANWIDTH=200 man -l "$page" 2>/dev/null | col -b)
    [ -n "$text" ] || fail "$page does not render"
    # the same options; the page's added sections (dist/man/*.h2m) may name more
    local help_opts page_opts extra=$REPO/dist/man/changetrace${c:+-$c}.h2m missing added
    help_opts=$("$CT" $c --help | options_in)
    page_opts=$(options_in <<<"$text")
    missing=$(comm -23 <(echo "$help_opts") <(echo "$page_opts"))
    added=$(comm -13 <(echo "$help_opts") <(echo "$page_opts") |
      grep -vxF -f <([ -f "$extra" ] && sed 's/\\-/-/g' "$extra" | options_in; echo -) || true)
    [ -z "$missing$added" ] || fail "${c:-changetrace}(8) and --help differ: missing $missing, added $added"
    # the synopsis is the usage line
    grep -qF -- "$("$CT" $c --help | head -1 | sed 's/^usage: //')" <<<"$(tr -s ' ' <<<"$text")" ||
      fail "${c:-changetrace}(8): synopsis is not the usage line"
  done
  # and a stale page is caught: one option dropped
  sed -i '0,/\\-\\-json/s/\\-\\-json/\\-\\-jsn/' "$man/changetrace-status.8"
  [ "$(MANWIDTH=200 man -l "$man/changetrace-status.8" | col -b | options_in)" != "$("$CT" status --help | options_in)" ] ||
    fail "the agreement check missed a changed option"
}

test_config_lists_every_agent_option() {
  local conf=$REPO/dist/changetrace.conf o
  for o in $("$CT" agent --help | options_in); do
    case $o in --config|--help) continue ;; esac
    grep -Eq "^#? ?${o#--}( |$)" "$conf" || fail "changetrace.conf does not mention ${o#--}"
  done
  # and it is a valid config: the agent parses it (command-line --help after it)
  "$CT" agent --config "$conf" --help >/dev/null || fail "agent rejects the shipped config"
}

test_bash_completion_completes_commands_and_options() {
  command -v "$CT" >/dev/null
  local out
  out=$(bash -c '
    source "$1"
    complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _changetrace; echo "${COMPREPLY[*]}"; }
    complete_words "$2" bl
    complete_words "$2" agent --watch-
    complete_words "$2" deploy sh
    complete_words "$2" deploy end --status f
    complete_words "$2" agent --fsync i
  ' _ "$REPO/dist/changetrace.bash-completion" "$CT")
  assert_eq "$(sed -n 1p <<<"$out")" "blame"
  assert_eq "$(sed -n 2p <<<"$out")" "--watch-list --watch-only"
  assert_eq "$(sed -n 3p <<<"$out")" "show"
  assert_eq "$(sed -n 4p <<<"$out")" "failed"
  assert_eq "$(sed -n 5p <<<"$out")" "interval"
}

# The package, installed on this host and removed again. Serialized with
# any other run of this test; skipped where a changetrace is installed or
# a store exists already (never touch what someone else put there). With
# no systemd as PID 1 the maintainer scripts skip the service (and so no
# agent binds the default socket).
test_deb_builds_installs_runs_and_removes() {
  need_root
  command -v dpkg-buildpackage >/dev/null && command -v lintian >/dev/null ||
    fail "dpkg-dev/debhelper/lintian missing (tools/install-deps.sh installs them)"
  exec 9> /run/lock/changetrace-deb-test.lock
  flock -w 600 9 || fail "another package test holds the lock"
  dpkg-query -W -f='${Status}' changetrace 2>/dev/null | grep -q installed &&
    skip "a changetrace package is installed on this host"
  [ ! -e /var/lib/changetrace ] && [ ! -e /usr/sbin/changetrace ] && [ ! -e /etc/changetrace ] ||
    skip "this host has changetrace files outside a package"
  local had_group=0 had_run=0
  getent group changetrace >/dev/null && had_group=1
  [ -e /run/changetrace ] && had_run=1
  local sysd=0; [ -d /run/systemd/system ] && sysd=1
  [ $sysd -eq 0 ] || skip "systemd is PID 1 here: installing would start the service"
  # build (lintian --fail-on error is part of `make deb`)
  make -s -C "$REPO" BUILD="$T/b" deb > "$T/deb.log" 2>&1 || fail "make deb: $(tail -n 20 "$T/deb.log")"
  local deb; deb=$(ls "$T"/b/deb/changetrace_*.deb)
  dpkg-deb -f "$deb" Depends | grep -q libbpf || fail "no runtime library dependencies: $(dpkg-deb -f "$deb" Depends)"
  dpkg-deb -e "$deb" "$T/ctrl"
  grep -qx /etc/changetrace/changetrace.conf "$T/ctrl/conffiles" || fail "config is not a conffile"
  grep -q 'deb-systemd-invoke stop' "$T/ctrl/prerm" || fail "removal does not stop the service"
  grep -q '_dh_action=restart' "$T/ctrl/postinst" || fail "upgrade does not restart the service"
  grep -q "deb-systemd-helper enable" "$T/ctrl/postinst" || fail "the service is not enabled"
  trap 'dpkg --purge changetrace >/dev/null 2>&1 || true
        [ '$had_group' = 1 ] || delgroup --system --quiet changetrace 2>/dev/null || true
        [ '$had_run' = 1 ] || rmdir /run/changetrace 2>/dev/null || true' EXIT
  dpkg -i "$deb" > "$T/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg.log")"
  getent group changetrace >/dev/null || fail "no changetrace group"
  [ -d /var/lib/changetrace ] || fail "no store directory"
  assert_eq "$(stat -c %a /var/lib/changetrace)" 700 "store mode"
  [ -d /run/changetrace ] || fail "tmpfiles entry not applied"
  [ -L /etc/systemd/system/multi-user.target.wants/changetrace.service ] || fail "service not enabled"
  /usr/sbin/changetrace version | grep -q "^changetrace " || fail "packaged binary: version"
  # its status: of nothing (exit 1, says so), then of an agent it runs itself
  local rc; set +e; /usr/sbin/changetrace status --socket "$T/none.sock" > "$T/st"; rc=$?; set -e
  assert_eq "$rc" 1 "status with no agent"; grep -q 'not running' "$T/st" || fail "status: $(cat "$T/st")"
  /usr/sbin/changetrace agent --config /etc/changetrace/changetrace.conf --socket "$T/pkg.sock" \
    --store "$T/pkg-store" --pin-dir "$CT_PIN_DIR-pkg" > /dev/null 2> "$T/pkg.err" &
  local ap=$!; ct_track_pid $ap
  for _ in $(seq 100); do /usr/sbin/changetrace status --socket "$T/pkg.sock" >/dev/null 2>&1 && break; sleep 0.1; done
  /usr/sbin/changetrace status --socket "$T/pkg.sock" | grep -q '^agent: up' || fail "packaged agent: $(cat "$T/pkg.err")"
  kill -TERM $ap; wait $ap || fail "packaged agent did not stop cleanly"
  # remove: the binary goes, the store and the (conf)files stay; purge: all
  echo keep > /var/lib/changetrace/marker
  dpkg -r changetrace > "$T/dpkg.log" 2>&1 || fail "dpkg -r: $(cat "$T/dpkg.log")"
  [ ! -e /usr/sbin/changetrace ] || fail "binary left after dpkg -r"
  [ -f /var/lib/changetrace/marker ] || fail "dpkg -r removed the store"
  [ -f /etc/changetrace/changetrace.conf ] || fail "dpkg -r removed the conffile"
  dpkg --purge changetrace > "$T/dpkg.log" 2>&1 || fail "dpkg --purge: $(cat "$T/dpkg.log")"
  [ ! -e /var/lib/changetrace ] || fail "purge left the store"
  [ ! -e /etc/changetrace ] || fail "purge left /etc/changetrace"
  [ ! -e /etc/systemd/system/multi-user.target.wants/changetrace.service ] || fail "purge left the enable link"
}
