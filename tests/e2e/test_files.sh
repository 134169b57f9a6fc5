# Config writes: every change under a watched tmp tree, through
# plain syscalls and real tools, attributed, with digests and diffs.

files_setup() {
  W=$T/w-$RANDOM
  mkdir -p "$W"
  ct_agent_start --watch "$W" "$@"
}
# the agent has read every watched file once (the "before" of a first change)
wait_baseline() {
  for _ in $(seq 100); do "$CT" status | grep -q 'file_baseline_done=1' && return 0; sleep 0.1; done
  fail "baseline did not finish"
}
# file events on a path (exact)
on_path() { echo ".kind==\"FILE\" and .file.path==\"$1\""; }
file_ops() { events ".kind==\"FILE\" and (.file.path | startswith(\"$W/\"))" | jq -r .file.op | tr '\n' ' '; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
# wait until no new file event arrived for a moment (changes settle ~50 ms)
settle() {
  local n=-1 m
  for _ in $(seq 30); do
    m=$(count_events '.kind=="FILE"')
    [ "$m" -eq "$n" ] && return 0
    n=$m; sleep 0.3
  done
}

# burst: the same syscalls with no pause coalesce (a file written and
# renamed at once is a temp file: one RENAME carries its writes)
test_plain_syscalls_burst_coalesces() {
  files_setup
  "$BUILD/tests/ct_fileops" "$W"
  wait_events "$(on_path "$W/sub")" 2
  settle
  assert_eq "$(file_ops)" "RENAME CHMOD CHOWN SETXATTR MKDIR LINK SYMLINK TRUNCATE UNLINK UNLINK UNLINK RMDIR "
  assert_eq "$(events "$(on_path "$W/renamed.conf") and .file.op==\"RENAME\"" | jq -r .file.writes)" 3
  ct_agent_stop
}

test_plain_syscalls_each_operation() {
  files_setup
  "$BUILD/tests/ct_fileops" "$W" 150
  wait_events "$(on_path "$W/sub")" 2
  settle
  local ops; ops=$(file_ops)
  # one event per step of ct_fileops, in order; nothing for the failed unlink
  assert_eq "$ops" "CREATE WRITE RENAME CHMOD CHOWN SETXATTR TRUNCATE TRUNCATE MKDIR LINK SYMLINK UNLINK UNLINK UNLINK RMDIR "
  # the rewrite (O_TRUNC): before is what the create left, after what is there now
  local c1 c2
  c1=$(events "$(on_path "$W/created.conf") and .file.op==\"CREATE\"")
  c2=$(events "$(on_path "$W/created.conf") and .file.op==\"WRITE\"")
  assert_eq "$(jq -r .file.sha256_after <<<"$c1")" "$(printf 'one\ntwo\n' | sha256sum | cut -d' ' -f1)"
  assert_eq "$(jq -r .file.writes <<<"$c1")" 2
  assert_eq "$(jq -r .file.sha256_before <<<"$c2")" "$(jq -r .file.sha256_after <<<"$c1")"
  assert_eq "$(jq -r .file.sha256_after <<<"$c2")" "$(printf 'three\n' | sha256sum | cut -d' ' -f1)"
  # renameat2 with dirfds: both names resolved to absolute paths
  assert_eq "$(events "$(on_path "$W/renamed.conf") and .file.op==\"RENAME\"" | jq -r .file.old_path)" "$W/created.conf"
  # chmod carries the new mode; ".." resolved; the acting process is ct_fileops
  assert_eq "$(events "$(on_path "$W/renamed.conf") and .file.op==\"CHMOD\"" | jq -r '.file.mode % 512')" 384
  assert_eq "$(events "$(on_path "$W/renamed.conf") and .file.op==\"UNLINK\"" | jq -r .process.comm)" ct_fileops
  assert_eq "$(events "$(on_path "$W/sub/hard.conf") and .file.op==\"LINK\"" | jq -r .file.old_path)" "$W/renamed.conf"
  assert_eq "$(events "$(on_path "$W/sub/sym.conf") and .file.op==\"SYMLINK\"" | jq -r .file.old_path)" "../renamed.conf"
  ct_agent_stop
}

