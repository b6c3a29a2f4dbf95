/*
 * test_form: application/x-www-form-urlencoded and multipart/form-data
 * decoding, content sniffing (form.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "form/form.h"
#include "t.h"

/* Explicit length, so that tables may hold raw NUL octets. */
#define B(s)	(s), sizeof(s) - 1

struct form_case {
	const char	*body;
	size_t		 len;
	size_t		 max;
	enum form_err	 err;
	const char	*want;	/* pairs as dump() writes them */
};

static const struct form_case cases[] = {
	{ B(""), 50, FORM_OK, "" },
	{ B("a=1"), 50, FORM_OK, "[a]=[1]" },
	{ B("a=1&b=2"), 50, FORM_OK, "[a]=[1] [b]=[2]" },
	{ B("a=1&&b=2&"), 50, FORM_OK, "[a]=[1] [b]=[2]" },
	{ B("&&&"), 50, FORM_OK, "" },
	{ B("&a=1"), 50, FORM_OK, "[a]=[1]" },
	/* no '=': a name with an empty value */
	{ B("a"), 50, FORM_OK, "[a]=[]" },
	{ B("a=1&b"), 50, FORM_OK, "[a]=[1] [b]=[]" },
	{ B("a="), 50, FORM_OK, "[a]=[]" },
	/* empty name */
	{ B("=1"), 50, FORM_EINVAL, NULL },
	{ B("="), 50, FORM_EINVAL, NULL },
	{ B("a=1&=2"), 50, FORM_EINVAL, NULL },
	{ B("a=1&=&b=2"), 50, FORM_EINVAL, NULL },
	/* '=' in the value: the first '=' splits */
	{ B("a=b=c"), 50, FORM_OK, "[a]=[b=c]" },
	{ B("a==="), 50, FORM_OK, "[a]=[==]" },
	/* '+' is a space, %2B a plus, in names and values */
	{ B("a+b=c+d"), 50, FORM_OK, "[a b]=[c d]" },
	{ B("a%2Bb=%2b"), 50, FORM_OK, "[a+b]=[+]" },
	{ B("+=+"), 50, FORM_OK, "[ ]=[ ]" },
	{ B("%20=x"), 50, FORM_OK, "[ ]=[x]" },
	/* %00 and CR LF are decoded, not refused: validate.h decides */
	{ B("a=%00"), 50, FORM_OK, "[a]=[\\x00]" },
	{ B("a=x%00y"), 50, FORM_OK, "[a]=[x\\x00y]" },
	{ B("a%00b=1"), 50, FORM_OK, "[a\\x00b]=[1]" },
	{ B("a=x%0d%0aBcc:%20y@z.example"), 50, FORM_OK,
	    "[a]=[x\\x0d\\x0aBcc: y@z.example]" },
	{ B("a%0D%0A=1"), 50, FORM_OK, "[a\\x0d\\x0a]=[1]" },
	/* raw octets pass through as they are */
	{ B("a=x\0y"), 50, FORM_OK, "[a]=[x\\x00y]" },
	{ B("a=x\r\ny"), 50, FORM_OK, "[a]=[x\\x0d\\x0ay]" },
	{ B("a=\xff"), 50, FORM_OK, "[a]=[\\xff]" },
	/* bad escapes */
	{ B("a=%"), 50, FORM_EINVAL, NULL },
	{ B("a=%4"), 50, FORM_EINVAL, NULL },
	{ B("a=%4&b=1"), 50, FORM_EINVAL, NULL },
	{ B("a=%G1"), 50, FORM_EINVAL, NULL },
	{ B("a=%1G"), 50, FORM_EINVAL, NULL },
	{ B("a=%%41"), 50, FORM_EINVAL, NULL },
	{ B("a%=1"), 50, FORM_EINVAL, NULL },
	{ B("%=1"), 50, FORM_EINVAL, NULL },
	{ B("a=%\0\0"), 50, FORM_EINVAL, NULL },
	{ B("a=% 1"), 50, FORM_EINVAL, NULL },
	{ B("a=%25"), 50, FORM_OK, "[a]=[%]" },
	{ B("a=%2541"), 50, FORM_OK, "[a]=[%41]" },
	{ B("%41%62=%6a%6A"), 50, FORM_OK, "[Ab]=[jj]" },
	{ B("a=%26b%3Dc"), 50, FORM_OK, "[a]=[&b=c]" },
	/* UTF-8, and what is not: passed through, validation refuses later */
	{ B("a=%C3%A9%E2%82%AC"), 50, FORM_OK, "[a]=[\\xc3\\xa9\\xe2\\x82\\xac]" },
	{ B("a=%C0%80"), 50, FORM_OK, "[a]=[\\xc0\\x80]" },
	{ B("a=%E0%80%AF"), 50, FORM_OK, "[a]=[\\xe0\\x80\\xaf]" },
	{ B("a=%ED%A0%80"), 50, FORM_OK, "[a]=[\\xed\\xa0\\x80]" },
	{ B("a=%E2%80%A8"), 50, FORM_OK, "[a]=[\\xe2\\x80\\xa8]" },
	/* ';' is not a separator */
	{ B("a=1;b=2"), 50, FORM_OK, "[a]=[1;b=2]" },
	/* duplicates kept in order */
	{ B("a=1&b=x&a=2&a=3"), 50, FORM_OK, "[a]=[1] [b]=[x] [a]=[2] [a]=[3]" },
	/* field count: empty pairs do not count */
	{ B("a&b"), 2, FORM_OK, "[a]=[] [b]=[]" },
	{ B("a&&&b&&"), 2, FORM_OK, "[a]=[] [b]=[]" },
	{ B("a&b&c"), 2, FORM_ETOOMANY, NULL },
	{ B(""), 0, FORM_OK, "" },
	{ B("&"), 0, FORM_OK, "" },
	{ B("a"), 0, FORM_ETOOMANY, NULL },
	/* the count is checked before later pairs are looked at */
	{ B("a&b&%"), 1, FORM_ETOOMANY, NULL },
	{ B("%&b"), 1, FORM_EINVAL, NULL },
};

/* Pairs as "[name]=[value]" joined by spaces, odd octets as \xHH. */
static void
dump_bytes(struct buf *b, const char *s, size_t len)
{
	size_t	 i;
	int	 rc = 0;

	for (i = 0; i < len && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '[' && c != ']' && c != '\\')
			rc = buf_addc(b, c);
		else
			rc = buf_printf(b, "\\x%02x", c);
	}
	if (rc == -1)
		abort();
}

static char *
dump(const struct form *f)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	char		*s;

	for (i = 0; i < f->nfields; i++) {
		if (buf_adds(&b, i ? " [" : "[") == -1)
			abort();
		dump_bytes(&b, f->fields[i].name, f->fields[i].name_len);
		if (buf_adds(&b, "]=[") == -1)
			abort();
		dump_bytes(&b, f->fields[i].value, f->fields[i].value_len);
		if (buf_adds(&b, "]") == -1)
			abort();
	}
	if ((s = buf_steal(&b)) == NULL)
		abort();
	return s;
}

/* Every name and value is NUL-terminated at its length. */
static int
terminated(const struct form *f)
{
	size_t	 i;

	for (i = 0; i < f->nfields; i++)
		if (f->fields[i].name[f->fields[i].name_len] != '\0' ||
		    f->fields[i].value[f->fields[i].value_len] != '\0')
			return 0;
	return 1;
}

static void
test_table(void)
{
	static struct form	 sentinel;
	struct form	*f;
	enum form_err	 e;
	char		*got, what[160];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(what, sizeof(what), "case %zu (%.60s)", i,
		    cases[i].body);
		f = &sentinel;	/* must come back NULL on error */
		e = form_parse_urlencoded(cases[i].body, cases[i].len,
		    cases[i].max, &f);
		T_OK(e == cases[i].err, "%s: expected %s, got %s", what,
		    form_strerror(cases[i].err), form_strerror(e));
		if (e != FORM_OK) {
			T_OK(f == NULL, "%s: *out not NULL on error", what);
			continue;
		}
		if (f == NULL || cases[i].want == NULL)
			continue;
		got = dump(f);
		T_STR(got, cases[i].want, what);
		T_OK(terminated(f), "%s: not NUL-terminated", what);
		free(got);
		form_free(f);
	}
}

