# Long and deep paths: every change is stored under its own file's name,
# whole up to PATH_MAX; a name the kernel cannot give whole is completed
# from the process's fd where it still has it, and else flagged, never
# passed off as another (shorter) path.

paths_setup() {
  W=$T/w-paths
  mkdir -p "$W"
  ct_agent_start --watch "$W" "$@"
}

# name N CHAR: a directory name of N bytes
name() { printf "%${1}s" "" | tr ' ' "$2"; }

settle_files() {
  local n=-1 m
  for _ in $(seq 30); do
    m=$(count_events '.kind=="FILE"')
    [ "$m" -eq "$n" ] && return 0
    n=$m; sleep 0.3
  done
}

# Directories of 250-byte names, 4 to 16 deep under the watch, the last
# one's file PATH_MAX - 1 bytes long: a file written in each is one change
# under its own path; none of them is stored under another's (an
# ancestor's) name, nor cut.
test_long_paths_each_under_its_own_name() {
  paths_setup
  local d=$W files=() i
  for i in $(seq 1 15); do
    d=$d/$(name 249 "$(printf '%x' $((i % 16)))")$i
    [ "$i" -ge 4 ] && files+=("$d/f.conf")
  done
  local d15=$d
  # to PATH_MAX - 1 bytes exactly: a last directory, a 100-byte file name
  d=$d/$(name $(( 4095 - ${#d} - 1 - 1 - 100 )) y)
  files+=("$d/$(name 95 z).conf")
  mkdir -p "$d"
  for f in "${files[@]}"; do
    echo "v ${#f}" > "$f"
  done
  assert_eq "${#files[-1]}" 4095 "the longest path"
  wait_events ".kind==\"FILE\" and .file.path==\"${files[-1]}\"" 1
  settle_files
  for f in "${files[@]}"; do
    assert_eq "$(count_events ".kind==\"FILE\" and .file.path==\"$f\" and .file.op==\"CREATE\"")" 1 "a CREATE of ${#f}-byte $f"
  done
  assert_eq "$(events '.kind=="FILE" and .file.op=="CREATE"' | jq -r .file.path | sort -u | wc -l)" "${#files[@]}" "CREATE events, one per file"

  # path-based operations on the long names, absolute and relative to a
  # deep cwd; ".." from the deepest one, whose name and the string do not
  # fit in a record together
  local long=${files[-1]} moved=$d15/$(name 105 k).conf
  chmod 600 "$long"
  mv "$d15/f.conf" "$d15/g.conf"
  ( cd "$d15" && echo rel > rel.conf && mv rel.conf rel2.conf && rm rel2.conf )
  ( cd "$d" && mv "${long##*/}" "../${moved##*/}" )
  wait_events ".kind==\"FILE\" and .file.op==\"RENAME\" and .file.path==\"$moved\"" 1
  assert_eq "$(count_events ".kind==\"FILE\" and .file.op==\"CHMOD\" and .file.path==\"$long\"")" 1 "chmod of the PATH_MAX - 1 path"
  assert_eq "$(events ".kind==\"FILE\" and .file.op==\"RENAME\" and .file.path==\"$d15/g.conf\"" | jq -r .file.old_path)" "$d15/f.conf"
  assert_eq "$(events ".kind==\"FILE\" and .file.op==\"RENAME\" and .file.path==\"$d15/rel2.conf\"" | jq -r .file.old_path)" "$d15/rel.conf"
  assert_eq "$(count_events ".kind==\"FILE\" and .file.op==\"UNLINK\" and .file.path==\"$d15/rel2.conf\"")" 1 "rm from a deep cwd"
  assert_eq "$(events ".kind==\"FILE\" and .file.op==\"RENAME\" and .file.path==\"$moved\"" | jq -r .file.old_path)" "$long"
  settle_files
  # nothing is stored under a name it does not have, nothing is cut
  assert_eq "$(count_events '.kind=="FILE" and (.file.path_truncated // false)')" 0 "events with a cut path"
  assert_eq "$(count_events '.kind=="FILE" and .file.op!="MKDIR" and ((.file.path | endswith(".conf")) | not)')" 0 "a file's change under a directory's name"
  ct_agent_stop

  # blame finds each by its real name
  local out
  files+=("$moved")
  for f in "${files[@]}"; do
    out=$("$CT" blame --store "$T/store" --json "$f")
    assert_ge "$(jq -s 'length' <<<"$out")" 1 "blame ${#f}-byte path"
    assert_eq "$(jq -s --arg f "$f" '[.[] | select(.file.path != $f and .file.old_path != $f)] | length' <<<"$out")" 0 "blame $f: only its own changes"
  done
}

