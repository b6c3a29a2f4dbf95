/*
 * test_spf: the SPF terms check and the record test of lib/spf.c, by
 * table: each row is a sender.spf value and the exact reason (or none)
 * spf_terms_check gives; most rows are hostile (all, ptr, macros,
 * modifiers, v=, bad addresses and prefix lengths, bad domains, lookup
 * budget, octets no term holds).
 */
#include <stdio.h>
#include <string.h>

#include "lib/spf.h"
#include "t.h"

#define MECH	"not an SPF mechanism (ip4:, ip6:, include:, a, mx, exists:)"
#define NEEDS	"needs :domain (a domain name of two labels or more)"
#define CHARS	"holds a character an SPF term cannot: give terms like " \
		"\"include:_spf.example.net ip4:192.0.2.1\""

static const struct {
	const char	*in;
	const char	*err;	/* NULL: accepted */
} rows[] = {
	{ "include:_spf.example.net", NULL },
	{ "ip4:192.0.2.1 ip4:198.51.100.0/24", NULL },
	{ "ip6:2001:db8::/32", NULL },
	{ "ip6:::1/128", NULL },
	{ "ip4:1.2.3.4/0", NULL },
	{ "a mx a:mail.example.com/24//64 mx:example.com//128", NULL },
	{ "~include:a.example +mx ?a -ip4:192.0.2.1", NULL },
	{ "exists:x.example.net", NULL },
	{ "INCLUDE:a.example IP4:192.0.2.1 MX A", NULL },
	{ "  mx   a  ", NULL },
	{ "a a a a a a a a a a", NULL },
	/* refused mechanisms and modifiers */
	{ "all", "\"all\": no \"all\": the record form2mail prints ends in -all" },
	{ "-all", "\"-all\": no \"all\": the record form2mail prints ends in -all" },
	{ "mx ~ALL", "\"~ALL\": no \"all\": the record form2mail prints ends in -all" },
	{ "ptr", "\"ptr\": ptr is not to be used (RFC 7208 5.5)" },
	{ "ptr:example.com", "\"ptr:example.com\": ptr is not to be used (RFC 7208 5.5)" },
	{ "redirect=_spf.example.net", "\"redirect=_spf.example.net\": modifiers (redirect=, exp=) are not taken: name the mechanisms" },
	{ "exp=x.example", "\"exp=x.example\": modifiers (redirect=, exp=) are not taken: name the mechanisms" },
	{ "v=spf1 mx", "\"v=spf1\": no \"v=spf1\": give the terms only" },
	{ "V=SPF1", "\"V=SPF1\": no \"v=spf1\": give the terms only" },
	{ "include:%{d}.example", "\"include:%{d}.example\": macros (%{...}) are not taken" },
	{ "exists:%{i}._spf.example", "\"exists:%{i}._spf.example\": macros (%{...}) are not taken" },
	{ "foo", "\"foo\": " MECH },
	{ "+", "\"+\": " MECH },
	{ "++a", "\"++a\": " MECH },
	{ "ip5:1.2.3.4", "\"ip5:1.2.3.4\": " MECH },
	/* addresses and prefix lengths */
	{ "ip4", "\"ip4\": ip4:/ip6: needs an address" },
	{ "ip4:", "\"ip4:\": not an IP address" },
	{ "ip4:1.2.3", "\"ip4:1.2.3\": not an IP address" },
	{ "ip4:999.1.1.1", "\"ip4:999.1.1.1\": not an IP address" },
	{ "ip4:::1", "\"ip4:::1\": not an IP address" },
	{ "ip6:1.2.3.4", "\"ip6:1.2.3.4\": not an IP address" },
	{ "ip6:zz::", "\"ip6:zz::\": not an IP address" },
	{ "ip4:1.2.3.4/33", "\"ip4:1.2.3.4/33\": bad prefix length" },
	{ "ip4:1.2.3.4/032", "\"ip4:1.2.3.4/032\": bad prefix length" },
	{ "ip4:1.2.3.4/", "\"ip4:1.2.3.4/\": bad prefix length" },
	{ "ip4:1.2.3.4//64", "\"ip4:1.2.3.4//64\": bad prefix length" },
	{ "ip6:::1/129", "\"ip6:::1/129\": bad prefix length" },
	{ "a/33", "\"a/33\": bad prefix length" },
	{ "mx//129", "\"mx//129\": bad prefix length" },
	{ "a/", "\"a/\": bad prefix length" },
	{ "a//", "\"a//\": bad prefix length" },
	{ "a/24/", "\"a/24/\": bad prefix length" },
	{ "mx/3x", "\"mx/3x\": bad prefix length" },
	{ "a:x.example/-1", "\"a:x.example/-1\": bad prefix length" },
	/* domains */
	{ "include:", "\"include:\": " NEEDS },
	{ "include", "\"include\": " NEEDS },
	{ "include:localhost", "\"include:localhost\": " NEEDS },
	{ "include:a..b", "\"include:a..b\": " NEEDS },
	{ "include:.example", "\"include:.example\": " NEEDS },
	{ "include:-a.example", "\"include:-a.example\": " NEEDS },
	{ "include:a-.example", "\"include:a-.example\": " NEEDS },
	{ "include:a.123", "\"include:a.123\": " NEEDS },
	{ "include:a.b/24", "\"include:a.b/24\": " NEEDS },
	{ "a:", "\"a:\": not a domain name" },
	{ "a:-bad-.com", "\"a:-bad-.com\": not a domain name" },
	{ "mx:x", "\"mx:x\": not a domain name" },
	/* octets and sizes */
	{ "a\tmx", CHARS },
	{ "mx\r\n", CHARS },
	{ "include:\"x.example\"", CHARS },
	{ "include:x.example;", CHARS },
	{ "include:x\\.example", CHARS },
	{ "include:caf\xc3\xa9.example", CHARS },
	{ "", "no SPF terms: give the relay's mechanisms (include:..., ip4:...)" },
	{ "   ", "no SPF terms: give the relay's mechanisms (include:..., ip4:...)" },
	{ "a a a a a a a a a a a", "11 terms that need a DNS lookup; SPF allows 10 (RFC 7208 4.6.4)" },
	{ "mx include:a.example exists:b.example a:c.example a mx mx a a a "
	  "ip4:192.0.2.1 ip6:::1 include:d.example",
	  "11 terms that need a DNS lookup; SPF allows 10 (RFC 7208 4.6.4)" },
};

