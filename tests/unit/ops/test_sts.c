/*
 * test_sts: MTA-STS TXT and policy, mx matching, TLS-RPT and TLSA parsing
 * (fcgi/ops/sts.c), with tables of hostile inputs.  The network side is
 * tests/integration/test_doctor_hop.py.
 */
#include <stdio.h>
#include <string.h>

#include "ops/sts.h"
#include "t.h"

#define LEN(s)	(sizeof(s) - 1)

static void
test_txt(void)
{
	static const struct {
		const char	*txt;
		size_t		 len;
		int		 rc;
		const char	*id;
	} t[] = {
		{ "v=STSv1; id=20160831085700Z;", 0, 1, "20160831085700Z" },
		{ "v=STSv1;id=abc", 0, 1, "abc" },
		{ "v=STSv1 ; id=abc ; ext=x-y", 0, 1, "abc" },
		{ "v=STSv1; id=12345678901234567890123456789012", 0, 1,
		    "12345678901234567890123456789012" },
		/* not an STS record: discarded */
		{ "v=spf1 -all", 0, 0, "" },
		{ "v=STSv1", 0, 0, "" },
		{ "v=STSv10; id=a", 0, 0, "" },
		{ " v=STSv1; id=a", 0, 0, "" },
		{ "V=STSv1; id=a", 0, 0, "" },
		{ "", 0, 0, "" },
		/* hostile or malformed */
		{ "v=STSv1;", 0, -1, "" },
		{ "v=STSv1; id=", 0, -1, "" },
		{ "v=STSv1; id=123456789012345678901234567890123", 0, -1, "" },
		{ "v=STSv1; id=a-b", 0, -1, "" },
		{ "v=STSv1; id=a; id=b", 0, -1, "" },
		{ "v=STSv1; v=STSv1; id=a", 0, -1, "" },
		{ "v=STSv1;; id=a", 0, -1, "" },
		{ "v=STSv1; id", 0, -1, "" },
		{ "v=STSv1; =a; id=b", 0, -1, "" },
		{ "v=STSv1; id=a; x=y=z", 0, -1, "" },
		{ "v=STSv1; id=a; x=\x01", 0, -1, "" },
		{ "v=STSv1; id=a\0b", 16, -1, "" },
		{ "v=STSv1; id=\xc3\xa9", 0, -1, "" },
		{ "v=STSv1; id=a; -x=y", 0, -1, "" },
	};
	char		 id[STS_ID_MAX + 1];
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t	 len = t[i].len ? t[i].len : strlen(t[i].txt);
		int	 rc = sts_txt_parse(t[i].txt, len, id, sizeof(id), &why);

		T_OK(rc == t[i].rc && strcmp(id, t[i].id) == 0,
		    "txt %zu [%s]: rc %d id [%s], want %d [%s]", i, t[i].txt,
		    rc, id, t[i].rc, t[i].id);
	}
	T_INT(sts_txt_parse("v=STSv1; id=abc", 15, id, 3, &why), -1,
	    "id buffer too small");
	T_OK(id[0] == '\0', "refused id left empty");
}

