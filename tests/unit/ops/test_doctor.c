/*
 * test_doctor: the pure parts of `form2mail doctor` (TXT joining, names,
 * SPF recognition, tag-lists, DKIM comparison, DMARC, alignment) and the
 * sender.spf terms check (spf_terms_check()).  DNS and SMTP are tested
 * against real servers in tests/integration/test_doctor.py.
 */
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "lib/spf.h"
#include "ops/doctor.h"
#include "t.h"

#define LEN(s)	(sizeof(s) - 1)

static void
test_txt_join(void)
{
	static const struct {
		const char	*rd;
		size_t		 len;
		int		 rc;
		const char	*want;
		size_t		 wantlen;
	} t[] = {
		{ "\x05hello", 6, 0, "hello", 5 },
		{ "\x03" "abc" "\x03" "def", 8, 0, "abcdef", 6 },
		{ "\x00", 1, 0, "", 0 },
		{ "\x00\x00\x02xy", 5, 0, "xy", 2 },
		{ "", 0, -1, "", 0 },
		{ "\x05" "abc", 4, -1, "", 0 },
		{ "\x03" "ab", 3, -1, "", 0 },
		{ "\x02" "ab\x01", 4, -1, "", 0 },
		{ "\x03" "a\0c", 4, 0, "a\0c", 3 },
	};
	char		 out[64], big[300], v[DOCTOR_TXT_MAX + 1];
	unsigned char	 rd[DOCTOR_TXT_MAX + 64];
	size_t		 i, n, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char	 what[32];

		snprintf(what, sizeof(what), "txt case %zu", i);
		T_INT(doctor_txt_join((const unsigned char *)t[i].rd, t[i].len,
		    out, sizeof(out), &n), t[i].rc, what);
		T_INT(n, t[i].wantlen, "joined length");
		T_OK(memcmp(out, t[i].want, t[i].wantlen) == 0 &&
		    out[t[i].wantlen] == '\0', "case %zu: got [%s]", i, out);
	}
	/* Two strings: 255 + 10 octets. */
	rd[0] = 255;
	memset(rd + 1, 'a', 255);
	rd[256] = 10;
	memset(rd + 257, 'b', 10);
	T_INT(doctor_txt_join(rd, 267, big, sizeof(big), &n), 0, "255+10");
	T_INT(n, 265, "255+10 length");
	T_OK(big[254] == 'a' && big[255] == 'b' && big[265] == '\0',
	    "255+10 content");
	/* Exactly what fits, and one octet more. */
	T_INT(doctor_txt_join(rd, 267, big, 266, &n), 0, "fits");
	T_INT(doctor_txt_join(rd, 267, big, 265, &n), -1, "one too long");
	T_OK(big[0] == '\0' && n == 0, "refused value left empty");
	/* DOCTOR_TXT_MAX in 17 strings of at most 255, then one more. */
	for (len = 0, n = DOCTOR_TXT_MAX; n > 0; ) {
		size_t	 k = n > 255 ? 255 : n;

		rd[len++] = (unsigned char)k;
		memset(rd + len, 'x', k);
		len += k;
		n -= k;
	}
	T_INT(doctor_txt_join(rd, len, v, sizeof(v), &n), 0, "TXT_MAX");
	T_INT(n, DOCTOR_TXT_MAX, "TXT_MAX length");
	rd[len++] = 1;
	rd[len++] = 'y';
	T_INT(doctor_txt_join(rd, len, v, sizeof(v), &n), -1, "TXT_MAX + 1");
}