test_real_tools_attributed_to_the_deploy() {
  W=$T/w-tools
  mkdir -p "$W"
  printf 'port=80\nhost=a\n' > "$W/app.conf"
  ct_agent_start --watch "$W"
  wait_baseline
  "$CT" run --deploy files-tools-1 --author file-tests --ai-tool claude-code -- sh -c "
    echo 'x=1' > '$W/redir.conf'
    cp '$W/app.conf' '$W/copy.conf'
    sed -i 's/port=80/port=8080/' '$W/app.conf'
    install -m 600 '$W/copy.conf' '$W/installed.conf'
    echo appended | tee -a '$W/installed.conf' >/dev/null
    sleep 0.3   # a file renamed at once after its write is a temp file
    mv '$W/copy.conf' '$W/moved.conf'"
  wait_events "$(on_path "$W/moved.conf")" 1
  settle
  local dep='.attribution.deploy_id=="files-tools-1"'
  assert_eq "$(count_events ".kind==\"FILE\" and ($dep | not) and (.file.path | startswith(\"$W/\"))")" 0 "every change attributed"
  assert_eq "$(events "$(on_path "$W/redir.conf") and $dep" | jq -r .file.op)" CREATE
  assert_eq "$(events "$(on_path "$W/copy.conf") and $dep" | jq -r '.file.op + " " + .process.comm')" "CREATE cp"
  # sed -i: write a temp file, rename it over the target: one change on the target
  local s; s=$(events "$(on_path "$W/app.conf") and $dep")
  assert_eq "$(wc -l <<<"$s")" 1 "sed -i is one event"
  assert_eq "$(jq -r '.file.op + " " + .process.comm' <<<"$s")" "RENAME sed"
  assert_eq "$(jq -r .file.sha256_before <<<"$s")" "$(printf 'port=80\nhost=a\n' | sha256sum | cut -d' ' -f1)"
  assert_eq "$(jq -r .file.sha256_after <<<"$s")" "$(sha "$W/app.conf")"
  assert_eq "$(events "$(on_path "$W/installed.conf") and $dep" | jq -r .process.comm | tr '\n' ' ')" "install tee "
  assert_eq "$(events "$(on_path "$W/moved.conf") and $dep" | jq -r '.file.op + " " + .file.old_path')" "RENAME $W/copy.conf"
  # the sed temp file itself is not reported on its own
  assert_eq "$(count_events ".kind==\"FILE\" and (.file.path | contains(\"/sed\"))")" 0
  ct_agent_stop
}

test_rename_from_unwatched_dir_into_watched() {
  files_setup
  mkdir -p "$T/staging"
  printf 'new config\n' > "$T/staging/drop.conf"
  mv "$T/staging/drop.conf" "$W/drop.conf"
  wait_events "$(on_path "$W/drop.conf")" 1
  local e; e=$(events "$(on_path "$W/drop.conf")")
  assert_eq "$(jq -r .file.op <<<"$e")" RENAME
  assert_eq "$(jq -r .file.old_path <<<"$e")" "$T/staging/drop.conf"
  assert_eq "$(jq -r .file.sha256_after <<<"$e")" "$(sha "$W/drop.conf")"
  # and out again: still seen, the watched name is the old path
  mv "$W/drop.conf" "$T/staging/back.conf"
  wait_events ".kind==\"FILE\" and .file.old_path==\"$W/drop.conf\"" 1
  ct_agent_stop
}

# The kernel remembers directories with no watch above them; a directory
# that moves under a watch (rename, mount move) is watched at once.
test_unwatched_dir_verdicts_follow_renames_and_mount_moves() {
  command -v unshare >/dev/null || skip "no unshare"
  files_setup
  "$CT" status | grep -q 'file_walk_cache=1 ' || fail "the walk cache is off: $("$CT" status | grep -o 'file_walk_cache=[0-9]*')"
  mkdir -p "$T/outside/dir"
  for i in 1 2 3; do echo "$i" > "$T/outside/dir/warm.conf"; done   # remembered: unwatched
  mv "$T/outside/dir" "$W/dir"
  echo moved > "$W/dir/after-rename.conf"
  wait_events "$(on_path "$W/dir/after-rename.conf")" 1
  # the path of a watched directory is remembered too: renamed, it is the new one
  for i in 1 2 3; do echo "$i" > "$W/dir/again.conf"; done
  mv "$W/dir" "$W/dir2"
  echo renamed > "$W/dir2/after-dir-rename.conf"
  wait_events "$(on_path "$W/dir2/after-dir-rename.conf")" 1
  assert_eq "$(count_events '.kind=="FILE" and (.file.path | endswith("/dir/after-dir-rename.conf"))')" 0
  # a tmpfs written while elsewhere, then moved under the watch (private
  # namespace; -n: no utab update, whose rename would hide a missed mount)
  mkdir -p "$T/mnt-src" "$W/mnt-dst"
  unshare -m --propagation private sh -c "
    mount -n -t tmpfs ct-test '$T/mnt-src' || exit 1
    for i in 1 2 3; do echo \$i > '$T/mnt-src/warm.conf'; done
    mount -n --move '$T/mnt-src' '$W/mnt-dst' || exit 1
    echo moved > '$W/mnt-dst/after-move.conf'" || fail "mount in a private namespace"
  wait_events '.kind=="FILE" and (.file.ns_path // .file.path | endswith("/mnt-dst/after-move.conf"))' 1
  assert_eq "$(count_events '.kind=="FILE" and (.file.path | contains("warm.conf")) and (.file.path | contains("/outside/") or contains("/mnt-src/"))')" 0
  ct_agent_stop
}