static const struct {
	const char	*txt;
	int		 spf;
} records[] = {
	{ "v=spf1", 1 },
	{ "v=spf1 -all", 1 },
	{ "V=SPF1 include:x.example -all", 1 },
	{ "v=spf10", 0 },
	{ "v=spf1-all", 0 },
	{ "v=spf1\t-all", 0 },
	{ " v=spf1", 0 },
	{ "v=spf", 0 },
	{ "spf1", 0 },
	{ "v=DKIM1; p=", 0 },
	{ "", 0 },
};

int
main(void)
{
	char	 err[512], longv[SPF_MAX + 2];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		rc = spf_terms_check(rows[i].in, err, sizeof(err));
		T_INT(rc, rows[i].err ? -1 : 0, rows[i].in);
		if (rows[i].err != NULL)
			T_STR(err, rows[i].err, rows[i].in);
	}
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	T_INT(spf_terms_check(longv, err, sizeof(err)), -1, "too long");
	T_STR(err, "longer than 1024 octets", "too long");
	/* An escaped term in the reason: control octets never reach it. */
	T_INT(spf_terms_check("include:x.example foo", err, 8), -1, "short");
	T_OK(strlen(err) < 8, "err cut to its size: [%s]", err);
	for (i = 0; i < sizeof(records) / sizeof(records[0]); i++)
		T_INT(spf_is_record(records[i].txt, strlen(records[i].txt)),
		    records[i].spf, records[i].txt);
	T_INT(spf_is_record("v=spf1 x", 6), 1, "length bounds the text");
	T_DONE();
}
