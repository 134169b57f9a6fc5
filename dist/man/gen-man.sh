#!/bin/sh
# Generate the man pages from the binary's own --help, so they always agree:
# changetrace(8) and changetrace-COMMAND(8) for every command it lists.
#   dist/man/gen-man.sh BINARY OUTDIR VERSION
# dist/man/NAME.h2m adds sections (help2man --include) to page NAME.
set -eu
bin=$1 out=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

page() { # page NAME DESCRIPTION [COMMAND]
	name=$1 desc=$2
	shift 2
	# help2man runs "PROGRAM --help" and names the page after PROGRAM: a
	# shim of that name runs `BINARY COMMAND --help`, "usage:" capitalised
	# so that help2man makes it the SYNOPSIS.
	mkdir -p "$tmp/$name.d"
	cat > "$tmp/$name.d/$name" <<SH
#!/bin/sh
"$bin" $* --help | sed '1s/^usage:/Usage:/'
SH
	chmod +x "$tmp/$name.d/$name"
	inc=$tmp/$name.h2m
	: > "$inc"
	[ -f "$here/$name.h2m" ] && cat "$here/$name.h2m" >> "$inc"
	grep -q '^\[SEE ALSO\]' "$inc" || {
		printf '[SEE ALSO]\n' >> "$inc"
		if [ "$name" = changetrace ]; then
			"$bin" --help | awk '/^  [a-z]+  /{print $1}' | grep -vx version |
				sed 's/.*/.BR changetrace-&(8)/' | sed '$!s/$/ ,/' >> "$inc"
		else
			printf '.BR changetrace (8)\n' >> "$inc"
		fi
	}
	help2man --no-info --no-discard-stderr --section=8 \
		--source="changetrace $version" --manual="changetrace" \
		--version-string="$version" --name="$desc" --include="$inc" \
		--output="$out/$name.8" "$tmp/$name.d/$name"
}

page changetrace "production change tracer (eBPF)"
"$bin" --help | awk '/^  [a-z]+  /{ c = $1; $1 = ""; sub(/^ +/, ""); print c "\t" $0 }' |
while IFS='	' read -r cmd desc; do
	[ "$cmd" = version ] && continue
	page "changetrace-$cmd" "$desc" "$cmd"
done
