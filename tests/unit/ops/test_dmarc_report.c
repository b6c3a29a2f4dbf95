/* test_dmarc_report: the aggregate report reader on good and hostile input. */
#include <stdint.h>
#include <zlib.h>

#include "t.h"
#include "ops/dmarc_report.h"

#define GOOD \
	"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n" \
	"<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">\n" \
	" <report_metadata><org_name>google.com</org_name>\n" \
	"  <email>noreply-dmarc-support@google.com</email>\n" \
	"  <report_id>1234&amp;5</report_id>\n" \
	"  <date_range><begin>1764892800</begin><end>1764979199</end></date_range>\n" \
	" </report_metadata>\n" \
	" <policy_published><domain>example.org</domain><p>reject</p></policy_published>\n" \
	" <!-- a comment -->\n" \
	" <record><row><source_ip>192.0.2.1</source_ip><count>7</count>\n" \
	"  <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf></policy_evaluated></row>\n" \
	"  <identifiers><header_from>example.org</header_from></identifiers>\n" \
	"  <auth_results><dkim><domain>example.org</domain><result>pass</result><selector>f2m</selector></dkim>\n" \
	"   <dkim><domain>other.test</domain><result>fail</result></dkim>\n" \
	"   <spf><domain><![CDATA[bounce.example.org]]></domain><result>softfail</result></spf></auth_results>\n" \
	" </record>\n" \
	"</feedback>\n"

static int
count_cb(const char *xml, size_t len, const char *member, void *arg)
{
	struct dmarc_report	*r;
	struct dmarc_report_pos	 pos;

	(void)member;
	if (dmarc_report_parse_xml(xml, len, &r, &pos) == 0) {
		(*(int *)arg)++;
		dmarc_report_free(r);
		return 0;
	}
	return 5;
}

static size_t
gz(const char *in, size_t len, unsigned char *out, size_t outsize)
{
	z_stream	z;

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)outsize;
	deflate(&z, Z_FINISH);
	deflateEnd(&z);
	return z.total_out;
}

static void
w16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void
w32(unsigned char *p, unsigned long v)
{
	w16(p, (unsigned)(v & 0xffff));
	w16(p + 2, (unsigned)(v >> 16));
}

/* A zip of stored members; crcfix adds to each CRC, usz overrides the
 * stated size (0: the real one). */
static size_t
zip(unsigned char *z, const char **names, const char **data, int n,
    unsigned long crcfix, unsigned long usz, unsigned method)
{
	size_t		off[8], p = 0, cd, i;

	for (i = 0; i < (size_t)n; i++) {
		size_t nl = strlen(names[i]), dl = strlen(data[i]);

		off[i] = p;
		memset(z + p, 0, 30);
		memcpy(z + p, "PK\3\4", 4);
		w16(z + p + 8, method);
		w32(z + p + 14, crc32(0, (const Bytef *)data[i], (uInt)dl) +
		    crcfix);
		w32(z + p + 18, dl);
		w32(z + p + 22, usz ? usz : dl);
		w16(z + p + 26, (unsigned)nl);
		memcpy(z + p + 30, names[i], nl);
		memcpy(z + p + 30 + nl, data[i], dl);
		p += 30 + nl + dl;
	}
	cd = p;
	for (i = 0; i < (size_t)n; i++) {
		size_t nl = strlen(names[i]), dl = strlen(data[i]);

		memset(z + p, 0, 46);
		memcpy(z + p, "PK\1\2", 4);
		w16(z + p + 10, method);
		w32(z + p + 16, crc32(0, (const Bytef *)data[i], (uInt)dl) +
		    crcfix);
		w32(z + p + 20, dl);
		w32(z + p + 24, usz ? usz : dl);
		w16(z + p + 28, (unsigned)nl);
		w32(z + p + 42, off[i]);
		memcpy(z + p + 46, names[i], nl);
		p += 46 + nl;
	}
	memset(z + p, 0, 22);
	memcpy(z + p, "PK\5\6", 4);
	w16(z + p + 8, (unsigned)n);
	w16(z + p + 10, (unsigned)n);
	w32(z + p + 12, p - cd);
	w32(z + p + 16, cd);
	return p + 22;
}

