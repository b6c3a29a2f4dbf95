#!/usr/bin/env bash
# check_layout.sh must fail on tests/layout/bad/ and name every rule
# broken there: a check that finds nothing would pass anything.
here=$(cd "$(dirname "$0")" && pwd)
out=$(bash "$here/check_layout.sh" "$here/bad" /dev/null)
rc=$?
echo "$out"
fail=0
[ "$rc" = 1 ] || { echo "selftest: exit $rc, want 1"; fail=1; }
for want in \
	'R1 fcgi/deliver/bad.c: #include "buf.h" names no folder' \
	'R2 fcgi/deliver/bad.c: #include "http/request.h" runs up or across' \
	'R3 fcgi/deliver/bad.c: #include "http/request.h": the deliverer reaches' \
	'R2 fcgi/lib/up.c: #include "svc/server.h" runs up or across' \
	'R4 fcgi/mail/peek.c: #include "gate/captcha_int.h": private to gate/' \
	'R5 CMakeLists.txt lists fcgi/gate/gone.c, which does not exist' \
	'R5 CMakeLists.txt does not list fcgi/gate/gate.c' \
	'R6 fcgi/ops/long.c: long_one() over 80 lines' \
	'R7 README.md: names DESIGN.md (the project' \
	'R7 README.md: names fcgi/lib/gone.c, which does not exist'; do
	grep -qF -- "$want" <<<"$out" || { echo "selftest: missing: $want"; fail=1; }
done
grep -q 'fcgi/gate/gate.c: #include\|names fcgi/gate/gate.c' <<<"$out" &&
	{ echo "selftest: a legal include was refused"; fail=1; }
grep -q 'R6 fcgi/ops/long_why.c' <<<"$out" &&
	{ echo "selftest: a function whose comment gives its reason was refused"; fail=1; }
[ "$fail" = 0 ] && echo "selftest: ok"
exit $fail