static void
test_policy(void)
{
	static const struct {
		const char	*body;
		int		 rc;
		int		 mode;
		long		 max_age;
		size_t		 nmx;
	} t[] = {
		{ "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
		    "mx: *.example.net\r\nmx: backupmx.example.com\r\n"
		    "max_age: 604800\r\n", 0, STS_MODE_ENFORCE, 604800, 3 },
		{ "version: STSv1\nmode: testing\nmx: mx.example.com\n"
		    "max_age: 86400", 0, STS_MODE_TESTING, 86400, 1 },
		{ "version: STSv1\nmode: none\nmax_age: 0\n", 0, STS_MODE_NONE,
		    0, 0 },
		{ "mode:enforce\nmax_age:31557600\nversion:STSv1\nmx:A.B.C\n"
		    "\n\n", 0, STS_MODE_ENFORCE, 31557600, 1 },
		{ "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n"
		    "x-ext: caf\xc3\xa9\n", 0, STS_MODE_ENFORCE, 1, 1 },
		/* hostile or malformed */
		{ "", -1, 0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmax_age: 1\n", -1, 0, 0, 0 },
		{ "version: STSv1\nmode: testing\nmx: a.b\n", -1, 0, 0, 0 },
		{ "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n", -1, 0,
		    0, 0 },
		{ "version: STSv1\nmode: Enforce\nmx: a.b\nmax_age: 1\n", -1, 0,
		    0, 0 },
		{ "version: STSv1\nmode: enforce\nmode: none\nmx: a.b\n"
		    "max_age: 1\n", -1, 0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 31557601\n",
		    -1, 0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\n"
		    "max_age: 00000000001\n", -1, 0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: -1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1 2\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: *.*.b\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.*.b\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b.\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: -a.b\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: com\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a b.c\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1\ngarbage\n",
		    -1, 0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1\r\r\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\x01\nmx: a.b\nmax_age: 1\n", -1,
		    0, 0, 0 },
		{ "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 1\nx:\n", -1,
		    0, 0, 0 },
		{ "<html>version: STSv1</html>", -1, 0, 0, 0 },
	};
	static char		 big[STS_POLICY_MAX + 64];
	struct sts_policy	 p;
	const char		*why;
	size_t			 i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int	 rc = sts_policy_parse(t[i].body, strlen(t[i].body), &p,
		    &why);

		T_OK(rc == t[i].rc && (int)p.mode == t[i].mode &&
		    p.max_age == t[i].max_age && p.nmx == t[i].nmx,
		    "policy %zu: rc %d mode %d max_age %ld nmx %zu, want %d %d "
		    "%ld %zu (%s)", i, rc, p.mode, p.max_age, p.nmx, t[i].rc,
		    t[i].mode, t[i].max_age, t[i].nmx, rc ? why : "");
	}
	T_OK(sts_policy_parse(t[0].body, strlen(t[0].body), &p, &why) == 0 &&
	    strcmp(p.mx[1], "*.example.net") == 0, "mx kept in order");
	T_OK(sts_policy_parse(t[3].body, strlen(t[3].body), &p, &why) == 0 &&
	    strcmp(p.mx[0], "a.b.c") == 0, "mx lower-cased");
	/* A NUL inside. */
	T_INT(sts_policy_parse("version: STSv1\nmode: none\0\nmax_age: 1\n",
	    38, &p, &why), -1, "NUL refused");
	/* Over 64 KiB, even if valid. */
	n = (size_t)snprintf(big, sizeof(big), "version: STSv1\nmode: none\n"
	    "max_age: 1\n");
	memset(big + n, '\n', sizeof(big) - n);
	T_INT(sts_policy_parse(big, STS_POLICY_MAX, &p, &why), 0,
	    "64 KiB of blank lines accepted");
	T_INT(sts_policy_parse(big, STS_POLICY_MAX + 1, &p, &why), -1,
	    "one octet over 64 KiB refused");
	/* More mx lines than kept: counted, still valid. */
	n = (size_t)snprintf(big, sizeof(big), "version: STSv1\nmode: "
	    "enforce\nmax_age: 1\n");
	for (i = 0; i < STS_MX_MAX + 3; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "mx: m%zu.a.b\n",
		    i);
	T_OK(sts_policy_parse(big, n, &p, &why) == 0 && p.nmx == STS_MX_MAX &&
	    p.mx_over == 3, "mx over STS_MX_MAX: %zu kept, %zu over", p.nmx,
	    p.mx_over);
}