static void
test_name_text(void)
{
	static const struct {
		const char	*w;
		size_t		 len;
		const char	*want;	/* NULL: refused */
	} t[] = {
		{ "\x04mail\x07" "example\x03net\x00", 18, "mail.example.net" },
		{ "\x04_spf\x07" "example\x00", 14, "_spf.example" },
		{ "\x01" "a\x00", 3, "a" },
		{ "\x00", 1, NULL },			/* root */
		{ "", 0, NULL },
		{ "\xc0\x0c", 2, NULL },		/* compression pointer */
		{ "\x03" "a.b\x00", 5, NULL },		/* dot inside a label */
		{ "\x03" "abc", 4, NULL },		/* no root label */
		{ "\x01" "a\x00\x01" "b\x00", 6, NULL },	/* after the root */
		{ "\x03" "a\x1b" "b\x00", 5, NULL },	/* ESC */
		{ "\x03" "a b\x00", 5, NULL },
		{ "\x05" "ab\x00", 4, NULL },		/* runs past the end */
	};
	unsigned char	 w[300];
	char		 out[300];
	size_t		 i, len;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int	 rc = doctor_name_text((const unsigned char *)t[i].w,
			    t[i].len, out, sizeof(out));

		if (t[i].want == NULL)
			T_OK(rc == -1 && out[0] == '\0', "case %zu: expected "
			    "refusal, got %d [%s]", i, rc, out);
		else {
			T_INT(rc, 0, t[i].want);
			T_STR(out, t[i].want, "name");
		}
	}
	/* A 64-octet label is refused, 63 taken. */
	w[0] = 63;
	memset(w + 1, 'a', 63);
	w[64] = 0;
	T_INT(doctor_name_text(w, 65, out, sizeof(out)), 0, "63-octet label");
	w[0] = 64;
	memset(w + 1, 'a', 64);
	w[65] = 0;
	T_INT(doctor_name_text(w, 66, out, sizeof(out)), -1, "64-octet label");
	/* 254 octets of text: over the limit; and a small out buffer. */
	for (len = 0, i = 0; i < 5; i++) {
		w[len++] = 50;
		memset(w + len, 'b', 50);
		len += 50;
	}
	w[len++] = 0;
	T_INT(doctor_name_text(w, len, out, sizeof(out)), -1, "254 octets");
	T_INT(doctor_name_text((const unsigned char *)"\x04mail\x00", 6, out,
	    4), -1, "out too small");
}

