/* test_addr: address and host name syntax, mailboxes (lib/addr.h); the old copies
 * it replaced are compared in test_addr_diff.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "t.h"

/* Explicit length, so that tables may hold raw NUL octets. */
#define B(s)	(s), sizeof(s) - 1

/* ---- addr_spec_ok ------------------------------------------------ */

struct addr_case {
	const char	*s;
	size_t		 len;
	int		 want;
};

static const struct addr_case addr_cases[] = {
	{ B("a@b.c"), 1 },
	{ B("user@example.com"), 1 },
	{ B("first.last@example.com"), 1 },
	{ B("user+tag@example.com"), 1 },
	{ B("o'brien@example.ie"), 1 },
	{ B("User@EXAMPLE.COM"), 1 },
	{ B("a@xn--bcher-kva.example"), 1 },
	{ B("a@b-b.c"), 1 },
	{ B("a@b--b.c"), 1 },
	{ B("a@1.2.3.com"), 1 },
	{ B("a@b.c0"), 1 },
	/* all of atext: RFC 5322 allows it, nothing here ends a command */
	{ B("!#$%&'*+-/=?^_`{|}~@example.com"), 1 },
	{ B("a!b@example.com"), 1 },
	{ B("a%b@example.com"), 1 },
	{ B("a%0d%0a@example.com"), 1 },	/* literal text, not CR LF */
	/* CR, LF, NUL anywhere */
	{ B("a@b.c\r\nBcc: x@y.z"), 0 },
	{ B("a@b.c\r\n"), 0 },
	{ B("a@b.c\n"), 0 },
	{ B("a@b.c\r"), 0 },
	{ B("\r\na@b.c"), 0 },
	{ B("a\r@b.c"), 0 },
	{ B("a@b\n.c"), 0 },
	{ B("a\0@b.c"), 0 },
	{ B("a@b.c\0"), 0 },
	{ B("a@b\0.c"), 0 },
	{ B("\0"), 0 },
	/* lists, angle brackets, display names */
	{ B("a@b.c, d@e.f"), 0 },
	{ B("a@b.c,d@e.f"), 0 },
	{ B("a@b.c;d@e.f"), 0 },
	{ B("<a@b.c>"), 0 },
	{ B("a@b.c>"), 0 },
	{ B("<a@b.c"), 0 },
	{ B("Name <a@b.c>"), 0 },
	{ B("a@b.c <d@e.f>"), 0 },
	/* quoted local parts, comments, literals */
	{ B("\"a b\"@b.c"), 0 },
	{ B("\"a\"@b.c"), 0 },
	{ B("\"a@b\"@c.d"), 0 },
	{ B("(x)a@b.c"), 0 },
	{ B("a(x)@b.c"), 0 },
	{ B("a@(x)b.c"), 0 },
	{ B("a@b.c(x)"), 0 },
	{ B("a@[127.0.0.1]"), 0 },
	{ B("a@[IPv6:2001:db8::1]"), 0 },
	{ B("a@127.0.0.1"), 0 },
	/* dots */
	{ B("a@b.c."), 0 },
	{ B("a.@b.c"), 0 },
	{ B(".a@b.c"), 0 },
	{ B("a..b@b.c"), 0 },
	{ B("a@b..c"), 0 },
	{ B("a@.b.c"), 0 },
	{ B("."), 0 },
	/* '@' count, empty parts */
	{ B(""), 0 },
	{ B("a"), 0 },
	{ B("@"), 0 },
	{ B("a@"), 0 },
	{ B("@b.c"), 0 },
	{ B("a@@b.c"), 0 },
	{ B("a@b@c.d"), 0 },
	{ B("a@b.c@"), 0 },
	/* domain shape */
	{ B("a@localhost"), 0 },
	{ B("a@b.123"), 0 },
	{ B("a@123"), 0 },
	{ B("a@-b.c"), 0 },
	{ B("a@b-.c"), 0 },
	{ B("a@b.-c"), 0 },
	{ B("a@b.c-"), 0 },
	{ B("a@b_c.d"), 0 },
	{ B("a@b.c:25"), 0 },
	{ B("a@b/c.d"), 0 },
	/* spaces and controls */
	{ B(" a@b.c"), 0 },
	{ B("a@b.c "), 0 },
	{ B("a b@b.c"), 0 },
	{ B("a@b c.d"), 0 },
	{ B("a\t@b.c"), 0 },
	{ B("a\x7f@b.c"), 0 },
	{ B("a\x1b@b.c"), 0 },
	/* specials outside atext */
	{ B("a\\b@c.d"), 0 },
	{ B("a:b@c.d"), 0 },
	{ B("a[b@c.d"), 0 },
	{ B("a]b@c.d"), 0 },
	/* non-ASCII */
	{ B("\xc3\xbc@b.c"), 0 },
	{ B("a@b\xc3\xbc.c"), 0 },
	{ B("a\xef\xbc\xa0" "b.c"), 0 },	/* U+FF20 FULLWIDTH @ */
	{ B("a\x80@b.c"), 0 },
	{ B("a@b.c\xff"), 0 },
};