static void
test_mx_match(void)
{
	static const struct {
		const char	*pat, *host;
		int		 want;
	} t[] = {
		{ "mail.example.com", "mail.example.com", 1 },
		{ "mail.example.com", "MAIL.Example.COM.", 1 },
		{ "*.example.com", "mx1.example.com", 1 },
		{ "*.example.com", "mx1.example.com.", 1 },
		{ "*.example.com", "example.com", 0 },
		{ "*.example.com", "a.b.example.com", 0 },
		{ "*.example.com", "mx1.badexample.com", 0 },
		{ "*.example.com", ".example.com", 0 },
		{ "mail.example.com", "mail.example.com.evil", 0 },
		{ "mail.example.com", "xmail.example.com", 0 },
		{ "mail.example.com", "", 0 },
		{ "", "mail.example.com", 0 },
		{ "*.", "a", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_OK(sts_mx_match(t[i].pat, t[i].host) == t[i].want,
		    "mx %s vs %s: want %d", t[i].pat, t[i].host, t[i].want);
}

static void
test_tlsrpt(void)
{
	static const struct {
		const char	*txt;
		int		 rc;
		const char	*rua;
	} t[] = {
		{ "v=TLSRPTv1; rua=mailto:reports@example.com", 1,
		    "mailto:reports@example.com" },
		{ "v=TLSRPTv1;rua=https://reporting.example.com/v1/tlsrpt;", 1,
		    "https://reporting.example.com/v1/tlsrpt" },
		{ "v=TLSRPTv1; rua=mailto:a@b.c , https://r.example/x", 1,
		    "mailto:a@b.c, https://r.example/x" },
		{ "v=TLSRPTv1; rua= mailto:a@b", -1, "" },
		{ "v=TLSRPTv1; rua=mailto:a@b,\thttps://r.example", 1,
		    "mailto:a@b, https://r.example" },
		{ "v=spf1 -all", 0, "" },
		{ "v=TLSRPTv1", 0, "" },
		{ "v=TLSRPTv2; rua=mailto:a@b", 0, "" },
		/* hostile or malformed */
		{ "v=TLSRPTv1;", -1, "" },
		{ "v=TLSRPTv1; rua=", -1, "" },
		{ "v=TLSRPTv1; rua=http://r.example/x", -1, "" },
		{ "v=TLSRPTv1; rua=mailto:", -1, "" },
		{ "v=TLSRPTv1; rua=mailto:@b", -1, "" },
		{ "v=TLSRPTv1; rua=mailto:a@b,", -1, "" },
		{ "v=TLSRPTv1; rua=mailto:a@b; rua=mailto:c@d", -1, "" },
		{ "v=TLSRPTv1; rua=javascript:alert(1)", -1, "" },
		{ "v=TLSRPTv1; rua=mailto:a@b\x1b[31m", -1, "" },
		{ "v=TLSRPTv1; rua=https:///x", -1, "" },
		{ "v=TLSRPTv1; x=1", -1, "" },
	};
	char		 rua[STS_RUA_MAX], small[16];
	const char	*why;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int	 rc = sts_tlsrpt_parse(t[i].txt, strlen(t[i].txt), rua,
		    sizeof(rua), &why);

		T_OK(rc == t[i].rc && strcmp(rua, t[i].rua) == 0,
		    "tlsrpt %zu [%s]: rc %d rua [%s], want %d [%s]", i,
		    t[i].txt, rc, rua, t[i].rc, t[i].rua);
	}
	T_INT(sts_tlsrpt_parse(t[0].txt, strlen(t[0].txt), small,
	    sizeof(small), &why), 1, "long rua cut");
	T_OK(strcmp(small, "mailto:repor...") == 0, "cut with ...: [%s]",
	    small);
}

static void
test_tlsa(void)
{
	unsigned char		 rd[3 + 64];
	struct sts_tlsa		 tl;

	memset(rd, 0xab, sizeof(rd));
	rd[0] = 3; rd[1] = 1; rd[2] = 1;
	T_OK(sts_tlsa_parse(rd, 35, &tl) == 0 && sts_tlsa_usable(&tl),
	    "3 1 1 usable");
	T_INT(sts_tlsa_parse(rd, 34, &tl), -1, "SHA2-256 of 31 octets");
	T_INT(sts_tlsa_parse(rd, 36, &tl), -1, "SHA2-256 of 33 octets");
	rd[2] = 2;
	T_INT(sts_tlsa_parse(rd, 67, &tl), 0, "SHA2-512 of 64 octets");
	T_INT(sts_tlsa_parse(rd, 35, &tl), -1, "SHA2-512 of 32 octets");
	rd[2] = 0;
	T_INT(sts_tlsa_parse(rd, 4, &tl), 0, "full data of one octet");
	T_INT(sts_tlsa_parse(rd, 3, &tl), -1, "no data");
	T_INT(sts_tlsa_parse(rd, 0, &tl), -1, "empty");
	rd[0] = 2; rd[1] = 0; rd[2] = 1;
	T_OK(sts_tlsa_parse(rd, 35, &tl) == 0 && sts_tlsa_usable(&tl),
	    "2 0 1 usable");
	rd[0] = 1;
	T_OK(sts_tlsa_parse(rd, 35, &tl) == 0 && !sts_tlsa_usable(&tl),
	    "PKIX-EE unusable for SMTP");
	rd[0] = 0;
	T_OK(sts_tlsa_parse(rd, 35, &tl) == 0 && !sts_tlsa_usable(&tl),
	    "PKIX-TA unusable for SMTP");
	rd[0] = 3; rd[1] = 2;
	T_OK(sts_tlsa_parse(rd, 35, &tl) == 0 && !sts_tlsa_usable(&tl),
	    "unknown selector unusable");
	rd[1] = 1; rd[2] = 255;
	T_OK(sts_tlsa_parse(rd, 10, &tl) == 0 && !sts_tlsa_usable(&tl),
	    "unknown matching type unusable");
}

int
main(void)
{
	test_txt();
	test_policy();
	test_mx_match();
	test_tlsrpt();
	test_tlsa();
	T_DONE();
}