/* A body of n pairs "fK=K" (K = 0..n-1). */
static void
make_pairs(struct buf *b, size_t n)
{
	size_t	 i;

	buf_reset(b);
	for (i = 0; i < n; i++)
		if (buf_printf(b, "%sf%zu=%zu", i ? "&" : "", i, i) == -1)
			abort();
}

static void
test_counts(void)
{
	struct buf	 b = BUF_INIT;
	struct form	*f;
	char		 want[32];
	enum form_err	 e;

	make_pairs(&b, FORM_MAX_FIELDS);
	e = form_parse_urlencoded(b.data, b.len, FORM_MAX_FIELDS, &f);
	T_INT(e, FORM_OK, "1000 pairs, max 1000");
	if (e == FORM_OK) {
		T_INT(f->nfields, FORM_MAX_FIELDS, "1000 pairs: nfields");
		snprintf(want, sizeof(want), "%d", FORM_MAX_FIELDS - 1);
		T_STR(f->fields[FORM_MAX_FIELDS - 1].value, want,
		    "1000 pairs: last value");
		T_OK(terminated(f), "1000 pairs: not NUL-terminated");
		form_free(f);
	}
	e = form_parse_urlencoded(b.data, b.len, 999, &f);
	T_INT(e, FORM_ETOOMANY, "1000 pairs, max 999");

	make_pairs(&b, FORM_MAX_FIELDS + 1);
	e = form_parse_urlencoded(b.data, b.len, FORM_MAX_FIELDS, &f);
	T_INT(e, FORM_ETOOMANY, "1001 pairs, max 1000");
	/* config cannot raise the ceiling */
	e = form_parse_urlencoded(b.data, b.len, (size_t)-1, &f);
	T_INT(e, FORM_ETOOMANY, "1001 pairs, max SIZE_MAX");
	T_OK(f == NULL, "1001 pairs: *out not NULL");

	/* 100000 '&' and one pair: empty pairs cost nothing */
	buf_reset(&b);
	while (b.len < 100000)
		if (buf_addc(&b, '&') == -1)
			abort();
	if (buf_adds(&b, "a=1") == -1)
		abort();
	e = form_parse_urlencoded(b.data, b.len, 1, &f);
	T_INT(e, FORM_OK, "100000 empty pairs");
	if (e == FORM_OK) {
		T_INT(f->nfields, 1, "100000 empty pairs: nfields");
		form_free(f);
	}
	buf_free(&b);
}

static void
test_names(void)
{
	struct buf	 b = BUF_INIT;
	struct form	*f;
	enum form_err	 e;
	size_t		 i;

	/* FORM_MAX_NAME octets, raw */
	for (i = 0; i < FORM_MAX_NAME; i++)
		if (buf_addc(&b, 'n') == -1)
			abort();
	if (buf_adds(&b, "=v") == -1)
		abort();
	e = form_parse_urlencoded(b.data, b.len, 50, &f);
	T_INT(e, FORM_OK, "name of 256 octets");
	if (e == FORM_OK) {
		T_INT(f->fields[0].name_len, FORM_MAX_NAME, "name_len");
		form_free(f);
	}
	buf_reset(&b);
	for (i = 0; i <= FORM_MAX_NAME; i++)
		if (buf_addc(&b, 'n') == -1)
			abort();
	e = form_parse_urlencoded(b.data, b.len, 50, &f);
	T_INT(e, FORM_ETOOBIG, "name of 257 octets, no '='");

	/* the decoded length counts: 256 escapes is 768 octets raw */
	buf_reset(&b);
	for (i = 0; i < FORM_MAX_NAME; i++)
		if (buf_adds(&b, "%41") == -1)
			abort();
	if (buf_adds(&b, "=v") == -1)
		abort();
	e = form_parse_urlencoded(b.data, b.len, 50, &f);
	T_INT(e, FORM_OK, "name of 256 escapes");
	if (e == FORM_OK) {
		T_INT(f->fields[0].name_len, FORM_MAX_NAME, "escaped name_len");
		form_free(f);
	}
	buf_reset(&b);
	if (buf_adds(&b, "a=1&") == -1)
		abort();
	for (i = 0; i <= FORM_MAX_NAME; i++)
		if (buf_adds(&b, "%41") == -1)
			abort();
	if (buf_adds(&b, "=v") == -1)
		abort();
	e = form_parse_urlencoded(b.data, b.len, 50, &f);
	T_INT(e, FORM_ETOOBIG, "name of 257 escapes");

	/* values have no ceiling here (request.c applies max_value) */
	buf_reset(&b);
	if (buf_adds(&b, "v=") == -1)
		abort();
	for (i = 0; i < 200000; i++)
		if (buf_adds(&b, i % 2 ? "%7e" : "x") == -1)
			abort();
	e = form_parse_urlencoded(b.data, b.len, 50, &f);
	T_INT(e, FORM_OK, "value of 200000 octets");
	if (e == FORM_OK) {
		T_INT(f->fields[0].value_len, 200000, "value_len");
		T_OK(terminated(f), "long value not NUL-terminated");
		form_free(f);
	}
	buf_free(&b);
}

static void
test_get(void)
{
	static const char	 body[] = "a=1&a%00b=2&b=3&a=4&ab=5";
	struct form		*f;
	const struct form_field	*ff;

	if (form_parse_urlencoded(body, sizeof(body) - 1, 50, &f) != FORM_OK) {
		T_OK(0, "parse failed");
		return;
	}
	ff = form_get(f, "a");
	T_OK(ff == &f->fields[0], "form_get(a) is the first a");
	T_INT(form_count(f, "a"), 2, "form_count(a)");
	/* "a\0b" is neither "a" nor "ab" */
	T_INT(form_count(f, "ab"), 1, "form_count(ab)");
	ff = form_get(f, "ab");
	T_OK(ff == &f->fields[4], "form_get(ab) skips a\\0b");
	T_OK(form_get(f, "c") == NULL, "form_get(c)");
	T_OK(form_get(f, "") == NULL, "form_get(\"\")");
	T_INT(form_count(f, "c"), 0, "form_count(c)");
	T_OK(form_get(NULL, "a") == NULL, "form_get(NULL)");
	T_INT(form_count(NULL, "a"), 0, "form_count(NULL)");
	form_free(f);
	form_free(NULL);
}

static void
test_strerror(void)
{
	T_STR(form_strerror(FORM_OK), "ok", "FORM_OK");
	T_STR(form_strerror(FORM_ETOOMANY), "too many fields or files",
	    "ETOOMANY");
	T_STR(form_strerror(FORM_ETOOBIG), "field name or uploads too large",
	    "ETOOBIG");
	T_STR(form_strerror(FORM_EINVAL), "malformed form body", "EINVAL");
	T_STR(form_strerror(FORM_ENOMEM), "out of memory", "ENOMEM");
	T_STR(form_strerror((enum form_err)99), "unknown error", "99");
}

/*
 * multipart/form-data.  Bodies use the boundary XB unless the case says
 * otherwise; want lists fields as [name]=[value] and then files as
 * <field|filename|claimed type|sniffed type|len>, len followed by '!' when
 * the file was too large (and its data then must be NULL).
 */
#define CT		"multipart/form-data; boundary=XB"
#define DL		"--XB\r\n"
#define END		"--XB--\r\n"
#define CDN(n)		"Content-Disposition: form-data; name=\"" n "\"\r\n"
#define CDF(n, f)	"Content-Disposition: form-data; name=\"" n "\"; " \
			"filename=\"" f "\"\r\n"