/* Appends the parts of an address: a NUL-free string, or n copies of c. */
static void
add(struct buf *b, const char *s, char c, size_t n)
{
	size_t	 i;

	if (s != NULL && buf_adds(b, s) == -1)
		abort();
	for (i = 0; i < n; i++)
		if (buf_addc(b, c) == -1)
			abort();
}

static void
test_spec(void)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(addr_cases) / sizeof(addr_cases[0]); i++)
		T_OK(addr_spec_ok(addr_cases[i].s, addr_cases[i].len) ==
		    addr_cases[i].want, "addr case %zu [%s]: expected %d, "
		    "got %d", i, t_show(addr_cases[i].s, addr_cases[i].len),
		    addr_cases[i].want, !addr_cases[i].want);
	T_INT(addr_spec_ok(NULL, 0), 0, "NULL");
	/* a length shorter than the string: only that prefix counts */
	T_INT(addr_spec_ok("a@b.c\r\n", 5), 1, "prefix a@b.c");
	T_INT(addr_spec_ok("a@b.cd", 4), 0, "prefix a@b.");

	add(&b, NULL, 'l', 64);
	add(&b, "@example.com", 0, 0);
	T_INT(addr_spec_ok(b.data, b.len), 1, "local of 64");
	buf_reset(&b);
	add(&b, NULL, 'l', 65);
	add(&b, "@example.com", 0, 0);
	T_INT(addr_spec_ok(b.data, b.len), 0, "local of 65");
	buf_reset(&b);
	add(&b, "a@", 'd', 63);
	add(&b, ".com", 0, 0);
	T_INT(addr_spec_ok(b.data, b.len), 1, "label of 63");
	buf_reset(&b);
	add(&b, "a@", 'd', 64);
	add(&b, ".com", 0, 0);
	T_INT(addr_spec_ok(b.data, b.len), 0, "label of 64");
	buf_reset(&b);
	add(&b, "a@b.", 'd', 64);
	T_INT(addr_spec_ok(b.data, b.len), 0, "last label of 64");
	/* 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 */
	buf_reset(&b);
	add(&b, NULL, 'l', 64);
	add(&b, "@", 'd', 63);
	add(&b, ".", 'd', 63);
	add(&b, ".", 'd', 57);
	add(&b, ".com", 0, 0);
	T_INT(b.len, 254, "built 254");
	T_INT(addr_spec_ok(b.data, b.len), 1, "total 254");
	buf_reset(&b);
	add(&b, NULL, 'l', 64);
	add(&b, "@", 'd', 63);
	add(&b, ".", 'd', 63);
	add(&b, ".", 'd', 58);
	add(&b, ".com", 0, 0);
	T_INT(b.len, 255, "built 255");
	T_INT(addr_spec_ok(b.data, b.len), 0, "total 255");
	/* the longest domain the total allows: 252 */
	buf_reset(&b);
	add(&b, "a@", 'd', 63);
	add(&b, ".", 'd', 63);
	add(&b, ".", 'd', 63);
	add(&b, ".", 'd', 56);
	add(&b, ".com", 0, 0);
	T_INT(b.len, 254, "built 254 (domain 252)");
	T_INT(addr_spec_ok(b.data, b.len), 1, "domain of 252");
	buf_free(&b);
}