# ... and a directory added to the watch list by a reload is watched at once.
test_unwatched_dir_verdicts_follow_watch_list_reload() {
  W=$T/rl-$RANDOM
  mkdir -p "$W" "$T/later"
  printf '%s\n' "$W" > "$T/reload.list"
  ct_agent_start --watch-only --watch-list "$T/reload.list"
  for i in 1 2 3; do echo "$i" > "$T/later/warm.conf"; done   # remembered: unwatched
  printf '%s\n%s\n' "$W" "$T/later" > "$T/reload.list"
  kill -HUP "$AGENT_PID"
  for _ in $(seq 50); do "$CT" status | grep -q 'file_watch_paths=2 ' && break; sleep 0.1; done
  "$CT" status | grep -q 'file_watch_paths=2 ' || fail "reload did not take the new list"
  echo now-watched > "$T/later/after-reload.conf"
  wait_events "$(on_path "$T/later/after-reload.conf")" 1
  assert_eq "$(count_events "$(on_path "$T/later/warm.conf")")" 0
  ct_agent_stop
}

# A file watched on its own, in a directory whose files are known
# unwatched (the kernel skips looking files up while no watch is a file):
# added by a reload, its write is seen even once the directory's verdict is
# cached again; its siblings stay unwatched.
test_a_file_watched_on_its_own_in_an_unwatched_dir() {
  W=$T/fw-$RANDOM
  mkdir -p "$W" "$T/single"
  echo 0 > "$T/single/one.conf"
  printf '%s\n' "$W" > "$T/single.list"
  ct_agent_start --watch-only --watch-list "$T/single.list"
  for i in 1 2 3; do echo "$i" > "$T/single/sibling.conf"; echo "$i" > "$T/single/one.conf"; done
  printf '%s\n%s\n' "$W" "$T/single/one.conf" > "$T/single.list"
  kill -HUP "$AGENT_PID"
  for _ in $(seq 50); do "$CT" status | grep -q 'file_watch_paths=2 ' && break; sleep 0.1; done
  "$CT" status | grep -q 'file_watch_paths=2 ' || fail "reload did not take the new list"
  # the directory's verdict again, under the new list: unwatched
  for i in 1 2 3; do echo "after-reload $i" > "$T/single/sibling.conf"; done
  echo after-reload > "$T/single/one.conf"
  wait_events "$(on_path "$T/single/one.conf")" 1
  assert_eq "$(events "$(on_path "$T/single/one.conf")" | jq -r .file.sha256_after)" "$(sha "$T/single/one.conf")"
  echo marker > "$W/after.conf"
  wait_events "$(on_path "$W/after.conf")" 1
  assert_eq "$(count_events "$(on_path "$T/single/sibling.conf")")" 0
  ct_agent_stop
}

test_unwatched_writes_produce_nothing() {
  files_setup
  mkdir -p "$T/unwatched"
  for i in $(seq 50); do echo "$i" > "$T/unwatched/f$i"; mv "$T/unwatched/f$i" "$T/unwatched/g$i"; done
  rm -rf "$T/unwatched"
  echo marker > "$W/after.conf"
  wait_events "$(on_path "$W/after.conf")" 1
  assert_eq "$(count_events ".kind==\"FILE\" and (.file.path | contains(\"/unwatched\"))")" 0
  ct_agent_stop
}