static void
test_is_spf(void)
{
	static const struct {
		const char	*s;
		int		 want;
	} t[] = {
		{ "v=spf1 -all", 1 }, { "V=SPF1 a", 1 }, { "v=spf1", 1 },
		{ "v=spf10 a", 0 }, { "v=spf1a", 0 }, { "spf1", 0 },
		{ "", 0 }, { " v=spf1", 0 }, { "v=spf", 0 },
		{ "v=DKIM1; p=", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_INT(spf_is_record(t[i].s, strlen(t[i].s)), t[i].want, t[i].s);
}

static void
test_tag(void)
{
	static const struct {
		const char	*rec;
		const char	*tag;
		int		 rc;
		const char	*want;
	} t[] = {
		{ "v=DKIM1; k=rsa; p=ABC", "p", 1, "ABC" },
		{ "v=DKIM1; k=rsa; p=ABC", "k", 1, "rsa" },
		{ "p = AB CD\r\n EF ;", "p", 1, "ABCDEF" },
		{ "t = y : s ;", "t", 1, "y : s" },
		{ "k=rsa", "p", 0, "" },
		{ "k=rsa; p=A; p=B", "p", -1, "" },
		{ "k=rsa; p=A; k=ed25519", "p", -1, "" },
		{ "k=rsa; junk; p=A", "p", -1, "" },
		{ "1k=rsa; p=A", "p", -1, "" },
		{ "k-x=1; p=A", "p", -1, "" },
		{ "=1; p=A", "p", -1, "" },
		{ "p=A\x01" "B", "p", -1, "" },
		{ "p=A\x7f", "p", -1, "" },
		{ "p=", "p", 1, "" },
		{ ";;p=A;", "p", 1, "A" },
		{ "P=ABC", "p", 0, "" },
		{ "v = DKIM1", "v", 1, "DKIM1" },
		{ "a_b=1; p=2", "a_b", 1, "1" },
		{ "n=a=b", "n", 1, "a=b" },
		{ "", "p", 0, "" },
		{ "   ", "p", 0, "" },
	};
	char	 val[16], big[4];
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		T_INT(doctor_tag(t[i].rec, strlen(t[i].rec), t[i].tag, val,
		    sizeof(val)), t[i].rc, t[i].rec);
		T_STR(val, t[i].want, t[i].rec);
	}
	T_INT(doctor_tag("p=A\0B", 5, "p", val, sizeof(val)), -1, "NUL");
	T_INT(doctor_tag("p=ABCD", 6, "p", big, sizeof(big)), -1, "too long");
	T_INT(doctor_tag("p=ABC", 5, "p", big, sizeof(big)), 1, "just fits");
}

static void
test_dkim_compare(void)
{
	static const char	*exp = "v=DKIM1; k=rsa; p=ABCD";
	static const struct {
		const char		*pub;
		enum doctor_dkim	 want;
	} t[] = {
		{ "v=DKIM1; k=rsa; p=ABCD", DOCTOR_DKIM_MATCH },
		{ "p=ABCD", DOCTOR_DKIM_MATCH },
		{ "v=DKIM1; k=rsa; p=AB CD", DOCTOR_DKIM_MATCH },
		{ "v=DKIM1; K=x; p=ABCD; n=note", DOCTOR_DKIM_MATCH },
		{ "v=DKIM1; t=yes; p=ABCD", DOCTOR_DKIM_MATCH },
		{ "v=DKIM1; k=RSA; p=ABCD", DOCTOR_DKIM_MATCH },
		{ "v=DKIM1; k=rsa; t=y; p=ABCD", DOCTOR_DKIM_TESTING },
		{ "v=DKIM1; t=s:y; p=ABCD", DOCTOR_DKIM_TESTING },
		{ "v=DKIM1; p=", DOCTOR_DKIM_REVOKED },
		{ "v=DKIM1; k=rsa; p=ABCE", DOCTOR_DKIM_OTHER_KEY },
		{ "v=DKIM1; k=rsa; p=ABCDE", DOCTOR_DKIM_OTHER_KEY },
		{ "v=DKIM1; k=ed25519; p=ABCD", DOCTOR_DKIM_OTHER_TYPE },
		{ "k=rsa; v=DKIM1; p=ABCD", DOCTOR_DKIM_INVALID },
		{ "v=DKIM2; p=ABCD", DOCTOR_DKIM_INVALID },
		{ "v=DKIM1; k=rsa", DOCTOR_DKIM_INVALID },
		{ "v=spf1 -all", DOCTOR_DKIM_INVALID },
		{ "hello", DOCTOR_DKIM_INVALID },
		{ "v=DKIM1; p=ABCD; p=ABCD", DOCTOR_DKIM_INVALID },
		{ "", DOCTOR_DKIM_INVALID },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		T_INT(doctor_dkim_compare(t[i].pub, strlen(t[i].pub), exp),
		    t[i].want, t[i].pub);
	T_INT(doctor_dkim_compare("p=ABCD", 6, "v=DKIM1; p=ABCD"),
	    DOCTOR_DKIM_INVALID, "expected record without k=");
}

static void
test_dmarc(void)
{
	static const struct {
		const char	*rec;
		int		 rc;
		int		 p, sp, adkim_s, aspf_s, pct;
	} t[] = {
		{ "v=DMARC1; p=quarantine", 0, DOCTOR_P_QUARANTINE,
		  DOCTOR_P_QUARANTINE, 0, 0, 100 },
		{ "v=DMARC1; p=reject; sp=none; adkim=s; aspf=s; pct=50; "
		  "rua=mailto:a@example.com", 0, DOCTOR_P_REJECT, DOCTOR_P_NONE,
		  1, 1, 50 },
		{ "v=DMARC1;p=None", 0, DOCTOR_P_NONE, DOCTOR_P_NONE, 0, 0, 100 },
		{ "v=DMARC1; p=none; adkim=r; pct=0", 0, DOCTOR_P_NONE,
		  DOCTOR_P_NONE, 0, 0, 0 },
		{ "p=reject; v=DMARC1", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=block", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; sp=all", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; pct=101", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; pct=-1", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; pct=+5", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; pct=", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; pct=99999999999999999999", -1, 0, 0, 0, 0,
		  0 },
		{ "v=DMARC1; p=none; adkim=x", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; aspf=relaxed", -1, 0, 0, 0, 0, 0 },
		{ "v=dmarc1; p=none", -1, 0, 0, 0, 0, 0 },
		{ "v=DMARC1; p=none; p=reject", -1, 0, 0, 0, 0, 0 },
		{ "v=spf1 -all", -1, 0, 0, 0, 0, 0 },
	};
	struct doctor_dmarc	 dm;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why = NULL;
		T_INT(doctor_dmarc_parse(t[i].rec, strlen(t[i].rec), &dm, &why),
		    t[i].rc, t[i].rec);
		if (t[i].rc == -1) {
			T_OK(why != NULL && *why != '\0', "%s: no reason",
			    t[i].rec);
			continue;
		}
		T_INT(dm.p, t[i].p, "p");
		T_INT(dm.sp, t[i].sp, "sp");
		T_INT(dm.adkim_strict, t[i].adkim_s, "adkim");
		T_INT(dm.aspf_strict, t[i].aspf_s, "aspf");
		T_INT(dm.pct, t[i].pct, "pct");
	}
}

static void
test_align(void)
{
	static const struct {
		const char	*a, *b;
		int		 want;
	} t[] = {
		{ "example.com", "example.com", 2 },
		{ "EXAMPLE.com.", "example.COM", 2 },
		{ "mail.example.com", "example.com", 1 },
		{ "example.com", "a.b.example.com", 1 },
		{ "a.example.com", "b.example.com", -1 },
		{ "x.a.example.com", "y.b.example.com", -1 },
		{ "example.com", "example.net", 0 },
		{ "xexample.com", "example.com", 0 },
		{ "a.com", "b.com", 0 },
		{ "a.co.uk", "b.co.uk", -1 },	/* the PSL would say 0 */
		{ "", "example.com", 0 },
		{ ".", ".", 0 },
	};
	size_t	 i;
	char	 what[128];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(what, sizeof(what), "%s vs %s", t[i].a, t[i].b);
		T_INT(doctor_align(t[i].a, t[i].b), t[i].want, what);
		T_INT(doctor_align(t[i].b, t[i].a), t[i].want, what);
	}
}

static void
test_spf_terms(void)
{
	static const char *const good[] = {
		"include:_spf.example.net",
		"ip4:192.0.2.0/24 ip6:2001:db8::/32",
		"ip4:192.0.2.1 ip6:::1",
		"a", "mx", "A", "MX:mail.example.com", "a:example.com",
		"mx/24", "a//64", "a:example.com/24//64", "mx/0//0",
		"+mx ?a ~ip4:192.0.2.4 -include:x.example",
		"exists:x.example.com",
		"  ip4:192.0.2.4  ",
		"INCLUDE:_spf.Example.NET",
		"include:a1.example.com include:a2.example.com "
		"include:a3.example.com include:a4.example.com a mx "
		"exists:a5.example.com include:a6.example.com "
		"include:a7.example.com include:a8.example.com",
	};
	static const char *const bad[] = {
		"", "   ", "all", "-all", "~all", "?all", "include:x.example all",
		"v=spf1 a", "redirect=x.example.com", "exp=x.example.com",
		"ptr", "ptr:example.com", "include:", "include", "include:example",
		"include:%{d}.example.com", "exists:%{i}.example.com",
		"ip4:192.0.2", "ip4:192.0.2.1/33", "ip4:192.0.2.1/08",
		"ip4:192.0.2.1/", "ip4:", "ip4", "ip6:::1/129", "ip6:192.0.2.1",
		"ip4:2001:db8::1", "a/33", "a//129", "a/24/64", "a/", "mx:",
		"mx:example.com/", "foo", "a:exa mple", "include:a.b\"c",
		"ip4:192.0.2.1;", "include:-a.example.com", "include:a-.example",
		"include:a.123", "include:a..example", "ip4:192.0.2.1\t",
		"ip4:192.0.2.1\xc3\xa9", "a:example.com:80", "+", "-",
		"include:a1.example.com include:a2.example.com "
		"include:a3.example.com include:a4.example.com a mx "
		"exists:a5.example.com include:a6.example.com "
		"include:a7.example.com include:a8.example.com "
		"include:a9.example.com",
	};
	char	 err[256], longv[SPF_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		err[0] = '\0';
		T_INT(spf_terms_check(good[i], err, sizeof(err)), 0, good[i]);
		if (err[0] != '\0')
			fprintf(stderr, "  (%s: %s)\n", good[i], err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_INT(spf_terms_check(bad[i], err, sizeof(err)), -1, bad[i]);
		T_OK(err[0] != '\0', "no reason for [%s]", bad[i]);
		T_OK(strchr(err, '\n') == NULL && strchr(err, '\t') == NULL,
		    "reason holds a control: [%s]", err);
	}
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	T_INT(spf_terms_check(longv, err, sizeof(err)), -1, "too long");
	T_OK(spf_terms_check("all", err, sizeof(err)) == -1 &&
	    strstr(err, "\"all\"") != NULL, "reason names the term: [%s]", err);
}

int
main(void)
{
	test_txt_join();
	test_name_text();
	test_is_spf();
	test_tag();
	test_dkim_compare();
	test_dmarc();
	test_align();
	test_spf_terms();
	T_DONE();
}