#define PART(n, v)	DL CDN(n) "\r\n" v "\r\n"
#define FILEP(n, f, t, v) DL CDF(n, f) "Content-Type: " t "\r\n\r\n" v "\r\n"
#define PDF		"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
#define B70		"0123456789012345678901234567890123456789" \
			"012345678901234567890123456789"
#define WK		"----WebKitFormBoundary7MA4YWxkTrZu0gW"

enum { L_DEF, L_SMALL, L_NOFILE };

static const struct form_limits mp_limits[] = {
	/* fields, files, file size, total, header line */
	{ 50, 5, 1000, 5000, 1024 },
	{ 4, 2, 10, 15, 64 },
	{ 50, 0, 1000, 5000, 1024 },
};

struct mp_case {
	const char	*what;
	const char	*ct;
	const char	*body;
	size_t		 len;
	int		 lim;
	enum form_err	 err;
	const char	*want;
};

static const struct mp_case mp_cases[] = {
	/* the shapes browsers send */
	{ "one field", CT, B(PART("a", "1") END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "chrome-like", "multipart/form-data; boundary=" WK,
	    B("--" WK "\r\n"
	    "Content-Disposition: form-data; name=\"name\"\r\n\r\n"
	    "Zo\xc3\xa9\r\n"
	    "--" WK "\r\n"
	    "Content-Disposition: form-data; name=\"cv\"; "
	    "filename=\"cv.pdf\"\r\n"
	    "Content-Type: application/pdf\r\n\r\n"
	    PDF "\r\n"
	    "--" WK "\r\n"
	    "Content-Disposition: form-data; name=\"photo\"; filename=\"\"\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n"
	    "\r\n"
	    "--" WK "\r\n"
	    "Content-Disposition: form-data; name=\"msg\"\r\n\r\n"
	    "line 1\r\nline 2\r\n"
	    "--" WK "--\r\n"), L_DEF, FORM_OK,
	    "[name]=[Zo\\xc3\\xa9] [msg]=[line 1\\x0d\\x0aline 2] "
	    "<cv|cv.pdf|application/pdf|application/pdf|15>" },
	{ "empty form", CT, B(END), L_DEF, FORM_OK, "" },
	{ "final boundary without CRLF", CT, B(PART("a", "1") "--XB--"),
	    L_DEF, FORM_OK, "[a]=[1]" },
	{ "preamble and epilogue ignored", CT,
	    B("This is a preamble.\r\nIt has --XB in it.\r\n" PART("a", "1") END
	    "epilogue\r\n" PART("b", "2") END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "empty value", CT, B(PART("a", "") END), L_DEF, FORM_OK, "[a]=[]" },
	{ "duplicate names kept in order", CT,
	    B(PART("a", "1") PART("b", "x") PART("a", "2") END), L_DEF,
	    FORM_OK, "[a]=[1] [b]=[x] [a]=[2]" },
	{ "transport padding after delimiters", CT,
	    B("--XB \t\r\n" CDN("a") "\r\n1\r\n--XB--  \r\n"), L_DEF,
	    FORM_OK, "[a]=[1]" },
	{ "CRLF CRLF and bare CR in data kept", CT,
	    B(PART("a", "x\r\n\r\ny\rz") END), L_DEF, FORM_OK,
	    "[a]=[x\\x0d\\x0a\\x0d\\x0ay\\x0dz]" },
	{ "NUL in data kept", CT, B(PART("a", "x\0y") END), L_DEF, FORM_OK,
	    "[a]=[x\\x00y]" },
	{ "unknown header ignored, header names any case", CT,
	    B(DL "X-Foo: bar\r\ncontent-disposition: Form-Data; NAME=a\r\n\r\n"
	    "1\r\n" END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "unquoted token name", CT,
	    B(DL "Content-Disposition: form-data; name=a.b\r\n\r\n1\r\n" END),
	    L_DEF, FORM_OK, "[a.b]=[1]" },
	{ "unknown parameters ignored, trailing ';'", CT,
	    B(DL "Content-Disposition: form-data; x=\"y\"; name=\"a\";\r\n\r\n"
	    "1\r\n" END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "quoted name with escaped quote and backslash", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\\\"b\\\\c\"\r\n\r\n"
	    "1\r\n" END), L_DEF, FORM_OK, "[a\"b\\x5cc]=[1]" },
	{ "other backslashes literal", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\\nb\"\r\n\r\n"
	    "1\r\n" END), L_DEF, FORM_OK, "[a\\x5cnb]=[1]" },
	{ "Content-Transfer-Encoding: binary", CT,
	    B(DL CDN("a") "Content-Transfer-Encoding: binary\r\n\r\n1\r\n" END),
	    L_DEF, FORM_OK, "[a]=[1]" },

	/* the boundary string inside data does not split it */
	{ "boundary inside data", CT,
	    B(FILEP("f", "a.txt", "text/plain",
	    "a--XB--XB\r\n-XB\r\n--X\r\n--xb\r\nx--XB\r\n\n--XB\r\n\r--XB\r\n"
	    "XB--\r\nx--XB")
	    END), L_DEF, FORM_OK,
	    "<f|a.txt|text/plain|text/plain|59>" },
	/* another parser may read the empty line as the delimiter's CRLF */
	{ "data starting with the boundary", CT,
	    B(FILEP("f", "a.txt", "text/plain", "--XB--x") END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "boundary prefix of data at a line start", CT,
	    B(PART("a", "x\r\n--XB-\r\n--XBx") END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "delimiter followed by junk", CT,
	    B(PART("a", "x\r\n--XBjunk") END), L_DEF, FORM_EINVAL, NULL },
	{ "first delimiter followed by junk", CT,
	    B("--XBjunk\r\n" CDN("a") "\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "close delimiter followed by junk", CT,
	    B(PART("a", "1") "--XB--junk\r\n"), L_DEF, FORM_EINVAL, NULL },
	{ "part without the empty line and body", CT,
	    B(DL CDN("a") "\r\n" DL CDN("b") "\r\n2\r\n" END), L_DEF,
	    FORM_EINVAL, NULL },

	/* structure */
	{ "empty body", CT, B(""), L_DEF, FORM_EINVAL, NULL },
	{ "missing final boundary", CT, B(PART("a", "1")), L_DEF,
	    FORM_EINVAL, NULL },
	{ "missing final boundary, data to the end", CT,
	    B(DL CDN("a") "\r\n1"), L_DEF, FORM_EINVAL, NULL },
	{ "headers cut short", CT, B(DL CDN("a")), L_DEF, FORM_EINVAL, NULL },
	{ "no delimiter at all", CT, B("a=1"), L_DEF, FORM_EINVAL, NULL },
	{ "LF-only line ends", CT,
	    B("--XB\nContent-Disposition: form-data; name=\"a\"\n\n1\n"
	    "--XB--\n"), L_DEF, FORM_EINVAL, NULL },
	{ "LF-only header line", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\"\n\r\n1\r\n" END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "LF-only empty line", CT,
	    B(DL CDN("a") "\n1\r\n" END), L_DEF, FORM_EINVAL, NULL },
	{ "bare CR in a header", CT,
	    B(DL CDN("a") "X: a\rb\r\n\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "folded header", CT,
	    B(DL "Content-Disposition: form-data;\r\n name=\"a\"\r\n\r\n1\r\n"
	    END), L_DEF, FORM_EINVAL, NULL },
	{ "space before the colon", CT,
	    B(DL "Content-Disposition : form-data; name=\"a\"\r\n\r\n1\r\n"
	    END), L_DEF, FORM_EINVAL, NULL },
	{ "header without a colon", CT,
	    B(DL CDN("a") "junk\r\n\r\n1\r\n" END), L_DEF, FORM_EINVAL, NULL },
	{ "too many header lines", CT,
	    B(DL CDN("a") "X: 1\r\nX: 2\r\nX: 3\r\nX: 4\r\nX: 5\r\nX: 6\r\n"
	    "X: 7\r\nX: 8\r\nX: 9\r\nX: 10\r\nX: 11\r\nX: 12\r\nX: 13\r\n"
	    "X: 14\r\nX: 15\r\nX: 16\r\n\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "sixteen header lines", CT,
	    B(DL CDN("a") "X: 1\r\nX: 2\r\nX: 3\r\nX: 4\r\nX: 5\r\nX: 6\r\n"
	    "X: 7\r\nX: 8\r\nX: 9\r\nX: 10\r\nX: 11\r\nX: 12\r\nX: 13\r\n"
	    "X: 14\r\nX: 15\r\n\r\n1\r\n" END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "header line of 64 octets, limit 64", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\"; x=\"0123456789"
	    "01234567\"\r\n\r\n1\r\n" END), L_SMALL, FORM_OK, "[a]=[1]" },
	{ "header line of 65 octets, limit 64", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\"; x=\"0123456789"
	    "012345678\"\r\n\r\n1\r\n" END), L_SMALL, FORM_EINVAL, NULL },

	/* Content-Disposition */
	{ "no Content-Disposition", CT,
	    B(DL "Content-Type: text/plain\r\n\r\n1\r\n" END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "no headers at all", CT, B(DL "\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "disposition attachment", CT,
	    B(DL "Content-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n"
	    END), L_DEF, FORM_EINVAL, NULL },
	{ "no name", CT,
	    B(DL "Content-Disposition: form-data\r\n\r\n1\r\n" END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "empty name", CT, B(PART("", "1") END), L_DEF, FORM_EINVAL, NULL },
	{ "duplicate name parameter", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\"; name=\"b\"\r\n"
	    "\r\n1\r\n" END), L_DEF, FORM_EINVAL, NULL },
	{ "duplicate filename parameter", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\"; filename=\"x\"; "
	    "FILENAME=\"y\"\r\n\r\n1\r\n" END), L_DEF, FORM_EINVAL, NULL },
	{ "duplicate Content-Disposition", CT,
	    B(DL CDN("a") CDN("b") "\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "duplicate Content-Type", CT,
	    B(DL CDF("f", "a.txt") "Content-Type: text/plain\r\n"
	    "Content-Type: image/png\r\n\r\nx\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "unterminated quoted name", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\r\n\r\n1\r\n" END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "quoted name ending in an escaped quote", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\\\"\r\n\r\n1\r\n"
	    END), L_DEF, FORM_EINVAL, NULL },
	{ "junk after a quoted value", CT,
	    B(DL "Content-Disposition: form-data; name=\"a\"b\r\n\r\n1\r\n"
	    END), L_DEF, FORM_EINVAL, NULL },
	{ "spaces around '='", CT,
	    B(DL "Content-Disposition: form-data; name = \"a\"\r\n\r\n1\r\n"
	    END), L_DEF, FORM_EINVAL, NULL },
	{ "NUL in a name", CT, B(PART("a\0b", "1") END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "NUL in a filename", CT,
	    B(FILEP("f", "a\0.pdf", "application/pdf", PDF) END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "NUL in another header", CT,
	    B(DL CDN("a") "X-Foo: a\0b\r\n\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "NUL in a header name", CT,
	    B(DL CDN("a") "X\0: b\r\n\r\n1\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "control in a filename", CT,
	    B(FILEP("f", "a\x01" "b.pdf", "application/pdf", PDF) END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "DEL in a filename", CT,
	    B(FILEP("f", "a\x7f" "b.pdf", "application/pdf", PDF) END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "C1 control in a filename", CT,
	    B(FILEP("f", "a\xc2\x85" "b.pdf", "application/pdf", PDF) END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "RLO disguising an extension", CT,
	    B(FILEP("f", "invoice\xe2\x80\xae" "fdp.exe", "application/pdf",
	    PDF) END), L_DEF, FORM_EINVAL, NULL },
	{ "invalid UTF-8 filename", CT,
	    B(FILEP("f", "r\xe9sum\xe9.pdf", "application/pdf", PDF) END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "overlong UTF-8 slash in a filename", CT,
	    B(FILEP("f", "..\xc0\xaf" "x.pdf", "application/pdf", PDF) END),
	    L_DEF, FORM_EINVAL, NULL },

	/* filenames */
	{ "path traversal stripped", CT,
	    B(FILEP("f", "../../etc/passwd", "text/plain", "root:x:0:0\n")
	    END), L_DEF, FORM_OK,
	    "<f|passwd.txt|text/plain|text/plain|11>" },
	{ "Windows path stripped", CT,
	    B(FILEP("f", "C:\\path\\x.pdf", "application/pdf", PDF) END),
	    L_DEF, FORM_OK,
	    "<f|x.pdf|application/pdf|application/pdf|15>" },
	{ "UNC path and mixed separators stripped", CT,
	    B(FILEP("f", "\\\\\\\\srv\\share/d\\y.pdf", "application/pdf",
	    PDF) END), L_DEF, FORM_OK,
	    "<f|y.pdf|application/pdf|application/pdf|15>" },
	{ "empty filename with data", CT,
	    B(FILEP("f", "", "application/pdf", PDF) END), L_DEF, FORM_OK,
	    "<f|upload.pdf|application/pdf|application/pdf|15>" },
	{ "empty filename, empty data: an empty file input", CT,
	    B(PART("a", "1") FILEP("f", "", "application/octet-stream", "")
	    END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "filename '.'", CT, B(FILEP("f", ".", "text/plain", "x") END),
	    L_DEF, FORM_OK, "<f|upload.txt|text/plain|text/plain|1>" },
	{ "filename '..'", CT, B(FILEP("f", "..", "text/plain", "x") END),
	    L_DEF, FORM_OK, "<f|upload.txt|text/plain|text/plain|1>" },
	{ "filename 'a/..'", CT, B(FILEP("f", "a/..", "text/plain", "x") END),
	    L_DEF, FORM_OK, "<f|upload.txt|text/plain|text/plain|1>" },
	{ "filename 'dir/'", CT, B(FILEP("f", "dir/", "text/plain", "x") END),
	    L_DEF, FORM_OK, "<f|upload.txt|text/plain|text/plain|1>" },
	{ "filename '...' kept", CT, B(FILEP("f", "...", "text/plain", "x")
	    END), L_DEF, FORM_OK, "<f|....txt|text/plain|text/plain|1>" },
	{ "non-ASCII filename kept", CT,
	    B(FILEP("f", "r\xc3\xa9sum\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80.pdf",
	    "application/pdf", PDF) END), L_DEF, FORM_OK,
	    "<f|r\\xc3\\xa9sum\\xc3\\xa9 \\xe2\\x82\\xac \\xf0\\x9f\\x98\\x80.pdf|"
	    "application/pdf|application/pdf|15>" },
	{ "HTML %22 escape not decoded", CT,
	    B(FILEP("f", "a%22b.txt", "text/plain", "x") END), L_DEF, FORM_OK,
	    "<f|a%22b.txt|text/plain|text/plain|1>" },
	{ "escaped quote in a filename", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"say \\\"hi\\\".txt\"\r\n\r\nx\r\n" END), L_DEF,
	    FORM_OK,
	    "<f|say \"hi\".txt|application/octet-stream|text/plain|1>" },
	{ "filename*= UTF-8", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''%e2%82%ac%20rates.txt\r\n\r\nx\r\n" END), L_DEF,
	    FORM_OK,
	    "<f|\\xe2\\x82\\xac rates.txt|application/octet-stream|"
	    "text/plain|1>" },
	{ "filename*= wins over filename=", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"EUR rates.txt\"; filename*=utf-8'en'%E2%82%AC.txt\r\n"
	    "\r\nx\r\n" END), L_DEF, FORM_OK,
	    "<f|\\xe2\\x82\\xac.txt|application/octet-stream|text/plain|1>" },
	{ "filename*= in another charset ignored", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"a.txt\"; filename*=iso-8859-1''%e9.txt\r\n"
	    "\r\nx\r\n" END), L_DEF, FORM_OK,
	    "<f|a.txt|application/octet-stream|text/plain|1>" },
	{ "filename*= quoted: ignored", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"a.txt\"; filename*=\"UTF-8''b.txt\"\r\n\r\nx\r\n" END),
	    L_DEF, FORM_OK, "<f|a.txt|application/octet-stream|text/plain|1>" },
	{ "filename*= without language quote: ignored", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"a.txt\"; filename*=UTF-8'b.txt\r\n\r\nx\r\n" END),
	    L_DEF, FORM_OK, "<f|a.txt|application/octet-stream|text/plain|1>" },
	{ "filename*= with a bad escape: ignored", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"a.txt\"; filename*=UTF-8''b%2.txt\r\n\r\nx\r\n" END),
	    L_DEF, FORM_OK, "<f|a.txt|application/octet-stream|text/plain|1>" },
	{ "filename*= with a stray octet: ignored", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"a.txt\"; filename*=UTF-8''b*c.txt\r\n\r\nx\r\n" END),
	    L_DEF, FORM_OK, "<f|a.txt|application/octet-stream|text/plain|1>" },
	{ "filename*= alone and ignored: a file named upload", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename*=latin1''b.txt\r\n\r\nx\r\n" END),
	    L_DEF, FORM_OK, "<f|upload.txt|application/octet-stream|text/plain|1>" },
	{ "duplicate filename*", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''a; filename*=UTF-8''b\r\n\r\nx\r\n" END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "empty unquoted value", CT,
	    B(DL "Content-Disposition: form-data; name=\r\n\r\n1\r\n" END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "filename*= with %00", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''a%00.txt\r\n\r\nx\r\n" END), L_DEF, FORM_EINVAL,
	    NULL },
	{ "filename*= with a path", CT,
	    B(DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename*=UTF-8''..%2F..%2Fx.txt\r\n\r\nx\r\n" END), L_DEF,
	    FORM_OK, "<f|x.txt|application/octet-stream|text/plain|1>" },

	/* types: the claim is kept, the sniffed type decides */
	{ "PDF claimed as image/png", CT,
	    B(FILEP("f", "x.png", "image/png", PDF) END), L_DEF, FORM_OK,
	    "<f|x.png.pdf|image/png|application/pdf|15>" },
	{ "EXE claimed as PDF", CT,
	    B(FILEP("f", "x.pdf", "application/pdf", "MZ\x90\0\3\0\0\0") END),
	    L_DEF, FORM_OK,
	    "<f|x.pdf.bin|application/pdf|application/octet-stream|8>" },
	{ "no Content-Type on a file", CT,
	    B(DL CDF("f", "a.bin") "\r\n\x89PNG\r\n\x1a\n\r\n" END), L_DEF,
	    FORM_OK, "<f|a.bin.png|application/octet-stream|image/png|8>" },
	{ "empty file", CT, B(FILEP("f", "a.txt", "text/plain", "") END),
	    L_DEF, FORM_OK,
	    "<f|a.txt.bin|text/plain|application/octet-stream|0>" },

	/* the name ends in an extension of the sniffed type: Windows picks
	 * the handler by the last one */
	{ "text as .hta", CT, B(FILEP("f", "invoice.hta", "text/plain",
	    "hello") END), L_DEF, FORM_OK,
	    "<f|invoice.hta.txt|text/plain|text/plain|5>" },
	{ "HTML as .html", CT, B(FILEP("f", "statement.html", "text/html",
	    "<html><script>x()</script>") END), L_DEF, FORM_OK,
	    "<f|statement.html.txt|text/html|text/plain|26>" },
	{ "SVG as .svg", CT, B(FILEP("f", "readme.svg", "image/svg+xml",
	    "<svg onload=x()/>") END), L_DEF, FORM_OK,
	    "<f|readme.svg.txt|image/svg+xml|text/plain|17>" },
	{ "PDF as .pdf.bat", CT, B(FILEP("f", "payment.pdf.bat",
	    "application/pdf", PDF) END), L_DEF, FORM_OK,
	    "<f|payment.pdf.bat.pdf|application/pdf|application/pdf|15>" },
	{ "PDF as .PDF kept", CT, B(FILEP("f", "Scan.PDF", "application/pdf",
	    PDF) END), L_DEF, FORM_OK,
	    "<f|Scan.PDF|application/pdf|application/pdf|15>" },
	{ "text as .csv kept", CT, B(FILEP("f", "list.csv", "text/csv",
	    "a,b") END), L_DEF, FORM_OK, "<f|list.csv|text/csv|text/plain|3>" },
	{ "PNG as .jpg", CT, B(FILEP("f", "photo.jpg", "image/jpeg",
	    "\x89PNG\r\n\x1a\n") END), L_DEF, FORM_OK,
	    "<f|photo.jpg.png|image/jpeg|image/png|8>" },
	{ "text with a trailing dot", CT, B(FILEP("f", "a.exe.", "text/plain",
	    "x") END), L_DEF, FORM_OK, "<f|a.exe..txt|text/plain|text/plain|1>" },
	{ "nested multipart/mixed", CT,
	    B(DL CDN("files") "Content-Type: multipart/mixed; boundary=YB\r\n"
	    "\r\n--YB\r\nContent-Disposition: file; filename=\"a.txt\"\r\n\r\n"
	    "x\r\n--YB--\r\n\r\n" END), L_DEF, FORM_EINVAL, NULL },
	{ "nested Multipart/Form-Data on a file", CT,
	    B(FILEP("f", "a.txt", "Multipart/Form-Data; boundary=YB", "x") END),
	    L_DEF, FORM_EINVAL, NULL },
	{ "Content-Transfer-Encoding: base64", CT,
	    B(DL CDF("f", "a.txt") "Content-Transfer-Encoding: base64\r\n\r\n"
	    "eA==\r\n" END), L_DEF, FORM_EINVAL, NULL },
	{ "claimed type trimmed", CT,
	    B(DL CDF("f", "a.txt") "Content-Type:  text/plain; charset=utf-8 "
	    "\t\r\n\r\nx\r\n" END), L_DEF, FORM_OK,
	    "<f|a.txt|text/plain; charset=utf-8|text/plain|1>" },

	/* limits: fields 4, files 2, file size 10, total 15 */
	{ "four parts, limit four", CT,
	    B(PART("a", "1") PART("b", "2") PART("c", "3") PART("d", "4") END),
	    L_SMALL, FORM_OK, "[a]=[1] [b]=[2] [c]=[3] [d]=[4]" },
	{ "five parts, limit four", CT,
	    B(PART("a", "1") PART("b", "2") PART("c", "3") PART("d", "4")
	    PART("e", "5") END), L_SMALL, FORM_ETOOMANY, NULL },
	{ "files count as parts", CT,
	    B(PART("a", "1") PART("b", "2") PART("c", "3")
	    FILEP("f", "a.txt", "text/plain", "x") FILEP("g", "b.txt",
	    "text/plain", "y") END), L_SMALL, FORM_ETOOMANY, NULL },
	{ "empty file inputs count as parts", CT,
	    B(PART("a", "1") FILEP("f", "", "x", "") FILEP("g", "", "x", "")
	    FILEP("h", "", "x", "") FILEP("i", "", "x", "") END), L_SMALL,
	    FORM_ETOOMANY, NULL },
	{ "three files, limit two", CT,
	    B(FILEP("f", "a", "t", "1") FILEP("f", "b", "t", "2")
	    FILEP("f", "c", "t", "3") END), L_SMALL, FORM_ETOOMANY, NULL },
	{ "empty file inputs are not files", CT,
	    B(FILEP("f", "a", "t", "1") FILEP("f", "", "t", "")
	    FILEP("f", "b", "t", "2") END), L_SMALL, FORM_OK,
	    "<f|a.txt|t|text/plain|1> <f|b.txt|t|text/plain|1>" },
	{ "no files allowed", CT, B(PART("a", "1") FILEP("f", "a", "t", "1")
	    END), L_NOFILE, FORM_ETOOMANY, NULL },
	{ "file at max_file_size", CT,
	    B(FILEP("f", "a.txt", "text/plain", "0123456789") END), L_SMALL,
	    FORM_OK, "<f|a.txt|text/plain|text/plain|10>" },
	{ "file one over max_file_size", CT,
	    B(FILEP("f", "a.pdf", "application/pdf", "%PDF-67890A") END),
	    L_SMALL, FORM_OK, "<f|a.pdf|application/pdf|application/pdf|11!>" },
	{ "too large files do not count towards the total", CT,
	    B(FILEP("f", "a", "t", "0123456789") FILEP("g", "b",
	    "t", "0123456789abcdef") END), L_SMALL, FORM_OK,
	    "<f|a.txt|t|text/plain|10> <g|b.txt|t|text/plain|16!>" },
	{ "total exactly at max_total", CT,
	    B(FILEP("f", "a", "t", "0123456789") FILEP("g", "b", "t", "01234")
	    END), L_SMALL, FORM_OK,
	    "<f|a.txt|t|text/plain|10> <g|b.txt|t|text/plain|5>" },
	{ "total one over max_total", CT,
	    B(FILEP("f", "a", "t", "0123456789") FILEP("g", "b", "t", "012345")
	    END), L_SMALL, FORM_ETOOBIG, NULL },
	{ "fields do not count towards the total", CT,
	    B(PART("a", "01234567890123456789") FILEP("g", "b", "t",
	    "0123456789") END), L_SMALL, FORM_OK,
	    "[a]=[01234567890123456789] <g|b.txt|t|text/plain|10>" },

	/* Content-Type of the body */
	{ "quoted boundary", "multipart/form-data; boundary=\"XB\"",
	    B(PART("a", "1") END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "quoted boundary with space, ':' and '='",
	    "multipart/form-data; boundary=\"a b:c=d\"",
	    B("--a b:c=d\r\n" CDN("a") "\r\n1\r\n--a b:c=d--\r\n"), L_DEF,
	    FORM_OK, "[a]=[1]" },
	{ "type and parameter name in any case, charset ignored",
	    "Multipart/Form-Data ; Charset=utf-8;BOUNDARY=XB",
	    B(PART("a", "1") END), L_DEF, FORM_OK, "[a]=[1]" },
	{ "no boundary", "multipart/form-data", B(PART("a", "1") END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "no boundary, other parameter", "multipart/form-data; charset=utf-8",
	    B(PART("a", "1") END), L_DEF, FORM_EINVAL, NULL },
	{ "empty boundary", "multipart/form-data; boundary=\"\"",
	    B("--\r\n" CDN("a") "\r\n1\r\n----\r\n"), L_DEF, FORM_EINVAL,
	    NULL },
	{ "boundary of 70", "multipart/form-data; boundary=" B70,
	    B("--" B70 "\r\n" CDN("a") "\r\n1\r\n--" B70 "--\r\n"), L_DEF,
	    FORM_OK, "[a]=[1]" },
	{ "boundary of 71", "multipart/form-data; boundary=" B70 "x",
	    B("--" B70 "x\r\n" CDN("a") "\r\n1\r\n--" B70 "x--\r\n"), L_DEF,
	    FORM_EINVAL, NULL },
	{ "boundary ending in a space", "multipart/form-data; boundary=\"XB \"",
	    B("--XB \r\n" CDN("a") "\r\n1\r\n--XB --\r\n"), L_DEF, FORM_EINVAL,
	    NULL },
	{ "boundary with a char outside bchars",
	    "multipart/form-data; boundary=\"X@B\"",
	    B("--X@B\r\n" CDN("a") "\r\n1\r\n--X@B--\r\n"), L_DEF, FORM_EINVAL,
	    NULL },
	{ "duplicate boundary", "multipart/form-data; boundary=XB; boundary=YB",
	    B(PART("a", "1") END), L_DEF, FORM_EINVAL, NULL },
	{ "duplicate boundary, same value",
	    "multipart/form-data; boundary=XB; Boundary=\"XB\"",
	    B(PART("a", "1") END), L_DEF, FORM_EINVAL, NULL },
	{ "not form-data", "multipart/mixed; boundary=XB",
	    B(PART("a", "1") END), L_DEF, FORM_EINVAL, NULL },
	{ "form-data prefix of another type",
	    "multipart/form-datax; boundary=XB", B(PART("a", "1") END), L_DEF,
	    FORM_EINVAL, NULL },
	{ "urlencoded type", "application/x-www-form-urlencoded",
	    B("a=1"), L_DEF, FORM_EINVAL, NULL },
	{ "no content type", NULL, B(PART("a", "1") END), L_DEF, FORM_EINVAL,
	    NULL },
};

/* Fields, then files, as the table writes them. */
static char *
mp_dump(const struct form *f)
{
	struct buf		 b = BUF_INIT;
	const struct form_file	*fl;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < f->nfields; i++) {
		rc |= buf_adds(&b, b.len ? " [" : "[");
		dump_bytes(&b, f->fields[i].name, f->fields[i].name_len);
		rc |= buf_adds(&b, "]=[");
		dump_bytes(&b, f->fields[i].value, f->fields[i].value_len);
		rc |= buf_adds(&b, "]");
	}
	for (i = 0; i < f->nfiles; i++) {
		fl = &f->files[i];
		rc |= buf_adds(&b, b.len ? " <" : "<");
		dump_bytes(&b, fl->field, strlen(fl->field));
		rc |= buf_addc(&b, '|');
		dump_bytes(&b, fl->filename, strlen(fl->filename));
		rc |= buf_addc(&b, '|');
		dump_bytes(&b, fl->claimed_type, strlen(fl->claimed_type));
		rc |= buf_printf(&b, "|%s|%zu%s>", fl->sniffed_type, fl->len,
		    fl->too_large ? "!" : "");
	}
	if (rc != 0 || (b.data == NULL && buf_adds(&b, "") == -1))
		abort();
	return buf_steal(&b);
}

/* What every parsed multipart form must satisfy, whatever the case. */
static void
mp_check(const struct form *f, const struct form_limits *lim,
    const char *what)
{
	const struct form_file	*fl;
	size_t			 i, total = 0;

	T_OK(f->nfields + f->nfiles <= lim->max_fields, "%s: %zu parts",
	    what, f->nfields + f->nfiles);
	T_OK(f->nfiles <= lim->max_files, "%s: %zu files", what, f->nfiles);
	T_OK(terminated(f), "%s: field not NUL-terminated", what);
	for (i = 0; i < f->nfiles; i++) {
		fl = &f->files[i];
		T_OK(fl->too_large == (fl->len > lim->max_file_size),
		    "%s: too_large %d for %zu octets", what, fl->too_large,
		    fl->len);
		T_OK((fl->data == NULL) == fl->too_large, "%s: data %p",
		    what, (void *)fl->data);
		if (fl->data != NULL) {
			total += fl->len;
			T_OK(fl->data[fl->len] == '\0',
			    "%s: data not NUL-terminated", what);
			T_STR(fl->sniffed_type, form_sniff(fl->data, fl->len),
			    what);
		}
		T_OK(*fl->filename != '\0' && strlen(fl->filename) <=
		    FORM_MAX_FILENAME && strpbrk(fl->filename, "/\\") == NULL,
		    "%s: filename [%s]", what, fl->filename);
		T_OK(fl->claimed_type != NULL, "%s: claimed_type NULL", what);
	}
	T_OK(total <= lim->max_total, "%s: total %zu", what, total);
}

static void
test_mp_table(void)
{
	static struct form	 sentinel;
	const struct mp_case	*c;
	struct form		*f;
	enum form_err		 e;
	char			*got, what[160];
	size_t			 i;

	for (i = 0; i < sizeof(mp_cases) / sizeof(mp_cases[0]); i++) {
		c = &mp_cases[i];
		snprintf(what, sizeof(what), "multipart case %zu (%s)", i,
		    c->what);
		f = &sentinel;
		e = form_parse_multipart(c->body, c->len, c->ct,
		    &mp_limits[c->lim], &f);
		T_OK(e == c->err, "%s: expected %s, got %s", what,
		    form_strerror(c->err), form_strerror(e));
		if (e != FORM_OK) {
			T_OK(f == NULL, "%s: *out not NULL on error", what);
			continue;
		}
		if (f == NULL)
			continue;
		mp_check(f, &mp_limits[c->lim], what);
		if (c->want != NULL) {
			got = mp_dump(f);
			T_STR(got, c->want, what);
			free(got);
		}
		form_free(f);
	}
}

/* Appends n parts "pK" = "K" and a close delimiter to b. */
static void
mp_parts(struct buf *b, size_t n)
{
	size_t	 i;

	buf_reset(b);
	for (i = 0; i < n; i++)
		if (buf_printf(b, DL CDN("p%zu") "\r\n%zu\r\n", i, i) == -1)
			abort();
	if (buf_adds(b, END) == -1)
		abort();
}

/* A part with one header line "X-Pad: aaa..." of n octets. */
static void
mp_padded(struct buf *b, size_t n)
{
	buf_reset(b);
	if (buf_adds(b, DL CDN("a") "X-Pad: ") == -1)
		abort();
	while (n-- > 7)
		if (buf_addc(b, 'a') == -1)
			abort();
	if (buf_adds(b, "\r\n\r\n1\r\n" END) == -1)
		abort();
}

static void
test_mp_sizes(void)
{
	struct form_limits	 lim = { (size_t)-1, (size_t)-1, (size_t)-1,
				    (size_t)-1, (size_t)-1 };
	struct buf		 b = BUF_INIT;
	struct form		*f;
	enum form_err		 e;
	size_t			 i;

	/* many parts: the FORM_MAX_FIELDS ceiling holds against config */
	mp_parts(&b, FORM_MAX_FIELDS);
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "1000 parts");
	if (e == FORM_OK) {
		T_INT(f->nfields, FORM_MAX_FIELDS, "1000 parts: nfields");
		T_STR(f->fields[999].name, "p999", "1000 parts: last name");
		T_STR(f->fields[999].value, "999", "1000 parts: last value");
		form_free(f);
	}
	mp_parts(&b, FORM_MAX_FIELDS + 1);
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_ETOOMANY, "1001 parts, max SIZE_MAX");
	T_OK(f == NULL, "1001 parts: *out not NULL");

	/* huge part headers: the FORM_MAX_PART_HEADER ceiling holds */
	mp_padded(&b, FORM_MAX_PART_HEADER);
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "header line of 8192 octets");
	form_free(e == FORM_OK ? f : NULL);
	mp_padded(&b, FORM_MAX_PART_HEADER + 1);
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_EINVAL, "header line of 8193 octets");
	mp_padded(&b, 1000000);
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_EINVAL, "header line of 1000000 octets");
	/* a header that never ends */
	buf_reset(&b);
	if (buf_adds(&b, DL CDN("a") "X-Pad: ") == -1)
		abort();
	for (i = 0; i < 100000; i++)
		if (buf_addc(&b, 'a') == -1)
			abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_EINVAL, "unterminated header");

	/* name of FORM_MAX_NAME octets, and one more */
	buf_reset(&b);
	if (buf_adds(&b, DL "Content-Disposition: form-data; name=") == -1)
		abort();
	for (i = 0; i < FORM_MAX_NAME; i++)
		if (buf_addc(&b, 'n') == -1)
			abort();
	if (buf_adds(&b, "\r\n\r\nv\r\n" END) == -1)
		abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "name of 256 octets");
	if (e == FORM_OK) {
		T_INT(f->fields[0].name_len, FORM_MAX_NAME, "name_len");
		form_free(f);
	}
	buf_reset(&b);
	if (buf_adds(&b, DL "Content-Disposition: form-data; name=\"") == -1)
		abort();
	for (i = 0; i < FORM_MAX_NAME + 1; i++)
		if (buf_adds(&b, "\\\"") == -1)
			abort();
	if (buf_adds(&b, "\"\r\n\r\nv\r\n" END) == -1)
		abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_ETOOBIG, "name of 257 decoded octets");
	buf_free(&b);
}

/*
 * A 1 MiB file full of near-boundaries comes back whole; over
 * max_file_size it is counted but not kept.
 */
static void
test_mp_bigfile(void)
{
	static const char	*bits[] = { "--XB", "\r\n--X", "\n--XB\r\n",
				    "\r--XB\r\n", "\r\n-XB", "XB--", "\r\n" };
	struct form_limits	 lim = { 10, 2, 2000000, 2000000, 1024 };
	struct buf		 data = BUF_INIT, b = BUF_INIT;
	struct form		*f;
	enum form_err		 e;
	size_t			 i;
	int			 c;

	/* Every octet but 'B' and CR between them: no real delimiter. */
	for (i = 0; data.len < 1 << 20; i++) {
		c = (int)(i & 0xff);
		if (buf_addc(&data, c == 'B' || c == '\r' ? 'x' : c) == -1 ||
		    buf_adds(&data, bits[i % 7]) == -1)
			abort();
	}
	if (buf_adds(&b, DL CDF("f", "big.bin") "\r\n") == -1 ||
	    buf_add(&b, data.data, data.len) == -1 ||
	    buf_adds(&b, "\r\n" END) == -1)
		abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "1 MiB file of near-boundaries");
	if (e == FORM_OK) {
		T_INT(f->nfiles, 1, "big file: nfiles");
		T_INT(f->files[0].len, data.len, "big file: len");
		T_OK(f->files[0].data != NULL && memcmp(f->files[0].data,
		    data.data, data.len) == 0, "big file: data differs");
		form_free(f);
	}
	lim.max_file_size = 1000;
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "1 MiB file over max_file_size");
	if (e == FORM_OK) {
		T_INT(f->files[0].len, data.len, "too large: real len");
		T_INT(f->files[0].too_large, 1, "too large: flag");
		T_OK(f->files[0].data == NULL, "too large: data kept");
		form_free(f);
	}
	buf_free(&data);
	buf_free(&b);
}

static void
test_mp_filename_cut(void)
{
	struct form_limits	 lim = { 10, 2, 100, 100, 4096 };
	struct buf		 b = BUF_INIT;
	struct form		*f;
	enum form_err		 e;
	const char		*fn;
	size_t			 i, n;

	/* 300 'a' + ".pdf": 251 'a' and the extension */
	if (buf_adds(&b, DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"") == -1)
		abort();
	for (i = 0; i < 300; i++)
		if (buf_addc(&b, 'a') == -1)
			abort();
	if (buf_adds(&b, ".pdf\"\r\n\r\n" PDF "\r\n" END) == -1)
		abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "filename of 304 octets");
	if (e == FORM_OK) {
		fn = f->files[0].filename;
		T_INT(strlen(fn), FORM_MAX_FILENAME, "cut filename length");
		T_STR(fn + FORM_MAX_FILENAME - 4, ".pdf", "cut filename end");
		form_free(f);
	}
	/* 200 "é" (400 octets): never cut inside a character */
	buf_reset(&b);
	if (buf_adds(&b, DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"") == -1)
		abort();
	for (i = 0; i < 200; i++)
		if (buf_adds(&b, "\xc3\xa9") == -1)
			abort();
	if (buf_adds(&b, ".txt\"\r\n\r\nx\r\n" END) == -1)
		abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "filename of 200 e-acute");
	if (e == FORM_OK) {
		fn = f->files[0].filename;
		n = strlen(fn);
		T_INT(n, 254, "cut e-acute filename length");
		T_STR(fn + n - 4, ".txt", "cut e-acute filename end");
		T_OK((unsigned char)fn[n - 6] == 0xc3 &&
		    (unsigned char)fn[n - 5] == 0xa9, "cut inside a character");
		form_free(f);
	}
	/* no extension worth keeping: a plain cut */
	buf_reset(&b);
	if (buf_adds(&b, DL "Content-Disposition: form-data; name=\"f\"; "
	    "filename=\"x.") == -1)
		abort();
	for (i = 0; i < 300; i++)
		if (buf_addc(&b, 'b') == -1)
			abort();
	if (buf_adds(&b, "\"\r\n\r\nx\r\n" END) == -1)
		abort();
	e = form_parse_multipart(b.data, b.len, CT, &lim, &f);
	T_INT(e, FORM_OK, "filename with a long extension");
	if (e == FORM_OK) {
		fn = f->files[0].filename;
		T_INT(strlen(fn), FORM_MAX_FILENAME, "plain cut length");
		T_OK(strncmp(fn, "x.bbb", 5) == 0, "plain cut start [%s]", fn);
		form_free(f);
	}
	buf_free(&b);
}

/* Fields and files interleave; each array keeps body order. */
static void
test_mp_order(void)
{
	static const char	 body[] = PART("a", "1")
	    FILEP("f", "1.txt", "text/plain", "x") PART("b", "2")
	    FILEP("g", "2.txt", "text/plain", "y") PART("a", "3") END;
	struct form		*f;

	if (form_parse_multipart(body, sizeof(body) - 1, CT,
	    &mp_limits[L_DEF], &f) != FORM_OK) {
		T_OK(0, "interleaved: parse failed");
		return;
	}
	T_INT(f->nfields, 3, "interleaved: nfields");
	T_INT(f->nfiles, 2, "interleaved: nfiles");
	T_INT(form_count(f, "a"), 2, "interleaved: form_count(a)");
	T_OK(form_get(f, "f") == NULL, "interleaved: a file is no field");
	T_STR(f->files[1].field, "g", "interleaved: second file");
	T_STR(f->files[1].data, "y", "interleaved: second file data");
	form_free(f);
	/* the urlencoded parser leaves files empty */
	if (form_parse_urlencoded("a=1", 3, 50, &f) == FORM_OK) {
		T_OK(f->files == NULL && f->nfiles == 0,
		    "urlencoded: files not empty");
		form_free(f);
	}
	T_INT(form_parse_multipart(body, sizeof(body) - 1, CT, NULL, &f),
	    FORM_EINVAL, "NULL limits");
	T_INT(form_parse_multipart(NULL, 0, CT, &mp_limits[L_DEF], &f),
	    FORM_EINVAL, "NULL body");
}

struct sniff_case {
	const char	*what;
	const char	*data;
	size_t		 len;
	const char	*want;
};

#define OCTET	"application/octet-stream"

static const struct sniff_case sniff_cases[] = {
	{ "pdf", B("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), "application/pdf" },
	{ "pdf magic only", B("%PDF-"), "application/pdf" },
	{ "pdf cut: text", B("%PDF"), "text/plain" },
	{ "pdf after junk", B("\x00%PDF-1.4"), OCTET },
	{ "png", B("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "image/png" },
	{ "png cut", B("\x89PNG\r\n\x1a"), OCTET },
	{ "jpeg", B("\xff\xd8\xff\xe0\0\x10JFIF"), "image/jpeg" },
	{ "jpeg cut", B("\xff\xd8"), OCTET },
	{ "gif87a", B("GIF87a\x01\0\x01\0"), "image/gif" },
	{ "gif89a", B("GIF89a"), "image/gif" },
	{ "gif cut: text", B("GIF89"), "text/plain" },
	{ "gif88a: text", B("GIF88a"), "text/plain" },
	{ "webp", B("RIFF\x24\0\0\0WEBPVP8 "), "image/webp" },
	{ "webp cut", B("RIFF\x24\0\0\0WEB"), OCTET },
	{ "riff wave", B("RIFF\x24\0\0\0WAVEfmt "), OCTET },
	{ "zip", B("PK\x03\x04\x14\0\0\0"), "application/zip" },
	{ "zip cut", B("PK\x03"), OCTET },
	{ "empty zip (end record only)", B("PK\x05\x06"), OCTET },
	{ "exe", B("MZ\x90\0\x03\0\0\0\x04\0"), OCTET },
	{ "elf", B("\x7f" "ELF\x02\x01\x01"), OCTET },
	{ "empty", B(""), OCTET },
	{ "text", B("hello\r\n\tworld\n"), "text/plain" },
	{ "utf-8 text", B("Zo\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "text/plain" },
	{ "utf-8 bom", B("\xef\xbb\xbfhello"), "text/plain" },
	{ "latin-1 text", B("Zo\xe9"), OCTET },
	{ "utf-16 text", B("\xff\xfeh\0i\0"), OCTET },
	{ "cut utf-8", B("Zo\xc3"), OCTET },
	{ "overlong", B("a\xc0\xaf"), OCTET },
	{ "surrogate", B("a\xed\xa0\x80"), OCTET },
	{ "over U+10FFFF", B("a\xf4\x90\x80\x80"), OCTET },
	{ "NUL", B("a\0b"), OCTET },
	{ "control", B("a\x1b[0m"), OCTET },
	{ "DEL", B("a\x7f"), OCTET },
	{ "C1 control", B("a\xc2\x9b"), OCTET },
	{ "form feed", B("a\fb"), OCTET },
};

static void
test_sniff(void)
{
	struct buf	 b = BUF_INIT;
	size_t		 i;
	char		 what[80];

	for (i = 0; i < sizeof(sniff_cases) / sizeof(sniff_cases[0]); i++) {
		snprintf(what, sizeof(what), "sniff case %zu (%s)", i,
		    sniff_cases[i].what);
		T_STR(form_sniff(sniff_cases[i].data, sniff_cases[i].len),
		    sniff_cases[i].want, what);
	}
	T_STR(form_sniff(NULL, 0), OCTET, "sniff NULL");
	/* only the first 4 KiB are checked */
	for (i = 0; i < 4096; i++)
		if (buf_addc(&b, 'a') == -1)
			abort();
	if (buf_add(&b, "\0\x01", 2) == -1)
		abort();
	T_STR(form_sniff(b.data, b.len), "text/plain", "NUL after 4 KiB");
	b.len = 4095;
	if (buf_add(&b, "\xc3\xa9\0", 3) == -1)
		abort();
	T_STR(form_sniff(b.data, b.len), "text/plain",
	    "character across the 4 KiB mark");
	b.len = 4095;
	if (buf_add(&b, "\xc3\x28", 2) == -1)
		abort();
	T_STR(form_sniff(b.data, b.len), OCTET,
	    "bad character across the 4 KiB mark");
	b.len = 4095;
	if (buf_addc(&b, 0xc3) == -1)
		abort();
	T_STR(form_sniff(b.data, b.len), OCTET, "cut character at the end");
	b.len = 4095;
	if (buf_addc(&b, 0) == -1)
		abort();
	T_STR(form_sniff(b.data, b.len), OCTET, "NUL at octet 4096");
	buf_free(&b);
}

int
main(void)
{
	test_table();
	test_counts();
	test_names();
	test_get();
	test_strerror();
	test_mp_table();
	test_mp_sizes();
	test_mp_bigfile();
	test_mp_filename_cut();
	test_mp_order();
	test_sniff();
	T_DONE();
}