test_thousand_rapid_writes_coalesce() {
  files_setup
  # one process, 1000 writes through one open file
  python3 -c "
import os
fd = os.open('$W/burst.conf', os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(1000): os.write(fd, b'%d\n' % i)
os.close(fd)"
  # and 1000 open/append/close cycles by one shell
  sh -c "for i in \$(seq 1000); do echo \$i >> '$W/appended.conf'; done"
  wait_events "$(on_path "$W/appended.conf")" 1
  settle
  assert_eq "$(count_events "$(on_path "$W/burst.conf")")" 1
  assert_eq "$(events "$(on_path "$W/burst.conf")" | jq -r .file.writes)" 1000
  assert_eq "$(events "$(on_path "$W/burst.conf")" | jq -r .file.sha256_after)" "$(sha "$W/burst.conf")"
  assert_eq "$(count_events "$(on_path "$W/appended.conf")")" 1
  assert_eq "$(events "$(on_path "$W/appended.conf")" | jq -r .file.sha256_after)" "$(sha "$W/appended.conf")"
  "$CT" status | grep -q 'file_coalesced=[1-9]' || fail "coalescing not counted"
  ct_agent_stop
}

# A tool rewriting one file in a loop: once the collector follows the
# change, the kernel folds each reopen into ct_wbursts instead of making
# two records; every open and write must still be counted, and a rewrite
# after the change settled is a change of its own.
test_kernel_folds_a_rewrite_loop_without_losing_writes() {
  files_setup
  python3 -c "
import os, time
p = '$W/loop.conf'
child = 0
for i in range(20000):
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b'%d\\n' % i)
    if i == 15000:
        # a child holds the file: this close(2) is not the last
        # reference, and the last goes at the child's exit, no close(2);
        # the burst counts it open until the change settles (the rest
        # of the loop is recorded, not folded)
        child = os.fork()
        if child == 0:
            time.sleep(0.02)
            os._exit(0)
    os.close(fd)
os.waitpid(child, 0)
time.sleep(0.5)
fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
os.write(fd, b'final\\n')
os.write(fd, b'line 2\\n')
os.close(fd)"
  wait_events "$(on_path "$W/loop.conf")" 2
  settle
  local folded records
  folded=$("$CT" status | sed -n 's/.*file_burst_opens=\([0-9]*\).*/\1/p')
  records=$("$CT" status | sed -n 's/.*file_records=\([0-9]*\).*/\1/p')
  [ "${folded:-0}" -ge 10000 ] || fail "kernel folded ${folded:-0} of 20000 reopens"
  [ "${records:-0}" -le 20000 ] || fail "$records ring records for 20001 opens: not folded"
  # one change for the loop and one for the final rewrite; a stall of the
  # loop longer than the settle time (50 ms, seen on a loaded VM) may split
  # the first: the writes and contents must add up all the same
  # (shown when the test fails)
  events "$(on_path "$W/loop.conf")" | jq -c "{op: .file.op, writes: .file.writes}" >&2
  local n; n=$(count_events "$(on_path "$W/loop.conf")")
  [ "$n" -ge 2 ] && [ "$n" -le 4 ] || fail "$n events for the loop and the rewrite"
  assert_eq "$(events "$(on_path "$W/loop.conf")" | jq -s 'map(.file.writes) | add')" 20002
  assert_eq "$(events "$(on_path "$W/loop.conf")" | jq -r .file.writes | tail -1)" 2
  assert_eq "$(events "$(on_path "$W/loop.conf")" | jq -r .file.sha256_after | tail -2 | head -1)" \
    "$(printf '19999\n' | sha256sum | cut -d' ' -f1)"
  assert_eq "$(events "$(on_path "$W/loop.conf")" | jq -r .file.sha256_before | tail -1)" \
    "$(printf '19999\n' | sha256sum | cut -d' ' -f1)"
  assert_eq "$(events "$(on_path "$W/loop.conf")" | jq -r .file.sha256_after | tail -1)" "$(sha "$W/loop.conf")"
  "$CT" status | grep -q 'file_burst_late=0' || fail "burst opens closed after their change was reported"
  "$CT" status | grep -q 'file_close_shared=[1-9]' || fail "the close(2) while a child held the file was not seen as shared"
  ct_agent_stop
}