static void
test_loopback(void)
{
	static const struct {
		const char	*host;
		int		 localhost, want;
	} t[] = {
		{ "127.0.0.1", 0, 1 }, { "127.255.3.4", 0, 1 },
		{ "[::1]", 0, 1 }, { "::1", 0, 1 }, { "localhost", 1, 1 },
		{ "localhost", 0, 0 }, { "127.example.com", 1, 0 },
		{ "127.0.0.1.example.com", 1, 0 }, { "localhost.evil.test", 1, 0 },
		{ "128.0.0.1", 0, 0 }, { "[::2]", 0, 0 }, { "", 1, 0 },
		{ "127.0.0.1x", 0, 0 }, { "[::ffff:127.0.0.1]", 0, 0 },
		{ "[::1", 0, 0 }, { "[]", 0, 0 }, { "0x7f.1", 0, 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_INT(addr_is_loopback(t[i].host, strlen(t[i].host),
		    t[i].localhost), t[i].want, t[i].host);
}

/* ---- addr_mailbox_parse -------------------------------------------- */

struct mailbox_case {
	const char	*s;
	int		 rc;
	const char	*display, *addr;
};

static const struct mailbox_case mailbox_cases[] = {
	{ "a@b.c", 0, "", "a@b.c" },
	{ "  a@b.c  ", 0, "", "a@b.c" },
	{ "<a@b.c>", 0, "", "a@b.c" },
	{ "Sales <sales@example.com>", 0, "Sales", "sales@example.com" },
	{ "Sales<sales@example.com>", 0, "Sales", "sales@example.com" },
	{ "Sales   <sales@example.com>  ", 0, "Sales", "sales@example.com" },
	{ "\xc3\x89quipe Ventes <ventes@example.com>", 0,
	    "\xc3\x89quipe Ventes", "ventes@example.com" },
	{ "John Q. Public <jqp@example.com>", 0, "John Q. Public",
	    "jqp@example.com" },
	{ "\"Doe, John\" <j@x.y>", 0, "Doe, John", "j@x.y" },
	{ "\"Say \\\"hi\\\" \\\\ bye\" <a@b.c>", 0, "Say \"hi\" \\ bye",
	    "a@b.c" },
	{ "\"\" <a@b.c>", 0, "", "a@b.c" },
	{ "\"Name <x@y.z>\" <a@b.c>", 0, "Name <x@y.z>", "a@b.c" },
	{ "\"(not a comment)\" <a@b.c>", 0, "(not a comment)", "a@b.c" },
	{ "\"\xc3\x89quipe, Ventes\" <ventes@example.com>", 0,
	    "\xc3\x89quipe, Ventes", "ventes@example.com" },
	{ "Forms <forms+f2m@example.com>", 0, "Forms",
	    "forms+f2m@example.com" },
	/* refused */
	{ NULL, -1, NULL, NULL },
	{ "", -1, NULL, NULL },
	{ "   ", -1, NULL, NULL },
	{ "<>", -1, NULL, NULL },
	{ "Name <>", -1, NULL, NULL },
	{ "Name", -1, NULL, NULL },
	{ "Doe, John <j@x.y>", -1, NULL, NULL },
	{ "a@b.c, d@e.f", -1, NULL, NULL },
	{ "Name <a@b.c>, x@y.z", -1, NULL, NULL },
	{ "Name <a@b.c> <d@e.f>", -1, NULL, NULL },
	{ "Name <a@b.c>, Other <d@e.f>", -1, NULL, NULL },
	{ "Name <a@b.c", -1, NULL, NULL },
	{ "Name a@b.c>", -1, NULL, NULL },
	{ "Name <<a@b.c>>", -1, NULL, NULL },
	{ "Name < a@b.c>", -1, NULL, NULL },
	{ "Name <a@b.c >", -1, NULL, NULL },
	{ "Name <a@localhost>", -1, NULL, NULL },
	{ "Name <\"a b\"@b.c>", -1, NULL, NULL },
	{ "Name\r\n <a@b.c>", -1, NULL, NULL },
	{ "Na\tme <a@b.c>", -1, NULL, NULL },
	{ "Name <a@b.c>\r\nBcc: x@y.z", -1, NULL, NULL },
	{ "Name <a@b.c\r\nBcc: x@y.z>", -1, NULL, NULL },
	{ "a@b.c\r\n", -1, NULL, NULL },
	{ "Name (comment) <a@b.c>", -1, NULL, NULL },
	{ "a@b.c (comment)", -1, NULL, NULL },
	{ "Name: x <a@b.c>", -1, NULL, NULL },
	{ "@ <a@b.c>", -1, NULL, NULL },
	{ "a\\b <a@b.c>", -1, NULL, NULL },
	{ "\"Unterminated <a@b.c>", -1, NULL, NULL },
	{ "Unopened\" <a@b.c>", -1, NULL, NULL },
	{ "\"a\"b <a@b.c>", -1, NULL, NULL },
	{ "b\"a\" <a@b.c>", -1, NULL, NULL },
	{ "\"a\"\" <a@b.c>", -1, NULL, NULL },
	{ "\"a\\x\" <a@b.c>", -1, NULL, NULL },
	{ "\"a\\\" <a@b.c>", -1, NULL, NULL },
	{ "\"a\r\nb\" <a@b.c>", -1, NULL, NULL },
	{ "\"a\\\r\" <a@b.c>", -1, NULL, NULL },
	{ "Nam\xc2\x85" "e <a@b.c>", -1, NULL, NULL },
	{ "Name\xe2\x80\xa8 <a@b.c>", -1, NULL, NULL },
	{ "\xc3 <a@b.c>", -1, NULL, NULL },
	{ "\"\xc0\xaf\" <a@b.c>", -1, NULL, NULL },
	{ "\xc3\x89quipe <v\xc3\xa9@example.com>", -1, NULL, NULL },
};

static void
test_mailbox(void)
{
	const struct mailbox_case	*c;
	char				*d, *a, what[1100];
	size_t				 i;
	int				 rc;

	for (i = 0; i < sizeof(mailbox_cases) / sizeof(mailbox_cases[0]);
	    i++) {
		c = &mailbox_cases[i];
		snprintf(what, sizeof(what), "mailbox case %zu [%s]", i,
		    c->s ? t_show(c->s, strlen(c->s)) : "(null)");
		d = a = what;	/* must come back NULL on error */
		rc = addr_mailbox_parse(c->s, &d, &a);
		T_OK(rc == c->rc, "%s: expected %d, got %d", what, c->rc, rc);
		if (c->rc == 0 && rc == 0) {
			T_STR(d, c->display, what);
			T_STR(a, c->addr, what);
		} else if (rc == -1)
			T_OK(d == NULL && a == NULL, "%s: not NULL on error",
			    what);
		if (rc == 0) {
			free(d);
			free(a);
		}
	}
}

/* ---- addr_ldh_ok, addr_ip_ok, addr_domain, addr_domain_below ------ */

static void
test_ldh(void)
{
	static const struct {
		const char	*s;
		size_t		 max;
		int		 want;
	} t[] = {
		{ "example.com", 253, 1 }, { "localhost", 253, 1 },
		{ "a", 253, 1 }, { "a-b.c", 253, 1 }, { "a--b", 253, 1 },
		{ "1.2.3.4", 253, 1 }, { "EXAMPLE.COM", 253, 1 },
		{ "", 253, 0 }, { ".", 253, 0 }, { "a.", 253, 0 },
		{ ".a", 253, 0 }, { "a..b", 253, 0 }, { "-a", 253, 0 },
		{ "a-", 253, 0 }, { "a.-b", 253, 0 }, { "a-.b", 253, 0 },
		{ "a_b", 253, 0 }, { "a b", 253, 0 }, { "*.a.b", 253, 0 },
		{ "a\xc3\xa9", 253, 0 }, { "abc", 2, 0 }, { "ab", 2, 1 },
	};
	char	 s[300];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_INT(addr_ldh_ok(t[i].s, strlen(t[i].s), t[i].max), t[i].want,
		    t[i].s);
	T_INT(addr_ldh_ok(NULL, 0, 253), 0, "NULL");
	memset(s, 'a', 64);
	T_INT(addr_ldh_ok(s, 63, 253), 1, "label of 63");
	T_INT(addr_ldh_ok(s, 64, 253), 0, "label of 64");
	for (i = 0; i < 254; i++)
		s[i] = i % 64 == 63 ? '.' : 'a';
	T_INT(addr_ldh_ok(s, 253, 253), 1, "name of 253");
	T_INT(addr_ldh_ok(s, 254, 253), 0, "name of 254");
}

static void
test_ip(void)
{
	static const struct {
		const char	*s;
		int		 want;
	} t[] = {
		{ "127.0.0.1", 1 }, { "192.0.2.1", 1 }, { "::1", 1 },
		{ "2001:db8::1", 1 }, { "::ffff:192.0.2.1", 1 },
		{ "", 0 }, { "[::1]", 0 }, { "1.2.3", 0 }, { "1.2.3.256", 0 },
		{ "01.2.3.4", 0 }, { "1.2.3.4 ", 0 }, { "fe80::1%eth0", 0 },
		{ "1.2.3.4:80", 0 }, { "localhost", 0 }, { "::1/128", 0 },
	};
	char	 s[80];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_INT(addr_ip_ok(t[i].s), t[i].want, t[i].s);
	T_INT(addr_ip_ok(NULL), 0, "NULL");
	memset(s, '0', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	T_INT(addr_ip_ok(s), 0, "79 zeros");
}

static void
test_domain(void)
{
	T_OK(addr_domain(NULL) == NULL, "NULL");
	T_OK(addr_domain("example.com") == NULL, "no '@'");
	T_STR(addr_domain("a@"), "", "trailing '@'");
	T_STR(addr_domain("a@b.c"), "b.c", "a@b.c");
	T_STR(addr_domain("a@b@c.d"), "c.d", "after the last '@'");
	T_INT(addr_domain_below("example.com", "example.com"), 1, "same");
	T_INT(addr_domain_below("Mail.Example.com", "example.COM"), 1,
	    "below, any case");
	T_INT(addr_domain_below("a.b.example.com", "example.com"), 1,
	    "two below");
	T_INT(addr_domain_below("xexample.com", "example.com"), 0,
	    "not at a dot");
	T_INT(addr_domain_below("example.com", "mail.example.com"), 0,
	    "above");
	T_INT(addr_domain_below("example.org", "example.com"), 0, "other");
	T_INT(addr_domain_below(NULL, "example.com"), 0, "NULL d");
	T_INT(addr_domain_below("example.com", NULL), 0, "NULL parent");
}

/* ---- addr_canonical: one budget per mailbox (hostile spellings) --- */

static const struct {
	const char	*s;
	size_t		 len;
	const char	*want;		/* NULL: refused */
} canon_cases[] = {
	/* the review's spellings of one mailbox (issue 16, F2) */
	{ B("victim@example.org"), "victim@example.org" },
	{ B("v.ictim@example.org"), "victim@example.org" },
	{ B("vi.ctim@example.org"), "victim@example.org" },
	{ B("v.i.c.t.i.m@example.org"), "victim@example.org" },
	{ B("victim-1@example.org"), "victim@example.org" },
	{ B("victim=1@example.org"), "victim@example.org" },
	{ B("Victim+x@example.org"), "victim@example.org" },
	{ B("VICTIM@EXAMPLE.ORG"), "victim@example.org" },
	{ B("Vi.Ctim+a-b=c@Example.Org"), "victim@example.org" },
	{ B("victim+@example.org"), "victim@example.org" },
	{ B("victim-@example.org"), "victim@example.org" },
	{ B("victim=x+y-z@example.org"), "victim@example.org" },
	{ B("v.ictim@googlemail.com"), "victim@gmail.com" },
	{ B("Victim+x@GoogleMail.COM"), "victim@gmail.com" },
	{ B("victim@gmail.com"), "victim@gmail.com" },
	/* only the domain's exact name is an alias */
	{ B("victim@mail.googlemail.com"), "victim@mail.googlemail.com" },
	{ B("victim@googlemail.com.evil.example"),
	    "victim@googlemail.com.evil.example" },
	{ B("victim@xgooglemail.com"), "victim@xgooglemail.com" },
	/* the tag character first: an empty local part, kept as one key */
	{ B("+x@example.org"), "@example.org" },
	{ B("-x@example.org"), "@example.org" },
	{ B("=x@example.org"), "@example.org" },
	/* dots and tags in the domain are the domain's */
	{ B("a@my-host.example.org"), "a@my-host.example.org" },
	/* other atext stays */
	{ B("o'brien@example.ie"), "o'brien@example.ie" },
	{ B("a!b%c@example.com"), "a!b%c@example.com" },
	/* what addr_spec_ok refuses is refused, never folded into a key */
	{ B(""), NULL },
	{ B("victim"), NULL },
	{ B("@example.org"), NULL },
	{ B("victim@"), NULL },
	{ B(".victim@example.org"), NULL },
	{ B("vic..tim@example.org"), NULL },
	{ B("victim@example.org\r\nBcc: x@y.z"), NULL },
	{ B("victim@example.org\0"), NULL },
	{ B("vic\0tim@example.org"), NULL },
	{ B("\"victim\"@example.org"), NULL },
	{ B("victim@[192.0.2.1]"), NULL },
	{ B("victim@example.org@evil.example"), NULL },
	{ B("v\xc3\xa9" "ctim@example.org"), NULL },
	{ B("victim@exa mple.org"), NULL },
	{ B("<victim@example.org>"), NULL },
};

static void
test_canonical(void)
{
	char	 out[ADDR_MAX + 1], small[8], big[300];
	size_t	 i;
	int	 n;

	for (i = 0; i < sizeof(canon_cases) / sizeof(canon_cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		n = addr_canonical(canon_cases[i].s, canon_cases[i].len, out,
		    sizeof(out));
		if (canon_cases[i].want == NULL) {
			T_OK(n == -1 && out[0] == '\0', "refused: %s (got %d)",
			    t_show(canon_cases[i].s, canon_cases[i].len), n);
			continue;
		}
		T_STR(out, canon_cases[i].want, t_show(canon_cases[i].s,
		    canon_cases[i].len));
		T_INT(n, strlen(canon_cases[i].want), "its length");
	}
	T_INT(addr_canonical(B("victim@example.org"), small, sizeof(small)),
	    -1, "short buffer");
	T_STR(small, "", "short buffer: empty");
	T_INT(addr_canonical(B("a@b.c"), small, 5), -1, "buffer of len");
	T_INT(addr_canonical(B("a@b.c"), small, 6), 5, "buffer of len + 1");
	T_INT(addr_canonical(NULL, 0, small, sizeof(small)), -1, "NULL");
	/* the longest address: the key never outgrows ADDR_MAX */
	memset(big, 'a', 64);
	big[64] = '@';
	for (i = 65; i < 254; i++)
		big[i] = (i - 65) % 60 == 59 ? '.' : 'b';
	big[253] = 'c';
	T_INT(addr_canonical(big, 254, out, sizeof(out)), 254, "254 octets");
}

int
main(void)
{
	test_spec();
	test_mailbox();
	test_loopback();
	test_ldh();
	test_ip();
	test_domain();
	test_canonical();
	T_DONE();
}