# A name longer than PATH_MAX (made with relative paths from a deep cwd)
# cannot be named whole by the kernel nor /proc: its event says so, and
# keeps the watch it is under and the lowest names.
test_a_name_beyond_path_max_is_flagged_not_passed_off() {
  paths_setup
  local d=$W i
  for i in $(seq 1 15); do d=$d/$(name 249 q)$i; done
  mkdir -p "$d"
  python3 - "$d" <<'EOF'
import os, sys
os.chdir(sys.argv[1])
for i in range(2):
    n = 'r' * 240 + str(i)
    os.mkdir(n)
    os.chdir(n)
with open('leaf.conf', 'w') as f:
    f.write('beyond\n')
EOF
  wait_events '.kind=="FILE" and (.file.path | endswith("/leaf.conf"))' 1
  settle_files
  local e; e=$(events '.kind=="FILE" and (.file.path | endswith("/leaf.conf"))')
  assert_eq "$(wc -l <<<"$e")" 1 "one event for leaf.conf"
  assert_eq "$(jq -r .file.path_truncated <<<"$e")" true "flagged"
  assert_eq "$(jq -r '.file.path | startswith($w + "/…/")' --arg w "$W" <<<"$e")" true "under its watch, the gap shown: $(jq -r .file.path <<<"$e")"
  assert_eq "$(jq -r '.file.path | endswith("/" + ("r" * 240) + "1/leaf.conf")' <<<"$e")" true "the lowest names kept"
  # its content cannot be read by that name: a write, digests unknown
  assert_eq "$(jq -r .file.op <<<"$e")" WRITE
  "$CT" status | grep -q 'file_paths_truncated=[1-9]' || fail "status: $("$CT" status | grep -o 'file_paths_truncated=[0-9]*')"
  "$CT" status | grep -q 'file_path_truncated=[1-9]' || fail "kernel counter: $("$CT" status | grep -o 'file_path_truncated=[0-9]*')"
  ct_agent_stop
  # found by what is known of it
  assert_eq "$("$CT" query --store "$T/store" --path '*/leaf.conf' --json | jq -r .file.path_truncated)" true
}

# More names than a record holds (1100 levels of "a", PATH_MAX allows
# them): the kernel keeps the lowest, its watch is above them; the
# collector completes the name from the writer's fd, the same inode.
test_a_path_deeper_than_a_record_is_completed_from_the_fd() {
  W=$T/w-deep
  local deep; deep=$W/$(python3 -c 'print("/".join(["a"] * 1100))')
  mkdir -p "$deep"
  ct_agent_start --watch "$W"
  python3 - "$deep" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1] + '/held.conf', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'held\n')
time.sleep(1.5)     # the collector reads /proc/PID/fd/N meanwhile
os.close(fd)
EOF
  wait_events ".kind==\"FILE\" and .file.path==\"$deep/held.conf\"" 1
  local e; e=$(events ".kind==\"FILE\" and .file.path==\"$deep/held.conf\"")
  assert_eq "$(jq -r .file.path_source <<<"$e")" PROC_FD "completed from the fd"
  assert_eq "$(jq -r '.file.path_truncated // false' <<<"$e")" false
  # closed at once: completed if the collector was quick, else flagged;
  # never another file's name
  echo quick > "$deep/quick.conf"
  wait_events '.kind=="FILE" and (.file.path | endswith("/quick.conf"))' 1
  e=$(events '.kind=="FILE" and (.file.path | endswith("/quick.conf"))')
  jq -e --arg p "$deep/quick.conf" --arg w "$W" \
    '.file.path == $p or (.file.path_truncated and (.file.path | startswith($w + "/…/a/a/")))' <<<"$e" >/dev/null ||
    fail "quick.conf: $e"
  "$CT" status | grep -q 'file_paths_completed=[1-9]' || fail "status: $("$CT" status | grep -o 'file_paths_completed=[0-9]*')"
  ct_agent_stop
}