# A folded reopen is followed in its process's slot (task storage), not in
# ct_wfiles. A file in the slot closed without close(2) (dup2 over its fd)
# leaves its address there; the next open, here of another file and most
# likely at that same address, is its own change with its own writes.
test_a_folded_file_closed_by_dup2_leaves_later_writes_counted() {
  files_setup
  python3 -c "
import os
null = os.open('/dev/null', os.O_WRONLY)
for i in range(20000):
    fd = os.open('$W/loop.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b'%d\\n' % i)
    if i == 19999:
        os.dup2(null, fd)   # the file's last reference goes, no close(2) on it
    os.close(fd)
fd = os.open('$W/other.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'a\\n')
os.write(fd, b'b\\n')
os.close(fd)"
  wait_events "$(on_path "$W/other.conf")" 1
  settle
  events ".kind==\"FILE\"" | jq -c "{path: .file.path, op: .file.op, writes: .file.writes}" >&2
  "$CT" status | grep -q 'file_burst_opens=[1-9]' || fail "no reopen was folded: the slot was not exercised"
  assert_eq "$(events "$(on_path "$W/other.conf")" | jq -r .file.writes)" 2
  assert_eq "$(events "$(on_path "$W/other.conf")" | jq -r .file.sha256_after)" "$(sha "$W/other.conf")"
  # the dup2'd open's own write may go uncounted (no close(2) carries it)
  local total
  total=$(events "$(on_path "$W/loop.conf")" | jq -s 'map(.file.writes) | add')
  [ "$total" -ge 19999 ] && [ "$total" -le 20000 ] || fail "loop writes counted: $total of 20000"
  "$CT" status | grep -q 'file_burst_late=0' || fail "a close was taken for a burst's"
  ct_agent_stop
}

# Probes see close(2) at exit, when the fd no longer names its file: the
# open probe keeps which file each tracked fd holds. A file dup'd and then
# closed through its first fd is followed to the other fd, whose close is
# then the file's close record (not found closed later in /proc). The
# process stays alive after it, so only the close record can end the
# change before the check.
test_a_dup_keeps_the_close_of_the_other_fd_seen() {
  files_setup
  python3 -c "
import os, time
fd = os.open('$W/dup.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'a\n')
fd2 = os.dup(fd)
os.close(fd)        # not the last reference
os.write(fd2, b'b\n')
os.close(fd2)       # the last one, through the other fd
try:
    os.close(fd2)   # EBADF: closes nothing
except OSError:
    pass
time.sleep(1.5)" &
  local pid=$!
  wait_events "$(on_path "$W/dup.conf")" 1
  events "$(on_path "$W/dup.conf")" | jq -c "{op: .file.op, writes: .file.writes}" >&2
  "$CT" status | tr ' ' '\n' | grep -E 'file_close_shared|file_closed_unseen' >&2
  "$CT" status | grep -q 'file_close_shared=1\b' || fail "the first close was not seen as shared"
  "$CT" status | grep -q 'file_closed_unseen=0\b' || fail "the other fd's close(2) was not seen"
  assert_eq "$(events "$(on_path "$W/dup.conf")" | jq -r .file.writes)" 2
  assert_eq "$(events "$(on_path "$W/dup.conf")" | jq -r .file.sha256_after)" "$(sha "$W/dup.conf")"
  wait "$pid"
  ct_agent_stop
}

# The same for a reopen folded into a burst (followed in its process's
# slot): its dup's close is the burst's close.
test_a_dup_of_a_folded_reopen_keeps_its_close_seen() {
  files_setup
  python3 -c "
import os, time
for i in range(2000):
    fd = os.open('$W/fdup.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b'%d\\n' % i)
    if i == 1999:
        fd2 = os.dup(fd)
        os.close(fd)
        os.write(fd2, b'last\\n')
        fd = fd2
    os.close(fd)
time.sleep(1.5)" &
  local pid=$!
  wait_events "$(on_path "$W/fdup.conf")" 1
  settle
  events "$(on_path "$W/fdup.conf")" | jq -c "{op: .file.op, writes: .file.writes}" >&2
  "$CT" status | tr ' ' '\n' | grep -E 'file_burst_opens|file_close_shared|file_closed_unseen|file_burst_late' >&2
  "$CT" status | grep -q 'file_burst_opens=[1-9]' || fail "no reopen was folded: the slot was not exercised"
  "$CT" status | grep -q 'file_closed_unseen=0\b' || fail "the dup's close(2) was not seen"
  "$CT" status | grep -q 'file_burst_late=0\b' || fail "a close was taken for a burst's"
  assert_eq "$(events "$(on_path "$W/fdup.conf")" | jq -s 'map(.file.writes) | add')" 2001
  assert_eq "$(events "$(on_path "$W/fdup.conf")" | jq -r .file.sha256_after | tail -n1)" "$(sha "$W/fdup.conf")"
  wait "$pid"
  ct_agent_stop
}

# No program on any sys_enter_* tracepoint: with that direction off, no
# syscall on the host pays for it (docs/performance.md, docs/design/probes.md).
test_agent_traces_syscalls_at_exit_only() {
  need_root
  files_setup
  local tps
  tps=$(bpftool perf show --json | jq -r ".[] | select(.pid==$AGENT_PID and .fd_type==\"tracepoint\") | .tracepoint")
  echo "$tps" | tr '\n' ' ' >&2
  echo "$tps" | grep -qx sys_exit_write || fail "no probe at write exit"
  echo "$tps" | grep -qx sys_exit_close || fail "no probe at close exit"
  echo "$tps" | grep -qx sys_exit_sendmsg || fail "no probe at sendmsg exit"
  assert_eq "$(echo "$tps" | grep -c '^sys_enter')" 0 "probes at syscall entry"
  ct_agent_stop
}

# A thread other than the leader execs while the process holds a watched
# file open for write: the new image's writes to it are the change's too
# (the thread becomes the leader; the writer mark was on the old one).
test_writes_after_an_exec_from_a_thread_are_counted() {
  files_setup
  python3 -c "
import os, threading
fd = os.open('$W/thr.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.set_inheritable(fd, True)
os.write(fd, b'a\\n')
def run():
    os.execv('/bin/sh', ['sh', '-c', 'echo b >&%d; echo c >&%d; sleep 0.2' % (fd, fd)])
t = threading.Thread(target=run)
t.start()
t.join()   # never returns: the exec replaces the process"
  settle
  events "$(on_path "$W/thr.conf")" | jq -c "{op: .file.op, writes: .file.writes, comm: .process.comm}" >&2
  assert_eq "$(events "$(on_path "$W/thr.conf")" | jq -s 'map(.file.writes) | add')" 3 "writes before and after the exec"
  assert_eq "$(events "$(on_path "$W/thr.conf")" | jq -r .file.sha256_after | tail -n1)" "$(sha "$W/thr.conf")"
  ct_agent_stop
}

# A file held open and quiet for 2 s is reported then and forgotten: writes
# after that are in no event, but counted when its close comes.
test_writes_after_a_quiet_report_are_counted() {
  files_setup
  python3 -c "
import os, time
fd = os.open('$W/held.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'a\\n')
time.sleep(3)
os.write(fd, b'b\\n')
os.write(fd, b'c\\n')
os.close(fd)"
  settle
  assert_eq "$(events "$(on_path "$W/held.conf")" | jq -s 'map(.file.writes) | add')" 1 "writes in the event reported while quiet"
  "$CT" status | grep -q 'file_writes_unreported=2' || fail "later writes not counted: $("$CT" status | grep -o 'file_writes_unreported=[0-9]*')"
  ct_agent_stop
}

test_private_mount_namespace_bind_mount() {
  command -v unshare >/dev/null || skip "no unshare"
  files_setup
  mkdir -p "$T/bindpt"
  # a container-like view: the watched dir bind-mounted elsewhere in a
  # private mount namespace; the host path is still the watched one
  unshare -m --propagation private sh -c "mount --bind '$W' '$T/bindpt' && echo inside > '$T/bindpt/ns.conf'"
  wait_events "$(on_path "$W/ns.conf")" 1
  local e; e=$(events "$(on_path "$W/ns.conf")")
  assert_eq "$(jq -r .file.ns_path <<<"$e")" "$T/bindpt/ns.conf"
  assert_eq "$(jq -r .file.op <<<"$e")" CREATE
  ct_agent_stop
}

test_diff_is_byte_exact() {
  files_setup
  printf 'line 1\nline 2\nline 3\n' > "$W/d.conf"
  cp "$W/d.conf" "$T/d.before"
  wait_baseline
  printf 'line 1\nline two\nline 3\nline 4\n' > "$W/d.conf"
  wait_events "$(on_path "$W/d.conf") and .file.op==\"WRITE\"" 1
  local id; id=$(events "$(on_path "$W/d.conf") and .file.op==\"WRITE\"" | jq -r .event_id)
  ct_agent_stop
  "$CT" diff --store "$T/store" "$id" > "$T/got.diff" || true
  diff -u --label "a$W/d.conf" --label "b$W/d.conf" "$T/d.before" "$W/d.conf" > "$T/want.diff" || true
  cmp "$T/got.diff" "$T/want.diff" || fail "diff differs: $(cat "$T/got.diff")"
  # a created file diffs against /dev/null; bad ids are refused cleanly
  set +e
  "$CT" diff --store "$T/store" "zz;rm" >/dev/null 2>&1; assert_eq $? 2
  "$CT" diff --store "$T/store" "0000000000000000-1" >/dev/null 2>&1; assert_eq $? 1
  set -e
}

test_binary_and_large_files_keep_digests_only() {
  files_setup --content-max 4
  head -c 8192 /dev/urandom > "$T/big"
  cp "$T/big" "$W/big.bin"
  wait_events "$(on_path "$W/big.bin")" 1
  local e; e=$(events "$(on_path "$W/big.bin")")
  assert_eq "$(jq -r .file.content_kept <<<"$e")" null
  assert_eq "$(jq -r .file.sha256_after <<<"$e")" "$(sha "$T/big")"
  assert_eq "$(jq -r .file.size_after <<<"$e")" 8192
  ct_agent_stop
  "$CT" diff --store "$T/store" "$(jq -r .event_id <<<"$e")" | grep -q "content not kept" || fail "diff should say content not kept"
}

test_sysctl_write_in_a_test_netns() {
  command -v ip >/dev/null || skip "no ip"
  local ns=ct-test-$$-f$RANDOM
  ip netns add "$ns" || fail "ip netns add"
  trap "ip netns del $ns 2>/dev/null || true" EXIT
  files_setup
  ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
  local f=".kind==\"FILE\" and .file.path==\"/proc/sys/net/ipv4/ip_forward\" and .file.sysctl_netns==\"$ns\""
  wait_events "$f" 1
  local e; e=$(events "$f")
  assert_eq "$(jq -r .file.op <<<"$e")" SYSCTL
  # the namespace existed at start: its value then is the "before"
  assert_eq "$(jq -r '.file.sysctl_before + " -> " + .file.sysctl_after' <<<"$e")" "0 -> 1"
  ct_agent_stop
}

# A namespace made after the agent started: its first sysctl write has no
# "before" (unknown, not the host's), the next one has, each with the value
# it wrote however quickly they follow. Its other values are read when its
# first write is seen: a write racing that read has no "before" rather
# than a wrong one (its own value, read back).
test_sysctl_in_a_namespace_made_after_start() {
  command -v ip >/dev/null || skip "no ip"
  local ns=ct-test-$$-g$RANDOM ns2=ct-test-$$-h$RANDOM ns3=ct-test-$$-i$RANDOM f e
  files_setup
  ip netns add "$ns" || fail "ip netns add"
  ip netns add "$ns2" || fail "ip netns add"
  trap "for n in $ns $ns2 $ns3; do ip netns del \$n 2>/dev/null || true; done" EXIT
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_default_ttl=71
  ip netns exec "$ns" sysctl -qw net.ipv4.ip_default_ttl=72
  f=".kind==\"FILE\" and .file.sysctl_netns==\"$ns\""
  wait_events "$f" 2
  assert_eq "$(events "$f" | jq -r '[.file.sysctl_after, .file.sysctl_after_source] | join(" ")' | tr '\n' ,)" \
    "71 WRITTEN,72 WRITTEN,"
  e=$(events "$f and .file.sysctl_after==\"71\"")
  assert_eq "$(jq -r '(.file.sha256_before // "") + "|" + (.file.sysctl_before // "")' <<<"$e")" "|"
  e=$(events "$f and .file.sysctl_after==\"72\"")
  assert_eq "$(jq -r .file.sysctl_before <<<"$e")" 71
  # its other values were read when its first write was seen
  ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fin_timeout=33
  wait_events "$f" 3
  e=$(events "$f and .file.sysctl_name==\"net.ipv4.tcp_fin_timeout\"")
  assert_eq "$(jq -r '.file.sysctl_before + " -> " + .file.sysctl_after' <<<"$e")" "60 -> 33"
  # a write right after the first one, while they are read: 60 or unknown
  ip netns exec "$ns2" sh -c 'echo 71 > /proc/sys/net/ipv4/ip_default_ttl; echo 34 > /proc/sys/net/ipv4/tcp_fin_timeout'
  f=".kind==\"FILE\" and .file.sysctl_netns==\"$ns2\" and .file.sysctl_name==\"net.ipv4.tcp_fin_timeout\""
  wait_events "$f" 1
  e=$(events "$f")
  assert_eq "$(jq -r .file.sysctl_after <<<"$e")" 34
  case "$(jq -r '.file.sysctl_before // "?"' <<<"$e")" in
    60|\?) ;;
    *) fail "tcp_fin_timeout's before is $(jq -r .file.sysctl_before <<<"$e"), not 60 or unknown" ;;
  esac
  # a namespace made once the first is gone often gets its inode: it is
  # another namespace all the same, its first write's "before" unknown
  local ino i; ino=$(stat -L -c %i "/run/netns/$ns")
  ip netns del "$ns"
  for i in $(seq 50); do
    ip netns add "$ns3" || fail "ip netns add"
    [ "$(stat -L -c %i "/run/netns/$ns3")" = "$ino" ] && break
    ip netns del "$ns3"; sleep 0.1
  done
  [ -e "/run/netns/$ns3" ] || ip netns add "$ns3"
  echo "inode of the namespace gone reused: $([ "$(stat -L -c %i "/run/netns/$ns3")" = "$ino" ] && echo yes || echo no)"
  ip netns exec "$ns3" sysctl -qw net.ipv4.ip_default_ttl=73
  f=".kind==\"FILE\" and .file.sysctl_netns==\"$ns3\""
  wait_events "$f" 1
  e=$(events "$f")
  assert_eq "$(jq -r '(.file.sha256_before // "") + "|" + (.file.sysctl_before // "") + "|" + .file.sysctl_after' <<<"$e")" "||73"
  ct_agent_stop
}

test_watch_flags_validated() {
  need_root
  set +e
  out=$("$CT" agent --quiet --socket "$T/x.sock" --watch relative/path 2>&1); assert_eq $? 2
  assert_contains "$out" "not absolute"
  printf '/tmp\nrelative\n' > "$T/list"
  out=$("$CT" agent --quiet --socket "$T/x.sock" --watch-list "$T/list" 2>&1); assert_eq $? 2
  assert_contains "$out" "list:2:"
  out=$("$CT" agent --quiet --socket "$T/x.sock" --content-max -1 2>&1); assert_eq $? 2
  set -e
}

test_deploy_show_footprint_with_files_and_scope() {
  files_setup
  mkdir -p "$W/app" "$W/other"
  "$CT" deploy start --id fp-files-1 --author me --ai-tool claude-code --approved-by bob --scope "$W/app" >/dev/null
  "$CT" run --deploy fp-files-1 -- sh -c "echo 1 > '$W/app/a.conf'; echo 2 > '$W/other/b.conf'"
  wait_events "$(on_path "$W/other/b.conf")" 1
  settle
  ct_agent_stop
  local out; out=$("$CT" deploy show fp-files-1 --store "$T/store")
  assert_contains "$out" "files changed:        2 changes to 2 paths"
  assert_contains "$out" "outside scope:        1 file changes"
  grep -F "$W/other/b.conf" <<<"$out" | grep -q OUT-OF-SCOPE || fail "b.conf not out of scope: $out"
  grep -F "$W/app/a.conf" <<<"$out" | grep -q OUT-OF-SCOPE && fail "a.conf is in scope: $out"
  # the event ids shown are the ones `diff` takes
  local id; id=$(grep -F "$W/app/a.conf" <<<"$out" | awk '{print $1}')
  "$CT" diff --store "$T/store" "$id" | grep -q '^+1$' || fail "diff of $id"
}

test_blame_and_path_filter_on_real_changes() {
  files_setup
  echo v1 > "$W/b.conf"
  wait_events "$(on_path "$W/b.conf")" 1
  "$CT" run --deploy blame-1 --author blame-tests -- sh -c "echo v2 > '$W/b.conf'"
  wait_events "$(on_path "$W/b.conf") and .attribution.deploy_id==\"blame-1\"" 1
  echo other > "$W/c.conf"
  wait_events "$(on_path "$W/c.conf")" 1
  settle
  ct_agent_stop
  local out; out=$("$CT" blame --store "$T/store" "$W/b.conf")
  assert_eq "$(grep -c FILE <<<"$out")" 2 "two changes to b.conf: $out"
  # newest first: the deploy's change, then the drift
  head -1 <<<"$out" | grep -q 'deploy=blame-1' || fail "newest first: $out"
  assert_eq "$("$CT" query --store "$T/store" --path "$W/*.conf" --json | jq -r .file.path | sort -u | tr '\n' ' ')" "$W/b.conf $W/c.conf "
  assert_eq "$("$CT" query --store "$T/store" --path "$W/c.*" --json | wc -l)" 1
}

test_watch_list_file_and_watch_only() {
  W=$T/wl-$RANDOM
  mkdir -p "$W" "$T/not-listed"
  printf '# config paths\n  %s   # trailing comment\n\n' "$W" > "$T/watch.list"
  ct_agent_start --watch-only --watch-list "$T/watch.list"
  "$CT" status | grep -q 'file_watch_paths=1 ' || fail "only the listed path is watched: $("$CT" status | grep -o 'file_watch_paths=[0-9]*')"
  echo x > "$T/not-listed/a.conf"
  echo y > "$W/listed.conf"
  wait_events "$(on_path "$W/listed.conf")" 1
  assert_eq "$(count_events '.kind=="FILE" and (.file.path | contains("/not-listed/"))')" 0
  ct_agent_stop
}
