/*
 * test_url: the URL syntax of lib/url.c, by table: each row says what
 * url_chars_ok, url_origin_ok and url_prefix_ok answer; a second table
 * is url_service_ok's.  Most rows are
 * hostile: userinfo, CR/LF, spaces, javascript:, scheme-relative //evil,
 * backslashes, quotes, non-ASCII.
 */
#include <stdio.h>
#include <string.h>

#include "lib/url.h"
#include "t.h"

static const struct {
	const char	*in;
	int		 chars, origin, prefix;
} rows[] = {
	/* what the config is meant to hold */
	{ "https://example.com", 1, 1, 1 },
	{ "https://example.com:8443", 1, 1, 1 },
	{ "http://localhost:8080", 1, 1, 0 },
	{ "https://example.com/thanks.html", 1, 0, 1 },
	{ "https://example.com/thanks/?a=b#c", 1, 0, 1 },
	{ "/thanks.html", 1, 0, 1 },
	{ "/", 1, 0, 1 },
	{ "https://[2001:db8::1]:443", 1, 1, 1 },
	/* userinfo: the host is what follows the '@' */
	{ "https://example.com@evil.test", 1, 0, 0 },
	{ "https://user:pw@example.com/", 1, 0, 0 },
	{ "https://example.com/a@b", 1, 0, 0 },
	{ "http://evil#@example.com", 1, 0, 0 },
	/* header breaks and spaces */
	{ "https://example.com\r\nSet-Cookie: x=1", 0, 0, 0 },
	{ "/thanks\nLocation: https://evil.test", 0, 0, 0 },
	{ "/t\r", 0, 0, 0 },
	{ "https://exa mple.com", 0, 0, 0 },
	{ " https://example.com", 0, 0, 0 },
	{ "https://example.com ", 0, 0, 0 },
	{ "https://example.com\t", 0, 0, 0 },
	{ "/a\x7f", 0, 0, 0 },
	{ "/caf\xc3\xa9", 0, 0, 0 },
	/* schemes other than https (http only as an origin) */
	{ "javascript:alert(1)", 1, 0, 0 },
	{ "JAVASCRIPT:alert(1)", 1, 0, 0 },
	{ "data:text/html,x", 1, 0, 0 },
	{ "http://example.com/thanks", 1, 0, 0 },
	{ "HTTPS://example.com", 1, 0, 0 },
	{ "ftp://example.com", 1, 0, 0 },
	{ "file:///etc/passwd", 1, 0, 0 },
	/* scheme-relative and look-alikes of a path */
	{ "//evil.test", 1, 0, 0 },
	{ "//evil.test/thanks", 1, 0, 0 },
	{ "/\\evil.test", 0, 0, 0 },
	{ "\\\\evil.test", 0, 0, 0 },
	{ "https:///evil.test", 1, 0, 0 },
	{ "https:evil.test", 1, 0, 0 },
	{ "thanks.html", 1, 0, 0 },
	{ "", 1, 0, 0 },
	/* empty hosts, junk after the origin */
	{ "https://", 1, 0, 0 },
	{ "http://", 1, 0, 0 },
	{ "https://example.com/", 1, 0, 1 },
	{ "https://example.com?x", 1, 0, 1 },
	{ "https://example.com#x", 1, 0, 1 },
	/* characters a URL must not hold raw */
	{ "https://example.com/\"onload=", 0, 0, 0 },
	{ "https://example.com/<script>", 0, 0, 0 },
	{ "https://example.com/{x}", 0, 0, 0 },
	{ "https://example.com/a|b", 0, 0, 0 },
	{ "https://example.com/a^b", 0, 0, 0 },
	{ "https://example.com/`x`", 0, 0, 0 },
	{ "https://example.com/%0d%0a", 1, 0, 1 },	/* escapes stay escapes */
};

static const struct {
	const char	*in;
	int		 ok;
} services[] = {
	{ "https://rspamd.example.test:11334", 1 },
	{ "https://challenges.cloudflare.com/turnstile/v0/siteverify", 1 },
	{ "http://127.0.0.1:11333", 1 },
	{ "http://127.9.9.9/", 1 },
	{ "http://[::1]:11333/checkv2", 1 },
	{ "http://[127.0.0.1]:1", 1 },
	/* http leaves the machine: refused */
	{ "http://rspamd.example.test:11333", 0 },
	{ "http://localhost:11333", 0 },
	{ "http://128.0.0.1/", 0 },
	{ "http://10.0.0.1/", 0 },
	{ "http://[::2]/", 0 },
	{ "http://[::ffff:127.0.0.1]/", 0 },
	{ "http://0x7f.0.0.1/", 0 },
	{ "http://127.1/", 0 },
	{ "http://2130706433/", 0 },
	{ "http://127.0.0.1.evil.test/", 0 },
	{ "http://[::1", 0 },
	/* userinfo: the real host hides after the '@' */
	{ "http://127.0.0.1@evil.test/", 0 },
	{ "http://127.0.0.1:80@evil.test/", 0 },
	{ "https://user:pw@rspamd.example.test/", 0 },
	{ "http://evil.test#@127.0.0.1/", 0 },
	/* breaks, spaces, other schemes */
	{ "http://127.0.0.1\r\nHost: evil", 0 },
	{ "http://127.0.0.1 /", 0 },
	{ "https://", 0 },
	{ "https:///path", 0 },
	{ "//127.0.0.1/", 0 },
	{ "javascript:alert(1)", 0 },
	{ "HTTP://127.0.0.1/", 0 },
	{ "ftp://127.0.0.1/", 0 },
	{ "", 0 },
};

int
main(void)
{
	char	 what[160];
	size_t	 i;
	int	 c;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(what, sizeof(what), "row %zu [%s]: chars", i,
		    rows[i].in);
		T_INT(url_chars_ok(rows[i].in), rows[i].chars, what);
		snprintf(what, sizeof(what), "row %zu [%s]: origin", i,
		    rows[i].in);
		T_INT(url_origin_ok(rows[i].in), rows[i].origin, what);
		snprintf(what, sizeof(what), "row %zu [%s]: prefix", i,
		    rows[i].in);
		T_INT(url_prefix_ok(rows[i].in), rows[i].prefix, what);
	}
	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		snprintf(what, sizeof(what), "service [%s]", services[i].in);
		T_INT(url_service_ok(services[i].in), services[i].ok, what);
	}
	/* Every single octet after a good prefix: only printable ASCII
	 * outside the refused set passes. */
	for (c = 1; c < 256; c++) {
		char	 s[32];
		int	 want = c > 0x20 && c < 0x7f &&
		    strchr("\"<>\\^`{|}", c) == NULL;

		snprintf(s, sizeof(s), "/a%c", c);
		snprintf(what, sizeof(what), "octet 0x%02x", c);
		T_INT(url_chars_ok(s), want, what);
		T_INT(url_prefix_ok(s), want, what);
	}
	T_DONE();
}
