#!/usr/bin/env bash
# The layout of fcgi/ (docs/DESIGN.md "Folders and floors"), checked:
#   R1 every project #include names its folder ("lib/buf.h");
#   R2 a file includes its own folder or a lower floor only (same floor,
#      other folder: refused);
#   R3 deliver/ includes nothing of http/, gate/, form/ or mail/ (the
#      process holding the keys never links the visitor-parsing code);
#   R4 a private header (*_int.h, *_backend.h, conf_json.h, mime.h) is
#      included from its own folder only;
#   R5 CMake's F2M_SOURCES lists exactly the .c files of fcgi/ but
#      ops/main.c;
#   R6 no .c over 600 lines, no function over 80 lines, unless the file's
#      head comment (first 30 lines) or the function's own comment (between
#      the previous function and its name) gives the reason on a line
#      containing "Over 600 lines:" / "Over 80 lines:";
#   R7 README.md, SECURITY.md and the headers of fcgi/ name only files the
#      repository holds (docs/DESIGN.md, not a bare DESIGN.md).
# A violation listed in BASELINE (today's, to be cut) is tolerated; any
# other fails, and so does a baseline line that no longer occurs (delete
# it: the list only shrinks).
#   usage: check_layout.sh [ROOT [BASELINE]]
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
baseline=${2:-$root/tests/layout/baseline.txt}
cd "$root" || exit 2
floor() {
	case $1 in
	lib) echo 1 ;; conf | throttle | spool) echo 2 ;;
	form | deliver) echo 3 ;; mail) echo 4 ;; gate) echo 5 ;;
	http) echo 6 ;; svc) echo 7 ;; ops) echo 8 ;; *) echo 0 ;;
	esac
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
nfiles=0
for f in fcgi/*/*.[ch]; do
	[ -e "$f" ] || continue
	nfiles=$((nfiles + 1))
	dir=${f#fcgi/}
	dir=${dir%%/*}
	own=$(floor "$dir")
	[ "$own" = 0 ] && echo "R1 $f: folder $dir is not one of the floors" >>"$out"
	while IFS= read -r inc; do
		case $inc in
		*/*) ;;
		*) echo "R1 $f: #include \"$inc\" names no folder" >>"$out"; continue ;;
		esac
		idir=${inc%%/*}
		base=${inc##*/}
		ifl=$(floor "$idir")
		if [ "$ifl" = 0 ]; then
			echo "R1 $f: #include \"$inc\": no folder $idir" >>"$out"
		elif [ "$idir" != "$dir" ] && [ "$ifl" -ge "$own" ]; then
			echo "R2 $f: #include \"$inc\" runs up or across ($dir $own -> $idir $ifl)" >>"$out"
		fi
		if [ "$dir" = deliver ]; then
			case $idir in http | gate | form | mail)
				echo "R3 $f: #include \"$inc\": the deliverer reaches visitor-parsing code" >>"$out" ;;
			esac
		fi
		case $base in *_int.h | *_backend.h | conf_json.h | mime.h)
			[ "$idir" != "$dir" ] &&
				echo "R4 $f: #include \"$inc\": private to $idir/" >>"$out" ;;
		esac
	done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
if [ "$nfiles" = 0 ]; then
	echo "check_layout: no fcgi/*/*.[ch] under $root" >&2
	exit 2
fi
if [ -f CMakeLists.txt ]; then
	listed=$(sed -n '/^set(F2M_SOURCES/,/)/p' CMakeLists.txt | grep -o 'fcgi/[^ )]*\.c' | sort)
	present=$(ls fcgi/*/*.c | grep -v '^fcgi/ops/main\.c$' | sort)
	diff <(echo "$listed") <(echo "$present") | sed -n 's/^< \(.*\)/R5 CMakeLists.txt lists \1, which does not exist/p; s/^> \(.*\)/R5 CMakeLists.txt does not list \1/p' >>"$out"
fi
for f in fcgi/*/*.c; do
	n=$(wc -l <"$f")
	[ "$n" -gt 600 ] && ! head -n 30 "$f" | grep -q 'Over 600 lines:' &&
		echo "R6 $f: $n lines (over 600)" >>"$out"
	# OpenBSD style: the type on its own line, the name at column 0,
	# the body's closing brace at column 0.
	awk -v f="$f" '
		/Over 80 lines:/ && !start { why = 1 }
		/^[A-Za-z_][A-Za-z0-9_]*\(/ && !/;[[:space:]]*$/ { name = $0; sub(/\(.*/, "", name); start = NR; fwhy = why; why = 0; next }
		/^}/ && start { n = NR - start + 1; if (n > 80 && !fwhy) printf "R6 %s: %s() %d lines (over 80)\n", f, name, n; start = 0; why = 0 }
	' "$f" >>"$out"
done
for f in README.md SECURITY.md fcgi/*/*.h; do
	[ -f "$f" ] || continue
	grep -o '[A-Za-z0-9_./-]*DESIGN\.md' "$f" | grep -vx 'docs/DESIGN\.md' |
		sed "s|^|R7 $f: names |; s|\$| (the project's page is docs/DESIGN.md)|" >>"$out"
	for ref in $(grep -oE '(docs|fcgi|tests|scripts|config|man|packaging)/[A-Za-z0-9_./-]*[A-Za-z0-9_]' "$f" | sort -u); do
		[ -e "$ref" ] || echo "R7 $f: names $ref, which does not exist" >>"$out"
	done
done
sort -u -o "$out" "$out"
# Sizes drift with every edit: a baseline line names the file (and the
# function) only; its number is not compared.
key() { sed 's/: \([0-9]*\) lines (over 600)$/: over 600 lines/; s/() [0-9]* lines (over 80)$/() over 80 lines/'; }
got=$(key <"$out" | sort -u)
want=$( [ -f "$baseline" ] && grep -v '^#' "$baseline" | grep . | sort -u)
new=$(comm -23 <(echo "$got" | grep .) <(echo "$want" | grep .))
gone=$(comm -13 <(echo "$got" | grep .) <(echo "$want" | grep .))
rc=0
if [ -n "$new" ]; then
	echo "layout: new violations:"
	echo "$new" | sed 's/^/  /'
	rc=1
fi
if [ -n "$gone" ]; then
	echo "layout: baseline lines that no longer occur (delete them from $baseline):"
	echo "$gone" | sed 's/^/  /'
	rc=1
fi
echo "layout: $nfiles files, $(echo "$got" | grep -c .) known violations (baseline $(echo "$want" | grep -c .)), $(echo "$new" | grep -c .) new"
exit $rc