static void
test_good(void)
{
	struct dmarc_report	*r;
	struct dmarc_report_pos	 pos;

	T_INT(dmarc_report_parse_xml(GOOD, strlen(GOOD), &r, &pos), 0, pos.why);
	if (r == NULL)
		return;
	T_STR(r->org_name, "google.com", "org_name");
	T_STR(r->report_id, "1234&5", "report_id entity");
	T_INT(r->begin, 1764892800, "begin");
	T_INT(r->end, 1764979199, "end");
	T_STR(r->domain, "example.org", "policy domain");
	T_STR(r->p, "reject", "p");
	T_INT(r->nrec, 1, "records");
	T_STR(r->rec[0].source_ip, "192.0.2.1", "ip");
	T_INT(r->rec[0].count, 7, "count");
	T_STR(r->rec[0].dkim, "pass", "dkim");
	T_STR(r->rec[0].spf, "fail", "spf");
	T_STR(r->rec[0].disposition, "none", "disposition");
	T_STR(r->rec[0].header_from, "example.org", "header_from");
	T_STR(r->rec[0].dkim_domain, "example.org", "first dkim only");
	T_STR(r->rec[0].dkim_selector, "f2m", "selector");
	T_STR(r->rec[0].spf_domain, "bounce.example.org", "CDATA");
	T_STR(r->rec[0].spf_result, "softfail", "spf result");
	dmarc_report_free(r);
	dmarc_report_free(NULL);
}

#define META "<feedback><report_metadata><org_name>x</org_name><report_id>1" \
	"</report_id><date_range><begin>1</begin><end>2</end></date_range>" \
	"</report_metadata>"

static void
test_hostile_xml(void)
{
	static const struct {
		const char	*xml;
		const char	*why;	/* substring expected */
		unsigned long	 line, col;
	} t[] = {
		{ META "<record><row><count>1", "not closed", 1, 0 },
		{ "", "no root", 1, 1 },
		{ "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [<!ENTITY a "
		  "\"aaaa\">]><feedback/>", "DOCTYPE", 2, 1 },
		{ META "<x>&a;</x></feedback>", "unknown entity", 1, 0 },
		{ "<!ENTITY x SYSTEM \"file:///etc/passwd\">", "DOCTYPE", 1, 1 },
		{ META "<record><row><count>99999999999999999999</count></row>"
		  "</record></feedback>", "too large", 1, 0 },
		{ META "<record><row><count>1000000001</count></row>"
		  "</record></feedback>", "too large", 1, 0 },
		{ META "<record><row><count>-1</count></row></record>"
		  "</feedback>", "not a number", 1, 0 },
		{ META "<a>\xc0\xaf</a></feedback>", "UTF-8", 1, 0 },
		{ META "<a>\xed\xa0\x80</a></feedback>", "UTF-8", 1, 0 },
		{ META "<a>\xf4\x90\x80\x80</a></feedback>", "UTF-8", 1, 0 },
		{ META "<a>\x01</a></feedback>", "UTF-8", 1, 0 },
		{ META "<a>&#0;</a></feedback>", "non-character", 1, 0 },
		{ META "<a>&#xD800;</a></feedback>", "non-character", 1, 0 },
		{ META "<a>&#99999999999;</a></feedback>", "range", 1, 0 },
		{ META "</b></feedback>", "does not match", 1, 0 },
		{ META "</feedback><feedback/>", "after the root", 1, 0 },
		{ META "</feedback>junk", "outside", 1, 0 },
		{ "<report/>", "not <feedback>", 1, 10 },
		{ "<feedback></feedback>", "lacks", 1, 0 },
		{ "<feedback><report_metadata><org_name>x</org_name><report_id>"
		  "1</report_id><date_range><begin>9</begin><end>2</end>"
		  "</date_range></report_metadata></feedback>", "ends before",
		  1, 0 },
		{ META "<a b=c/></feedback>", "not quoted", 1, 0 },
		{ META "<a b=\"<\"/></feedback>", "'<'", 1, 0 },
		{ META "<!-- x", "unterminated comment", 1, 0 },
		{ META "<![CDATA[ x", "unterminated CDATA", 1, 0 },
		{ META "\n\n  <1a/>", "bad element name", 3, 4 },
	};
	struct dmarc_report	*r;
	struct dmarc_report_pos	 pos;
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r = (struct dmarc_report *)1;
		T_INT(dmarc_report_parse_xml(t[i].xml, strlen(t[i].xml), &r,
		    &pos), -1, t[i].xml);
		T_OK(r == NULL, "out not NULL for %s", t[i].xml);
		T_OK(strstr(pos.why, t[i].why) != NULL, "case %zu: expected "
		    "[%s] in [%s]", i, t[i].why, pos.why);
		T_INT(pos.line, t[i].line, t[i].xml);
		if (t[i].col)
			T_INT(pos.col, t[i].col, t[i].xml);
	}
}

