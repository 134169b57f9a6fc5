# The documentation: a README a newcomer reads in minutes, links that lead
# somewhere, and a CLI reference that names what the binary offers.

# README.md, docs/*.md and docs/*/*.md, relative to the repository root
docs_pages() { ls README.md docs/*.md docs/*/*.md 2>/dev/null; }

test_docs_readme_stays_short() {
  local n; n=$(wc -l < README.md)
  [ "$n" -lt 250 ] || fail "README.md has $n lines; keep it under 250 and move detail to docs/"
}

# Every relative link ([text](path) or [text](path#anchor)) in the README and
# docs/ names a file that exists, and an anchor names a heading of the
# Markdown file it points into (GitHub's heading ids). Links in fenced code
# blocks and absolute URLs are not checked.
test_docs_relative_links_resolve() {
  local out
  out=$(python3 - $(docs_pages) <<'EOF'
import os, re, sys

def slug(heading):
    h = re.sub(r"[`*]|\[|\]\([^)]*\)", "", heading.strip().lower())
    return "".join(c for c in h if c.isalnum() or c in " -_").replace(" ", "-")

def anchors(path):
    ids, fenced = set(), False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            ids.add(slug(line.lstrip("#")))
    return ids

bad, n = [], 0
for page in sys.argv[1:]:
    fenced = False
    for lineno, line in enumerate(open(page, encoding="utf-8"), 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"[a-z]+:", target):
                continue
            n += 1
            path, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
            where = "%s:%d: %s" % (page, lineno, target)
            if not os.path.exists(dest):
                bad.append(where + " (no such file)")
            elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
                bad.append(where + " (no such heading)")
print("checked %d links" % n)
for b in bad:
    print("BROKEN " + b)
EOF
)
  echo "$out"
  ! grep -q '^BROKEN' <<<"$out" || fail "broken links: $(grep '^BROKEN' <<<"$out" | tr '\n' ' ')"
  grep -q '^checked [1-9]' <<<"$out" || fail "no links found: $out"
}

# docs/cli.md names every option each command's --help lists, and has a
# section per command, so the reference cannot fall behind the binary.
test_docs_cli_reference_names_every_option() {
  [ -x "$CT" ] || skip "no binary at $CT (make all)"
  local cmd opt missing=()
  for cmd in agent run deploy status policy query timeline blame diff verify feed version; do
    grep -q "^## .*\b$cmd\b" docs/cli.md || missing+=("section for $cmd")
    for opt in $("$CT" "$cmd" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
      grep -q -- "${opt}\([^a-z0-9-]\|$\)" docs/cli.md || missing+=("$cmd $opt")
    done
  done
  for cmd in start end list show resume abort; do
    grep -q "^### deploy .*\b$cmd\b" docs/cli.md || missing+=("section for deploy $cmd")
  done
  [ ${#missing[@]} -eq 0 ] || fail "docs/cli.md lacks: ${missing[*]}"
}
