/* test_form: application/x-www-form-urlencoded decoding (form.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "form.h"
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
	T_STR(form_strerror(FORM_ETOOMANY), "too many fields", "ETOOMANY");
	T_STR(form_strerror(FORM_ETOOBIG), "field name too long", "ETOOBIG");
	T_STR(form_strerror(FORM_EINVAL), "malformed form body", "EINVAL");
	T_STR(form_strerror(FORM_ENOMEM), "out of memory", "ENOMEM");
	T_STR(form_strerror((enum form_err)99), "unknown error", "99");
}

int
main(void)
{
	test_table();
	test_counts();
	test_names();
	test_get();
	test_strerror();
	T_DONE();
}