static void
test_limits(void)
{
	struct dmarc_report	*r;
	struct dmarc_report_pos	 pos;
	char			*b;
	size_t			 i, n = 0, cap = 8u << 20;

	b = malloc(cap);
	n += (size_t)sprintf(b, META);
	for (i = 0; i < 40; i++)
		n += (size_t)sprintf(b + n, "<a>");
	T_INT(dmarc_report_parse_xml(b, n, &r, &pos), -1, "deep");
	T_OK(strstr(pos.why, "nested over") != NULL, "deep: %s", pos.why);

	n = (size_t)sprintf(b, META "<a>");
	memset(b + n, 'x', 2000);
	n += 2000;
	n += (size_t)sprintf(b + n, "</a></feedback>");
	T_INT(dmarc_report_parse_xml(b, n, &r, &pos), -1, "long text");
	T_OK(strstr(pos.why, "element text over") != NULL, "text: %s",
	    pos.why);

	n = (size_t)sprintf(b, META);
	for (i = 0; i <= DMARC_REPORT_RECORDS_MAX; i++)
		n += (size_t)sprintf(b + n, "<record/>");
	n += (size_t)sprintf(b + n, "</feedback>");
	T_INT(dmarc_report_parse_xml(b, n, &r, &pos), -1, "records");
	T_OK(strstr(pos.why, "records") != NULL, "records: %s", pos.why);
	T_INT(dmarc_report_parse_xml(b, DMARC_REPORT_SIZE_MAX + 1ul, &r, &pos),
	    -1, "size");
	free(b);
}

static void
test_pack(void)
{
	unsigned char		 z[65536], *big;
	struct dmarc_report_pos	 pos;
	const char		*names[3] = { "a.xml", "b.XML", "readme.txt" };
	const char		*data[3] = { GOOD, GOOD, "hello" };
	const char		*evil[1] = { "../../etc/x.xml" };
	const char		*abs[1] = { "/x.xml" };
	size_t			 n, i;
	int			 got;

	got = 0;
	T_INT(dmarc_report_unpack((const unsigned char *)GOOD, strlen(GOOD),
	    count_cb, &got, &pos), 0, "plain");
	T_INT(got, 1, "plain docs");

	n = gz(GOOD, strlen(GOOD), z, sizeof(z));
	got = 0;
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), 0, pos.why);
	T_INT(got, 1, "gzip docs");
	got = 0;
	T_INT(dmarc_report_unpack(z, n - 5, count_cb, &got, &pos), -1,
	    "truncated gzip");
	T_OK(strstr(pos.why, "truncated") != NULL, "gz: %s", pos.why);
	z[n / 2] ^= 0x55;
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "bad gzip");

	n = zip(z, names, data, 3, 0, 0, 0);
	got = 0;
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), 0, pos.why);
	T_INT(got, 2, "zip members");
	n = zip(z, names, data, 1, 1, 0, 0);
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "crc");
	T_OK(strstr(pos.why, "CRC") != NULL, "crc: %s", pos.why);
	n = zip(z, evil, data, 1, 0, 0, 0);
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "..");
	T_OK(strstr(pos.why, "unsafe member name") != NULL, "..: %s", pos.why);
	n = zip(z, abs, data, 1, 0, 0, 0);
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "abs");
	n = zip(z, names + 2, data + 2, 1, 0, 0, 0);
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "no xml");
	T_OK(strstr(pos.why, "no .xml") != NULL, "noxml: %s", pos.why);
	n = zip(z, names, data, 1, 0, 0, 12);
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "bzip2");
	/* Stated size 4 GB from a few octets: refused before inflating. */
	n = zip(z, names, data, 1, 0, 15u << 20, 8);
	T_INT(dmarc_report_unpack(z, n, count_cb, &got, &pos), -1, "ratio");
	T_OK(strstr(pos.why, "ratio") != NULL, "ratio: %s", pos.why);
	for (i = 0; i < 20; i++) {
		T_INT(dmarc_report_unpack(z, i, count_cb, &got, &pos), i < 4 ?
		    5 : -1, "truncated zip");
	}
	/* A gzip bomb: 16 MiB + 1 of zeros. */
	big = calloc(1, (16u << 20) + 1);
	{
		static unsigned char gzb[1 << 20];

		n = gz((const char *)big, (16u << 20) + 1, gzb, sizeof(gzb));
		T_INT(dmarc_report_unpack(gzb, n, count_cb, &got, &pos), -1,
		    "gzip bomb");
		T_OK(strstr(pos.why, "limit") != NULL, "bomb: %s", pos.why);
		n = gz((const char *)big, 4u << 20, gzb, sizeof(gzb));
		T_INT(dmarc_report_unpack(gzb, n, count_cb, &got, &pos), -1,
		    "gzip ratio");
		T_OK(strstr(pos.why, "ratio") != NULL, "gz ratio: %s", pos.why);
	}
	free(big);
}

int
main(void)
{
	test_good();
	test_hostile_xml();
	test_limits();
	test_pack();
	T_DONE();
}
