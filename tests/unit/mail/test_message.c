/*
 * test_message: RFC 5322 / MIME building.  Every output is also checked
 * against the wire rules (CRLF only, lines <= 998) and, where it encodes
 * text, decoded again with decoders written here independently of
 * message.c and compared with the input.
 *
 * F2M_UPDATE_GOLDEN=1 rewrites the .eml files in tests/data/message/ (then
 * inspect them, and run tests/unit/check_message.py).
 */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/text.h"
#include "mail/message.h"
#include "t.h"

#define GOLDEN_DIR	"tests/data/message/"
#define GOLDEN_DATE	1795825586	/* Sat, 28 Nov 2026 00:26:26 +0000 */

/* ---- independent checkers and decoders ---- */

/*
 * Returns NULL when every line of s ends in CRLF (the last one may be
 * open when open_end), no CR or LF stands alone and no line passes max
 * octets; else what is wrong.
 */
static const char *
wire_problem(const char *s, size_t len, size_t max, int open_end)
{
	static char	 why[96];
	size_t		 i, col = 0, line = 1;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n') {
				snprintf(why, sizeof(why), "bare CR on line %zu",
				    line);
				return why;
			}
			i++;
			line++;
			col = 0;
			continue;
		}
		if (s[i] == '\n') {
			snprintf(why, sizeof(why), "bare LF on line %zu", line);
			return why;
		}
		if (++col > max) {
			snprintf(why, sizeof(why), "line %zu longer than %zu",
			    line, max);
			return why;
		}
	}
	if (!open_end && col > 0)
		return "last line without CRLF";
	return NULL;
}

/*
 * NULL when every line of s[0..len) that holds "=?" has at most 76
 * octets (RFC 2047 section 2: a line with an encoded word, the field name
 * included); else which line is too long.
 */
static const char *
ew_line_problem(const char *s, size_t len)
{
	static char	 why[160];
	const char	*p, *e, *end = s + len;
	size_t		 line = 1;

	for (p = s; p < end; p = e + 2, line++) {
		if ((e = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			e = end;
		if ((size_t)(e - p) > 76 &&
		    memmem(p, (size_t)(e - p), "=?", 2) != NULL) {
			snprintf(why, sizeof(why), "line %zu holds an encoded "
			    "word in %zu octets: [%.80s]", line, (size_t)(e - p), p);
			return why;
		}
		if (e == end)
			break;
	}
	return NULL;
}

static int
b64_value(int c)
{
	const char	*a =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char	*p;

	if (c == '\0' || (p = strchr(a, c)) == NULL)
		return -1;
	return (int)(p - a);
}

/* Strict base64 decoder (padding required, CRLF skipped). -1 on error. */
static int
b64_decode(const char *s, size_t len, struct buf *out)
{
	int	 v[4], k = 0, pad = 0, c;
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		if (pad && s[i] != '=')
			return -1;
		if (s[i] == '=') {
			if (k < 2)
				return -1;
			pad++;
			v[k++] = 0;
		} else if ((c = b64_value((unsigned char)s[i])) < 0)
			return -1;
		else
			v[k++] = c;
		if (k == 4) {
			if (buf_addc(out, (v[0] << 2) | (v[1] >> 4)) == -1)
				return -1;
			if (pad < 2 &&
			    buf_addc(out, ((v[1] & 15) << 4) | (v[2] >> 2)) == -1)
				return -1;
			if (pad < 1 &&
			    buf_addc(out, ((v[2] & 3) << 6) | v[3]) == -1)
				return -1;
			k = 0;
			if (pad)
				pad = 3;	/* nothing may follow */
		}
	}
	return k == 0 ? 0 : -1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Quoted-printable decoder (RFC 2045 section 6.7), strict: -1 on junk. */
static int
qp_decode(const char *s, size_t len, struct buf *out)
{
	size_t	 i;
	int	 h, l;

	for (i = 0; i < len; i++) {
		if (s[i] != '=') {
			if (buf_addc(out, s[i]) == -1)
				return -1;
			continue;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 ||
		    (l = hexval(s[i + 2])) < 0)
			return -1;
		if (buf_addc(out, h * 16 + l) == -1)
			return -1;
		i += 2;
	}
	return 0;
}

/* Line ends of a body as QP must give them back: LF and CRLF as CRLF. */
static void
crlf_norm(const char *s, size_t len, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
			if (buf_addc(out, '\r') == -1)
				abort();
		}
		if (buf_addc(out, s[i]) == -1)
			abort();
	}
}

static int
utf8_ok(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 c, min;

	while (i < len) {
		c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 2; c &= 0x1f; min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3; c &= 0x0f; min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4; c &= 0x07; min = 0x10000;
		} else
			return 0;
		if (len - i < n)
			return 0;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

/*
 * One RFC 2047 word "=?UTF-8?B?...?=" (charset and encoding any case),
 * decoded into out.  Each word must hold whole UTF-8 characters and be at
 * most 75 octets.  Returns 1 decoded, 0 not an encoded word, -1 broken.
 */
static int
ew_decode(const char *w, size_t len, struct buf *out)
{
	struct buf	 tmp = BUF_INIT;
	int		 rc;

	if (len < 12 || strncasecmp(w, "=?utf-8?b?", 10) != 0 ||
	    memcmp(w + len - 2, "?=", 2) != 0)
		return 0;
	if (len > 75)
		return -1;
	rc = b64_decode(w + 10, len - 12, &tmp) == 0 &&
	    utf8_ok((unsigned char *)tmp.data, tmp.len) &&
	    buf_add(out, tmp.data ? tmp.data : "", tmp.len) == 0 ? 1 : -1;
	buf_free(&tmp);
	return rc;
}

/*
 * Unstructured header text as a reader sees it: unfolded (RFC 5322
 * section 2.2.3, CRLF removed), encoded words decoded and the white space
 * between two adjacent encoded words dropped (RFC 2047 section 6.2).
 * *new_ew counts the encoded words seen.
 */
static int
hdr_decode(const char *s, size_t len, struct buf *out, int *new)
{
	struct buf	 u = BUF_INIT, d = BUF_INIT;
	size_t		 i, ws, we;
	int		 prev_ew = 0, r, rc = -1;

	*new = 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 2 < len && s[i + 1] == '\n' &&
		    (s[i + 2] == ' ' || s[i + 2] == '\t')) {
			i++;
			continue;
		}
		if (s[i] == '\r' || s[i] == '\n')
			goto out;
		if (buf_addc(&u, s[i]) == -1)
			goto out;
	}
	i = 0;
	while (i < u.len) {
		for (ws = i; i < u.len && (u.data[i] == ' ' || u.data[i] == '\t');)
			i++;
		for (we = i; we < u.len && u.data[we] != ' ' && u.data[we] != '\t';)
			we++;
		buf_reset(&d);
		r = we > i ? ew_decode(u.data + i, we - i, &d) : 0;
		if (r == -1)
			goto out;
		if (r == 1) {
			if (!prev_ew && buf_add(out, u.data + ws, i - ws) == -1)
				goto out;
			if (buf_add(out, d.data ? d.data : "", d.len) == -1)
				goto out;
			(*new)++;
		} else if (buf_add(out, u.data + ws, we - ws) == -1)
			goto out;
		prev_ew = r;
		i = we;
	}
	if (out->data == NULL && buf_add(out, "", 0) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&u);
	buf_free(&d);
	return rc;
}

/*
 * A mailbox as written by message_mailbox(): "addr" or "display <addr>",
 * the display an atom phrase, a quoted-string or encoded words.  Fills
 * display (decoded) and addr; returns -1 when it does not parse.
 */
static int
mailbox_decode(const char *s, size_t len, struct buf *display,
    struct buf *addr)
{
	const char	*lt;
	size_t		 i, dlen;
	int		 n;

	if (len == 0 || s[len - 1] != '>') {
		if (memchr(s, ' ', len) != NULL || memchr(s, '\r', len) != NULL)
			return -1;
		return buf_add(addr, s, len) == 0 && buf_add(display, "", 0) == 0 ?
		    0 : -1;
	}
	for (lt = s + len - 1; lt > s && *lt != '<'; lt--)
		;
	if (lt - s < 2 || lt[-1] != ' ')
		return -1;
	if (buf_add(addr, lt + 1, (size_t)(s + len - 1 - (lt + 1))) == -1)
		return -1;
	dlen = (size_t)(lt - s) - 1;
	if (dlen >= 2 && s[dlen - 2] == '\r' && s[dlen - 1] == '\n')
		dlen -= 2;	/* a fold before the angle-addr */
	if (s[0] != '"')
		return hdr_decode(s, dlen, display, &n);
	if (dlen < 2 || s[dlen - 1] != '"')
		return -1;
	for (i = 1; i < dlen - 1; i++) {
		if (s[i] == '"' || s[i] == '\r')
			return -1;
		if (s[i] == '\\')
			i++;
		if (i >= dlen - 1 || buf_addc(display, s[i]) == -1)
			return -1;
	}
	return buf_add(display, "", 0);
}

/* Longest encoded word in s, 0 when none. */
static size_t
longest_ew(const char *s)
{
	const char	*p, *e;
	size_t		 max = 0;

	for (p = s; (p = strstr(p, "=?")) != NULL; p = e + 2) {
		if ((e = strstr(p + 2, "?=")) == NULL)
			break;
		/* skip "?B?" and the '?' of "?=" at the payload end */
		e = strstr(p + 10, "?=");
		if (e == NULL)
			break;
		if ((size_t)(e + 2 - p) > max)
			max = (size_t)(e + 2 - p);
	}
	return max;
}

static const char *
show(const char *s, size_t len)
{
	static char	 out[4096];
	size_t		 i, o = 0;
	unsigned char	 c;

	for (i = 0; i < len && o + 5 < sizeof(out); i++) {
		c = (unsigned char)s[i];
		if (c == '\r') {
			memcpy(out + o, "\\r", 2);
			o += 2;
		} else if (c == '\n') {
			memcpy(out + o, "\\n", 2);
			o += 2;
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return out;
}

/* ---- quoted-printable ---- */

#define A10	"aaaaaaaaaa"
#define A70	A10 A10 A10 A10 A10 A10 A10
#define A75	A70 "aaaaa"
#define A76	A75 "a"
#define SMILE	"\xf0\x9f\x98\x80"
#define SMILE6	SMILE SMILE SMILE SMILE SMILE SMILE
#define SMQP	"=F0=9F=98=80"
#define SMQP6	SMQP SMQP SMQP SMQP SMQP SMQP

static const struct {
	const char	*in;
	size_t		 len;	/* 0: strlen(in) */
	const char	*want;
} qp_cases[] = {
	{ "", 0, "" },
	{ "hello", 0, "hello" },
	{ "a\nb", 0, "a\r\nb" },
	{ "a\r\nb\r\n", 0, "a\r\nb\r\n" },
	{ "\n\n", 0, "\r\n\r\n" },
	{ "a=b", 0, "a=3Db" },
	{ "x \n", 0, "x=20\r\n" },
	{ "x\t\r\ny", 0, "x=09\r\ny" },
	{ "end ", 0, "end=20" },
	{ "two  spaces inside", 0, "two  spaces inside" },
	{ "tab\there", 0, "tab\there" },
	{ "a\rb", 0, "a=0Db" },
	{ "a\r", 0, "a=0D" },
	{ "a\r\r\nb", 0, "a=0D\r\nb" },
	{ ".\n.x\nx.\n", 0, "=2E\r\n=2Ex\r\nx.\r\n" },
	{ "From me\nFrom\nxFrom y\n", 0, "=46rom me\r\nFrom\r\nxFrom y\r\n" },
	{ "caf\xc3\xa9", 0, "caf=C3=A9" },
	{ "\x01\x1b\x7f\xff", 0, "=01=1B=7F=FF" },
	{ "nul\0byte", 8, "nul=00byte" },
	{ "--=_f2mX", 0, "--=3D_f2mX" },
	/* 76 octets fit on a last line; a 77th needs a soft break. */
	{ A76, 0, A76 },
	{ A76 "\n", 0, A76 "\r\n" },
	{ A76 "a", 0, A75 "=\r\naa" },
	{ A75 " b", 0, A75 "=\r\n b" },
	{ A75 "=", 0, A75 "=\r\n=3D" },
	{ A75 ".", 0, A75 "." },
	{ A75 ".x", 0, A75 "=\r\n=2Ex" },
	{ A75 "From x", 0, A75 "=\r\n=46rom x" },
	{ A75 " \n", 0, A75 "=\r\n=20\r\n" },
	/* A character's =XX=XX stays on one line. */
	{ A70 "aaaa\xc3\xa9", 0, A70 "aaaa=\r\n=C3=A9" },
	{ A70 "\xc3\xa9" "b", 0, A70 "=\r\n=C3=A9b" },
	{ A10 A10 A10 A10 A10 A10 "aaaaaaaaa\xc3\xa9" "b", 0,
	    A10 A10 A10 A10 A10 A10 "aaaaaaaaa=C3=A9b" },
	{ A10 A10 A10 A10 A10 A10 "aaaaaaaaa\xc3\xa9" "bc", 0,
	    A10 A10 A10 A10 A10 A10 "aaaaaaaaa=C3=A9=\r\nbc" },
	{ A70 "\xe2\x82\xac", 0, A70 "=\r\n=E2=82=AC" },
	{ SMILE6 SMILE6 "\n", 0, SMQP6 "=\r\n" SMQP6 "\r\n" },
	/* A broken sequence is encoded octet by octet. */
	{ A70 "aa\xe2\x82" "b", 0, A70 "aa=E2=\r\n=82b" },
};

static void
test_qp(void)
{
	struct buf	 b = BUF_INIT, d = BUF_INIT, n = BUF_INIT;
	const char	*why;
	size_t		 i, len;

	for (i = 0; i < sizeof(qp_cases) / sizeof(qp_cases[0]); i++) {
		len = qp_cases[i].len ? qp_cases[i].len : strlen(qp_cases[i].in);
		buf_reset(&b);
		buf_reset(&d);
		buf_reset(&n);
		T_INT(message_qp(&b, qp_cases[i].in, len), 0, "message_qp");
		if (buf_add(&b, "", 0) == -1)
			abort();
		T_OK(strcmp(b.data, qp_cases[i].want) == 0,
		    "qp case %zu:\n  expected [%s]", i,
		    show(qp_cases[i].want, strlen(qp_cases[i].want)));
		if (strcmp(b.data, qp_cases[i].want) != 0)
			fprintf(stderr, "  got      [%s]\n", show(b.data, b.len));
		why = wire_problem(b.data, b.len, 76, 1);
		T_OK(why == NULL, "qp case %zu: %s", i, why);
		T_INT(qp_decode(b.data, b.len, &d), 0, "qp_decode");
		crlf_norm(qp_cases[i].in, len, &n);
		T_OK(d.len == n.len && (n.len == 0 ||
		    memcmp(d.data, n.data, n.len) == 0),
		    "qp case %zu does not decode back", i);
	}
	buf_free(&b);
	buf_free(&d);
	buf_free(&n);
}

/* Every octet value at every column, decoded back. */
static void
test_qp_sweep(void)
{
	struct buf	 in = BUF_INIT, b = BUF_INIT, d = BUF_INIT, n = BUF_INIT;
	const char	*why;
	size_t		 pre, i, k;
	int		 c, bad = 0;

	for (pre = 0; pre < 80; pre++) {
		for (c = 0; c < 256; c++) {
			buf_reset(&in);
			buf_reset(&b);
			buf_reset(&d);
			buf_reset(&n);
			for (k = 0; k < pre; k++)
				if (buf_addc(&in, k % 7 == 3 ? ' ' : 'x') == -1)
					abort();
			if (buf_addc(&in, c) == -1 || buf_adds(&in, "\xc3\xa9 \n.") == -1)
				abort();
			if (message_qp(&b, in.data, in.len) == -1 ||
			    qp_decode(b.data, b.len, &d) == -1) {
				bad++;
				continue;
			}
			crlf_norm(in.data, in.len, &n);
			why = wire_problem(b.data, b.len, 76, 1);
			if (why != NULL || d.len != n.len ||
			    memcmp(d.data, n.data, n.len) != 0)
				bad++;
			for (i = 0; i < b.len; i++) {
				/* = only before hex or a soft break */
				if (b.data[i] == '=' && !(hexval(b.data[i + 1]) >= 0 ||
				    b.data[i + 1] == '\r'))
					bad++;
				if ((unsigned char)b.data[i] >= 0x80)
					bad++;
			}
		}
	}
	T_INT(bad, 0, "qp sweep failures");
	buf_free(&in);
	buf_free(&b);
	buf_free(&d);
	buf_free(&n);
}

/* ---- base64 ---- */

static void
test_base64(void)
{
	static const struct {
		const char	*in, *want;
	} v[] = {
		/* RFC 4648 section 10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	struct buf	 b = BUF_INIT, d = BUF_INIT;
	unsigned char	 bin[200];
	size_t		 i, n;
	const char	*why;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		T_INT(text_base64(&b, v[i].in, strlen(v[i].in), 0), 0, "b64");
		T_STR(b.data ? b.data : "", v[i].want, "base64 unwrapped");
		buf_reset(&b);
		T_INT(text_base64(&b, v[i].in, strlen(v[i].in), 1), 0, "b64");
		if (v[i].want[0] == '\0')
			T_INT(b.len, 0, "wrapped empty");
		else
			T_OK(b.len == strlen(v[i].want) + 2 &&
			    memcmp(b.data + b.len - 2, "\r\n", 2) == 0,
			    "wrapped %s: got [%s]", v[i].in, show(b.data, b.len));
	}
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (unsigned char)(i * 37 + 11);
	for (n = 0; n <= sizeof(bin); n++) {
		buf_reset(&b);
		buf_reset(&d);
		T_INT(text_base64(&b, bin, n, 1), 0, "b64 wrap");
		why = wire_problem(b.data, b.len, 76, 0);
		T_OK(why == NULL, "base64 of %zu octets: %s", n, why);
		/* every full line is exactly 76 */
		T_OK(n != 57 || b.len == 78, "57 octets make one line: %zu", b.len);
		T_OK(n != 58 || b.len == 78 + 6, "58 octets: %zu", b.len);
		T_INT(b64_decode(b.data ? b.data : "", b.len, &d), 0, "decode");
		T_OK(d.len == n && (n == 0 || memcmp(d.data, bin, n) == 0),
		    "base64 of %zu octets does not decode back", n);
		buf_reset(&b);
		T_INT(text_base64(&b, bin, n, 0), 0, "b64 flat");
		T_OK(b.len == (n + 2) / 3 * 4 &&
		    (b.data == NULL || strchr(b.data, '\r') == NULL),
		    "unwrapped base64 of %zu: %zu octets", n, b.len);
	}
	buf_free(&b);
	buf_free(&d);
}

/* ---- Date ---- */

static void
test_date(void)
{
	static const struct {
		time_t		 t;
		const char	*want;
	} v[] = {
		{ 0, "Thu, 1 Jan 1970 00:00:00 +0000" },
		{ GOLDEN_DATE, "Sat, 28 Nov 2026 00:26:26 +0000" },
		{ 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
		{ 1234567890, "Fri, 13 Feb 2009 23:31:30 +0000" },
		{ 1719792000 + 86399, "Mon, 1 Jul 2024 23:59:59 +0000" },
		{ 253402300799, "Fri, 31 Dec 9999 23:59:59 +0000" },
		{ 253402300800, "" },
		{ -2208988801, "" },	/* 1899 */
		{ -2208988800, "Mon, 1 Jan 1900 00:00:00 +0000" },
	};
	char	 d[64], small[10];
	size_t	 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		message_date(v[i].t, d, sizeof(d));
		T_STR(d, v[i].want, "message_date");
	}
	message_date(0, small, sizeof(small));
	T_STR(small, "", "message_date, short buffer");
	/* Names stay English whatever the locale (when one is installed). */
	if (setlocale(LC_ALL, "fr_FR.UTF-8") != NULL ||
	    setlocale(LC_ALL, "de_DE.UTF-8") != NULL) {
		message_date(0, d, sizeof(d));
		T_STR(d, "Thu, 1 Jan 1970 00:00:00 +0000", "date in a locale");
		setlocale(LC_ALL, "C");
	}
}

/* ---- Subject (message_header_text) ---- */

#define FR_SUBJECT	"\xc2\xab \xc3\x89" "crire \xc3\xa0 l\xe2\x80\x99\xc3\xa9quipe \xc2\xbb"

/*
 * Writes "Subject: " + s, checks the wire rules, the word sizes, and that
 * it reads back as s.  Returns the header line(s) in b.
 */
static void
subject_roundtrip(const char *what, const char *s, size_t len, size_t used,
    struct buf *b)
{
	struct buf	 d = BUF_INIT;
	const char	*why;
	size_t		 i;
	int		 n;

	buf_reset(b);
	if (used == 9 && buf_adds(b, "Subject: ") == -1)
		abort();
	for (i = used == 9 ? used : 0; i < used; i++)
		if (buf_addc(b, i + 2 < used ? 'X' : (i + 2 == used ? ':' : ' '))
		    == -1)
			abort();
	T_INT(message_header_text(b, s, len, used), 0, what);
	if (buf_add(b, "\r\n", 2) == -1)
		abort();
	why = wire_problem(b->data, b->len, 998, 0);
	T_OK(why == NULL, "%s: %s", what, why);
	/* from 57 on, a 4-octet character may not fit by column 76 */
	why = used <= 56 ? ew_line_problem(b->data, b->len) : NULL;
	T_OK(why == NULL, "%s: used %zu: %s", what, used, why);
	T_OK(longest_ew(b->data) <= 75, "%s: encoded word of %zu octets", what,
	    longest_ew(b->data));
	T_OK(hdr_decode(b->data + used, b->len - used - 2, &d, &n) == 0,
	    "%s: does not decode: [%s]", what, show(b->data, b->len));
	T_OK(d.len == len && memcmp(d.data, s, len) == 0,
	    "%s: decodes to [%s]", what, show(d.data, d.len));
	for (i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] >= 0x80)
			break;
	T_OK(i == b->len, "%s: raw 8-bit octet in header", what);
	buf_free(&d);
}

static void
test_subject_exact(void)
{
	static const struct {
		const char	*in, *want;
	} v[] = {
		{ "", "Subject: " },
		{ "Hello world", "Subject: Hello world" },
		{ "  two  leading, trailing  ", "Subject:   two  leading, trailing  " },
		{ FR_SUBJECT,
		    "Subject: =?UTF-8?B?wqsgw4ljcmlyZSDDoCBs4oCZw6lxdWlwZSDCuw==?=" },
		/* looks like an encoded word: encoded so it reads back as typed */
		{ "=?UTF-8?B?SGk=?=", "Subject: =?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?=" },
		{ "Contact form: a message from Jean-Baptiste Poquelin about the "
		  "performance schedule for next season",
		  "Subject: Contact form: a message from Jean-Baptiste Poquelin "
		  "about the\r\n performance schedule for next season" },
		{ "Merci \xf0\x9f\x99\x8f pour votre message \xf0\x9f\x98\x80",
		  "Subject: =?UTF-8?B?TWVyY2kg8J+ZjyBwb3VyIHZvdHJlIG1lc3NhZ2Ug8J+YgA==?=" },
	};
	struct buf	 b = BUF_INIT;
	size_t		 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		subject_roundtrip("subject exact", v[i].in, strlen(v[i].in), 9,
		    &b);
		b.len -= 2;
		b.data[b.len] = '\0';
		T_STR(b.data, v[i].want, "subject");
	}
	buf_free(&b);
}

static void
test_subject_roundtrip(void)
{
	struct buf	 s = BUF_INIT, b = BUF_INIT;
	const char	*chars[] = { "\xc3\xa9", "\xe2\x82\xac", SMILE, "a" };
	size_t		 i, k, c, used;
	int		 long78;

	/* Long French, ASCII and mixed subjects. */
	for (i = 0; i < 12; i++)
		if (buf_adds(&s, FR_SUBJECT " ") == -1)
			abort();
	subject_roundtrip("long French", s.data, s.len, 9, &b);
	T_OK(strstr(b.data, "\r\n =?UTF-8?B?") != NULL, "folded words");
	buf_reset(&s);
	for (i = 0; i < 40; i++)
		if (buf_adds(&s, "word ") == -1)
			abort();
	subject_roundtrip("long ASCII", s.data, s.len, 9, &b);
	T_OK(strstr(b.data, "=?") == NULL, "long ASCII stays ASCII");
	T_OK(wire_problem(b.data, b.len, 78, 0) == NULL, "ASCII folded at 78");
	/* One ASCII word: as is up to the hard limit, encoded past it. */
	buf_reset(&s);
	for (i = 0; i < 989; i++)
		if (buf_addc(&s, 'w') == -1)
			abort();
	subject_roundtrip("989-octet word", s.data, s.len, 9, &b);
	T_OK(strstr(b.data, "=?") == NULL, "989-octet word stays as is");
	if (buf_addc(&s, 'w') == -1)
		abort();
	subject_roundtrip("990-octet word", s.data, s.len, 9, &b);
	T_OK(strstr(b.data, "=?UTF-8?B?") != NULL, "990-octet word encoded");
	T_OK(wire_problem(b.data, b.len, 78, 0) == NULL, "encoded within 78");
	buf_reset(&s);
	if (buf_adds(&s, "start ") == -1)
		abort();
	for (i = 0; i < 2000; i++)
		if (buf_addc(&s, i % 1000 == 999 ? ' ' : 'x') == -1)
			abort();
	subject_roundtrip("long words", s.data, s.len, 9, &b);
	buf_reset(&s);
	for (i = 0; i < 1500; i++)
		if (buf_addc(&s, ' ') == -1)
			abort();
	if (buf_adds(&s, "x ") == -1)
		abort();
	subject_roundtrip("1500 spaces", s.data, s.len, 9, &b);
	subject_roundtrip("spaces only", "   ", 3, 9, &b);
	subject_roundtrip("Re: CJK", "Re: \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
	    "\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88", 28,
	    9, &b);
	subject_roundtrip("=? inside", "price =? 10$ ?= ok", 18, 9, &b);

	/* Every split point against 2-, 3- and 4-octet characters. */
	for (c = 0; c < sizeof(chars) / sizeof(chars[0]); c++) {
		for (k = 0; k < 50; k++) {
			buf_reset(&s);
			for (i = 0; i < k; i++)
				if (buf_addc(&s, 'a') == -1)
					abort();
			for (i = 0; i < 40; i++)
				if (buf_adds(&s, chars[c]) == -1)
					abort();
			if (c == 3 && buf_adds(&s, "\xc3\xa9") == -1)
				abort();
			subject_roundtrip("split", s.data, s.len, 9, &b);
			T_OK(wire_problem(b.data, b.len, 78, 0) == NULL,
			    "split %zu/%zu over 78: [%s]", c, k,
			    show(b.data, b.len));
		}
	}
	/* Any start column up to 78. */
	buf_reset(&s);
	for (i = 0; i < 20; i++)
		if (buf_adds(&s, SMILE "\xc3\xa9") == -1)
			abort();
	for (used = 2; used <= 78; used++) {
		subject_roundtrip("used", s.data, s.len, used, &b);
		long78 = wire_problem(b.data, b.len, 78, 0) == NULL;
		T_OK(used > 58 || long78, "used %zu: over 78", used);
	}
	buf_reset(&b);
	T_INT(message_header_text(&b, "x", 1, 79), -1, "used 79");
	buf_free(&s);
	buf_free(&b);
}

static const struct {
	const char	*s;
	size_t		 len;
} bad_text[] = {
	{ "tab\there", 0 },
	{ "cr\rhere", 0 },
	{ "lf\nhere", 0 },
	{ "x\r\nBcc: evil@example.net", 0 },
	{ "nul\0x", 5 },
	{ "esc\x1b[31m", 0 },
	{ "del\x7f", 0 },
	{ "c1 \xc2\x85 NEL", 0 },
	{ "c1 \xc2\x9f", 0 },
	{ "c1 \xc2\x80", 0 },
	{ "ls \xe2\x80\xa8", 0 },
	{ "ps \xe2\x80\xa9", 0 },
	{ "bad \xff", 0 },
	{ "overlong \xc0\xaf", 0 },
	{ "overlong \xe0\x80\xaf", 0 },
	{ "surrogate \xed\xa0\x80", 0 },
	{ "too big \xf4\x90\x80\x80", 0 },
	{ "truncated \xc3", 0 },
	{ "truncated \xe2\x82", 0 },
	{ "lone \x80 continuation", 0 },
	{ "latin-1 caf\xe9", 0 },
};

static void
test_refusals(void)
{
	struct buf			 b = BUF_INIT;
	struct message_mailbox		 mb;
	char				 name[128];
	size_t				 i, len;

	for (i = 0; i < sizeof(bad_text) / sizeof(bad_text[0]); i++) {
		len = bad_text[i].len ? bad_text[i].len : strlen(bad_text[i].s);
		buf_reset(&b);
		if (buf_adds(&b, "Subject: ") == -1)
			abort();
		T_INT(message_header_text(&b, bad_text[i].s, len, 9), -1,
		    show(bad_text[i].s, len));
		T_OK(b.len == 9 && strcmp(b.data, "Subject: ") == 0,
		    "buffer changed on refusal: [%s]", show(b.data, b.len));
		/* the same as a display name (NUL can only end a C string) */
		if (memchr(bad_text[i].s, '\0', len) != NULL)
			continue;
		mb.display = bad_text[i].s;
		mb.addr = "a@example.com";
		buf_reset(&b);
		T_INT(message_mailbox(&b, &mb), -1, show(bad_text[i].s, len));
		T_INT(b.len, 0, "mailbox buffer untouched");
	}
	for (i = 1; i < 0x20; i++) {
		snprintf(name, sizeof(name), "x%cy", (int)i);
		buf_reset(&b);
		T_INT(message_header_text(&b, name, strlen(name), 9), -1,
		    "C0 control");
	}
	buf_free(&b);
}

/* ---- mailboxes ---- */

static void
test_mailbox(void)
{
	static const struct {
		const char	*display, *addr, *want;
	} v[] = {
		{ NULL, "a@example.com", "a@example.com" },
		{ "", "a@example.com", "a@example.com" },
		{ "Jane Doe", "jane@example.com", "Jane Doe <jane@example.com>" },
		{ "O'Brien+Sons", "ob@example.com", "O'Brien+Sons <ob@example.com>" },
		{ "Jane  Doe", "j@example.com", "\"Jane  Doe\" <j@example.com>" },
		{ " lead", "j@example.com", "\" lead\" <j@example.com>" },
		{ "Doe, Jane", "j@example.com", "\"Doe, Jane\" <j@example.com>" },
		{ "Example Co.", "j@example.com", "\"Example Co.\" <j@example.com>" },
		{ "Mallory <evil@example.net>", "j@example.com",
		  "\"Mallory <evil@example.net>\" <j@example.com>" },
		{ "Say \"hi\" \\o/", "j@example.com",
		  "\"Say \\\"hi\\\" \\\\o/\" <j@example.com>" },
		{ "Zo\xc3\xab", "zoe@example.org", "=?UTF-8?B?Wm/Dqw==?= <zoe@example.org>" },
		{ "=?UTF-8?B?SGk=?=", "j@example.com",
		  "=?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?= <j@example.com>" },
		{ "Ann", "first.last+tag@mail.example.co.uk",
		  "Ann <first.last+tag@mail.example.co.uk>" },
		{ "Very Long Department Name For The Regional Office Of Example",
		  "department@example.com",
		  "Very Long Department Name For The Regional Office Of Example\r\n"
		  " <department@example.com>" },
		{ "Abteilung f\xc3\xbcr sehr lange Namen und noch l\xc3\xa4ngere "
		  "Bezeichnungen aller Art", "a@example.com",
		  "=?UTF-8?B?QWJ0ZWlsdW5nIGbDvHIgc2VociBsYW5nZSBOYW1lbiB1bmQgbm9jaCBsw6Ru?="
		  "\r\n =?UTF-8?B?Z2VyZSBCZXplaWNobnVuZ2VuIGFsbGVyIEFydA==?= <a@example.com>" },
	};
	static const char	*bad_addr[] = {
		"", "plain", "a b@example.com", "a@b@example.com",
		"<a@example.com>", "a@example.com>", "a@example.com\r\n",
		"a@example.com\n", ".a@example.com", "a.@example.com",
		"a..b@example.com", "a@-example.com", "a@example-.com",
		"a@example..com", "a@.example.com", "a@example.com.",
		"\"q\"@example.com", "a@[192.0.2.1]", "a(c)@example.com",
		"a,b@example.com", "a@exa_mple.com", "a@ex\xc3\xa4mple.com",
		"a@", "@example.com",
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"@example.com"),	/* 65-octet local part */
	};
	struct buf		 b = BUF_INIT, d = BUF_INIT, a = BUF_INIT;
	struct message_mailbox	 mb;
	const char		*why;
	size_t			 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		mb.display = v[i].display;
		mb.addr = v[i].addr;
		buf_reset(&b);
		buf_reset(&d);
		buf_reset(&a);
		T_INT(message_mailbox(&b, &mb), 0, v[i].addr);
		T_STR(b.data, v[i].want, "mailbox");
		why = wire_problem(b.data, b.len, 78, 1);
		T_OK(why == NULL, "mailbox %zu: %s", i, why);
		why = ew_line_problem(b.data, b.len);
		T_OK(why == NULL, "mailbox %zu: %s", i, why);
		T_OK(mailbox_decode(b.data, b.len, &d, &a) == 0,
		    "mailbox %zu does not parse", i);
		T_STR(d.data, v[i].display ? v[i].display : "", "display back");
		T_STR(a.data, v[i].addr, "addr back");
	}
	for (i = 0; i < sizeof(bad_addr) / sizeof(bad_addr[0]); i++) {
		mb.display = "Name";
		mb.addr = bad_addr[i];
		buf_reset(&b);
		T_INT(message_mailbox(&b, &mb), -1, show(bad_addr[i],
		    strlen(bad_addr[i])));
		T_INT(b.len, 0, "buffer untouched");
	}
	mb.display = "x";
	mb.addr = NULL;
	T_INT(message_mailbox(&b, &mb), -1, "NULL addr");
	buf_free(&b);
	buf_free(&d);
	buf_free(&a);
}

/* Long display names of every kind read back the same. */
static void
test_mailbox_long(void)
{
	static const char	*unit[] = {
		"Word ", "x", "\"q\" ", "\xc3\xa9t\xc3\xa9 ", SMILE, "=?x ",
	};
	struct buf		 s = BUF_INIT, b = BUF_INIT, d = BUF_INIT,
				 a = BUF_INIT;
	struct message_mailbox	 mb;
	const char		*why;
	size_t			 u, n, i;

	for (u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
		for (n = 1; n < 1200; n = n * 3 + 1) {
			buf_reset(&s);
			for (i = 0; i < n; i++)
				if (buf_adds(&s, unit[u]) == -1)
					abort();
			while (s.len > 0 && s.data[s.len - 1] == ' ')
				s.data[--s.len] = '\0';
			if (s.len == 0)
				continue;
			mb.display = s.data;
			mb.addr = "someone@example.com";
			buf_reset(&b);
			buf_reset(&d);
			buf_reset(&a);
			T_INT(message_mailbox(&b, &mb), 0, "long display");
			why = wire_problem(b.data, b.len, 998, 1);
			T_OK(why == NULL, "long display %zu/%zu: %s", u, n, why);
			why = ew_line_problem(b.data, b.len);
			T_OK(why == NULL, "long display %zu/%zu: %s", u, n, why);
			T_OK(longest_ew(b.data) <= 75, "word too long");
			T_OK(mailbox_decode(b.data, b.len, &d, &a) == 0 &&
			    d.len == s.len && memcmp(d.data, s.data, s.len) == 0,
			    "long display %zu/%zu reads back as [%s]", u, n,
			    show(d.data, d.len));
		}
	}
	buf_free(&s);
	buf_free(&b);
	buf_free(&d);
	buf_free(&a);
}

/* ---- whole messages ---- */

static const struct message_mailbox	 g_from = {
	"Example Forms", "forms@example.com"
};
static const struct message_mailbox	 g_reply = {
	"Zo\xc3\xab Durand", "zoe.durand@example.org"
};
static const struct message_mailbox	 g_to[] = {
	{ "Sales", "sales@example.com" },
	{ "Support Team (EU)", "support-eu@example.com" },
	{ NULL, "archive@example.com" },
};
static const struct message_mailbox	 g_cc[] = {
	{ "J\xc3\xbcrgen Gro\xc3\x9f", "juergen@example.net" },
};

static const char	 g_text[] =
    "Name: Zo\xc3\xab Durand\n"
    "Email: zoe.durand@example.org\n"
    "\n"
    "Message:\n"
    "Bonjour,\n"
    "\n"
    "Je voudrais r\xc3\xa9server deux places pour le spectacle du 12 d\xc3\xa9"
    "cembre \xe2\x80\x94 est-ce encore possible ? Nous serons \xc3\xa0 Paris "
    "toute la semaine et pouvons venir n\xe2\x80\x99importe quel soir.\n"
    ".\n"
    "From now on, 2+2=4 and 100% is 100 %.\n"
    "Trailing blanks here   \n"
    "\tTabbed line\t\n"
    "Emoji: \xf0\x9f\x8e\xad\n"
    "-- \n"
    "Zo\xc3\xab\n";

static const char	 g_html_text[] =
    "New signup from the website.\r\n"
    "Name: Ada\r\n"
    "Plan: pro \xe2\x82\xac" "49/month";	/* no final line break */

static const char	 g_html[] =
    "<!DOCTYPE html>\n"
    "<html><head><meta charset=\"utf-8\"><title>Signup</title></head>\n"
    "<body style=\"font-family: sans-serif; margin: 0; padding: 1em; "
    "color: #222; background-color: #fff;\">\n"
    "<p>New signup from the website.</p>\n"
    "<table><tr><th>Name</th><td>Ada</td></tr>"
    "<tr><th>Plan</th><td>pro \xe2\x82\xac" "49/month</td></tr></table>\n"
    "--=_f2mSpoofedBoundary0123456789\n"
    "</body></html>\n";

static void
golden_text(struct message *m)
{
	memset(m, 0, sizeof(*m));
	m->from = g_from;
	m->reply_to = &g_reply;
	m->to = g_to;
	m->nto = 3;
	m->cc = g_cc;
	m->ncc = 1;
	m->subject = "Contact : " FR_SUBJECT " \xe2\x80\x94 message de Zo\xc3\xab "
	    "Durand";
	m->id = "01hzx3k9q4w7m2n8p5r6t0v1yb";
	m->hostname = "www.example.com";
	m->date = GOLDEN_DATE;
	m->client_ip = "192.0.2.7";
	m->text = g_text;
	m->text_len = sizeof(g_text) - 1;
}

static void
golden_html(struct message *m)
{
	static const struct message_mailbox	 to[] = {
		{ "Signups", "signups@example.com" },
	};

	memset(m, 0, sizeof(*m));
	m->from = g_from;
	m->to = to;
	m->nto = 1;
	m->subject = "New signup \xf0\x9f\x8e\x89 from the website";
	m->id = "SpoofedBoundary0123456789";
	m->hostname = "forms.example.com";
	m->date = GOLDEN_DATE;
	m->client_ip = "2001:db8::7";
	m->text = g_html_text;
	m->text_len = sizeof(g_html_text) - 1;
	m->html = g_html;
	m->html_len = sizeof(g_html) - 1;
}

/*
 * The decoded body of the part whose headers start at p (up to end): the
 * QP after the blank line.
 */
static int
part_body(const char *p, const char *end, struct buf *out)
{
	const char	*body;

	body = strstr(p, "\r\n\r\n");
	if (body == NULL || body > end)
		return -1;
	body += 4;
	if (strstr(p, "Content-Transfer-Encoding: quoted-printable\r\n") == NULL)
		return -1;
	return qp_decode(body, (size_t)(end - body), out);
}

static void
check_message(const char *what, const struct message *m, const char *msg,
    size_t len, size_t hdr_max)
{
	struct buf	 d = BUF_INIT, n = BUF_INIT, delim = BUF_INIT,
			 close = BUF_INIT;
	const char	*why, *hend, *p1, *p2, *p3, *s;
	int		 k;

	why = wire_problem(msg, len, 998, 0);
	T_OK(why == NULL, "%s: %s", what, why);
	hend = strstr(msg, "\r\n\r\n");
	T_OK(hend != NULL, "%s: no header end", what);
	if (hend == NULL)
		return;
	for (s = msg; s < hend; s++)
		if ((unsigned char)*s >= 0x80)
			break;
	T_OK(s == hend, "%s: 8-bit octet in the header", what);
	T_OK(wire_problem(msg, (size_t)(hend - msg) + 2, hdr_max, 0) == NULL,
	    "%s: header line over %zu", what, hdr_max);
	why = ew_line_problem(msg, (size_t)(hend - msg) + 2);
	T_OK(why == NULL, "%s: %s", what, why);
	/* Subject reads back. */
	s = strstr(msg, "\r\nSubject: ");
	T_OK(s != NULL, "%s: no Subject", what);
	if (s != NULL) {
		s += 11;
		for (p1 = s; !(p1[0] == '\r' && p1[2] != ' '); p1++)
			;
		T_OK(hdr_decode(s, (size_t)(p1 - s), &d, &k) == 0 &&
		    strcmp(d.data, m->subject) == 0, "%s: subject [%s]", what,
		    show(d.data, d.len));
	}
	buf_reset(&d);
	if (m->html == NULL) {
		T_INT(part_body(msg, msg + len, &d), 0, "text body");
		crlf_norm(m->text, m->text_len, &n);
		T_OK(d.len == n.len && (n.len == 0 ||
		    memcmp(d.data, n.data, n.len) == 0),
		    "%s: body reads back as [%s]", what, show(d.data, d.len));
		goto out;
	}
	if (buf_printf(&delim, "\r\n--=_f2m%s\r\n", m->id) == -1 ||
	    buf_printf(&close, "\r\n--=_f2m%s--\r\n", m->id) == -1)
		abort();
	p1 = strstr(hend, delim.data);
	p2 = p1 ? strstr(p1 + delim.len, delim.data) : NULL;
	p3 = p2 ? strstr(p2 + delim.len, close.data) : NULL;
	T_OK(p3 != NULL && p3 + close.len == msg + len,
	    "%s: multipart structure", what);
	if (p3 == NULL)
		goto out;
	T_OK(strstr(p3 + close.len, "--=_f2m") == NULL &&
	    strstr(p2 + delim.len, delim.data) == NULL, "%s: stray delimiter",
	    what);
	T_INT(part_body(p1 + delim.len, p2, &d), 0, "text part");
	crlf_norm(m->text, m->text_len, &n);
	T_OK(d.len == n.len && memcmp(d.data, n.data, n.len) == 0,
	    "%s: text part reads back as [%s]", what, show(d.data, d.len));
	buf_reset(&d);
	buf_reset(&n);
	T_INT(part_body(p2 + delim.len, p3, &d), 0, "html part");
	crlf_norm(m->html, m->html_len, &n);
	T_OK(d.len == n.len && memcmp(d.data, n.data, n.len) == 0,
	    "%s: html part reads back as [%s]", what, show(d.data, d.len));
out:
	buf_free(&d);
	buf_free(&n);
	buf_free(&delim);
	buf_free(&close);
}

/* ---- attachments: a reader of Content-Type / Content-Disposition ---- */

#define ATT_ID		"AttachGolden2026"

static const char	 g_att_html[] =
    "<!DOCTYPE html>\n"
    "<html><body><p>Devis en pi\xc3\xa8" "ce jointe.</p>\n"
    "--=_f2m_" ATT_ID "\n"
    "--=_f2m_" ATT_ID "--\n"
    "--=_f2m" ATT_ID "\n"
    "</body></html>\n";

static const char	 g_att_text[] =
    "Devis en pi\xc3\xa8" "ce jointe.\n"
    "--=_f2m_" ATT_ID "\n";

/* A small fake PDF holding the outer delimiter, NULs and 8-bit octets. */
static const char	 g_pdf[] =
    "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    "\r\n--=_f2m_" ATT_ID "--\r\n\0\1\2\376\377\n"
    "trailer\n<< /Root 1 0 R >>\n%%EOF\n";

static const char	 g_notes[] = "Merci !\nR\xc3\xa9union le 3 mars.\n";

static const char	 g_jpeg[] = "\xff\xd8\xff\xe0\0\20JFIF\0\1\1\0\0\1\0\1\0\0"
    "\xff\xd9";

#define DEVIS_NAME	"Devis \xc3\xa9t\xc3\xa9 2026 \xe2\x80\x93 n\xc2\xb0" "1.pdf"
#define PHOTO_NAME	"Photographie du chantier \xe2\x80\x94 fa\xc3\xa7" \
	"ade nord apr\xc3\xa8s la pose des \xc3\xa9" "chafaudages (vue " \
	"depuis la rue \xc3\x89mile-Zola).jpg"

static const struct message_attachment	 g_att[] = {
	{ DEVIS_NAME, "application/pdf", g_pdf, sizeof(g_pdf) - 1 },
	{ "notes \"v2\".txt", "text/plain", g_notes, sizeof(g_notes) - 1 },
	{ PHOTO_NAME, "image/jpeg", g_jpeg, sizeof(g_jpeg) - 1 },
};

static void
golden_attach(struct message *m)
{
	golden_html(m);
	m->id = ATT_ID;
	m->subject = "Demande de devis \xe2\x80\x94 3 pi\xc3\xa8" "ces jointes";
	m->text = g_att_text;
	m->text_len = sizeof(g_att_text) - 1;
	m->html = g_att_html;
	m->html_len = sizeof(g_att_html) - 1;
	m->attachments = g_att;
	m->nattachments = sizeof(g_att) / sizeof(g_att[0]);
}

/* RFC 5987 attr-char, what an extended value may hold unencoded. */
static int
test_attr_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* Percent-decodes one extended section into out; -1 on junk. */
static int
pct_decode(const char *s, size_t len, struct buf *out)
{
	size_t	 i;
	int	 h, l;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			if (!test_attr_char((unsigned char)s[i]) ||
			    buf_addc(out, s[i]) == -1)
				return -1;
			continue;
		}
		if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 ||
		    (l = hexval(s[i + 2])) < 0 || buf_addc(out, h * 16 + l) == -1)
			return -1;
		i += 2;
	}
	return 0;
}

struct param_read {
	struct buf	 value;		/* decoded */
	int		 extended;	/* 0 quoted, 1 single, 2 sections */
	size_t		 nsect;
};

/*
 * Reads parameter attr of a header field value (as it stands after
 * "Name: ", folds included): "first; a=b; c*=UTF-8''..; c*0*=..".
 * Exactly one form: the quoted one, or an extended one (single, or
 * sections 0..n-1 in order, each whole UTF-8 on its own), never both
 * (Python's email calls that a duplicate parameter, ripmime glues the
 * two).  *first gets the value before the first ';'.  -1 when it does
 * not parse.
 */
static int
param_read(const char *s, size_t len, const char *attr, struct buf *first,
    struct param_read *r)
{
	struct buf	 u = BUF_INIT, name = BUF_INIT, val = BUF_INIT,
			 sect = BUF_INIT;
	size_t		 i, alen = strlen(attr), n;
	char		*end;
	int		 rc = -1, quoted, have_plain = 0, have_single = 0;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 2 < len && s[i + 1] == '\n' &&
		    s[i + 2] == ' ') {
			i++;
			continue;
		}
		if (s[i] == '\r' || s[i] == '\n' || buf_addc(&u, s[i]) == -1)
			goto out;
	}
	for (i = 0; i < u.len && u.data[i] != ';'; i++)
		if (buf_addc(first, u.data[i]) == -1)
			goto out;
	while (i < u.len) {
		if (u.data[i++] != ';')
			goto out;
		while (i < u.len && u.data[i] == ' ')
			i++;
		buf_reset(&name);
		buf_reset(&val);
		for (; i < u.len && u.data[i] != '='; i++)
			if (u.data[i] == ' ' || u.data[i] == ';' ||
			    buf_addc(&name, u.data[i]) == -1)
				goto out;
		if (i++ == u.len || name.len == 0)
			goto out;
		quoted = i < u.len && u.data[i] == '"';
		if (quoted) {
			for (i++; i < u.len && u.data[i] != '"'; i++) {
				if (u.data[i] == '\\' && ++i == u.len)
					goto out;
				if (buf_addc(&val, u.data[i]) == -1)
					goto out;
			}
			if (i++ == u.len)
				goto out;
		} else
			for (; i < u.len && u.data[i] != ';'; i++)
				if (buf_addc(&val, u.data[i]) == -1)
					goto out;
		if (buf_add(&val, "", 0) == -1 || buf_add(&name, "", 0) == -1)
			goto out;
		if (strncasecmp(name.data, attr, alen) != 0)
			continue;
		if (name.len == alen) {
			if (!quoted || have_plain++)
				goto out;
			if (buf_add(&r->value, val.data, val.len) == -1)
				goto out;
			continue;
		}
		if (quoted || name.data[alen] != '*')
			goto out;
		buf_reset(&sect);
		if (name.len == alen + 1) {
			if (have_single++ || r->nsect > 0 ||
			    strncmp(val.data, "UTF-8''", 7) != 0 ||
			    pct_decode(val.data + 7, val.len - 7, &sect) == -1)
				goto out;
		} else {
			n = strtoul(name.data + alen + 1, &end, 10);
			if (have_single || n != r->nsect || *end != '*' ||
			    end[1] != '\0' || end == name.data + alen + 1 ||
			    (n > 0 && name.data[alen + 1] == '0'))
				goto out;
			if (n == 0 && strncmp(val.data, "UTF-8''", 7) != 0)
				goto out;
			if (pct_decode(val.data + (n == 0 ? 7 : 0),
			    val.len - (n == 0 ? 7 : 0), &sect) == -1)
				goto out;
			r->nsect++;
		}
		if (!utf8_ok((unsigned char *)sect.data, sect.len) ||
		    buf_add(&r->value, sect.data ? sect.data : "", sect.len) == -1)
			goto out;
	}
	r->extended = have_single ? 1 : (r->nsect > 0 ? 2 : 0);
	if ((r->extended != 0) == (have_plain != 0))
		goto out;
	if (buf_add(&r->value, "", 0) == -1 || buf_add(first, "", 0) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&u);
	buf_free(&name);
	buf_free(&val);
	buf_free(&sect);
	return rc;
}

static void
param_read_free(struct param_read *r)
{
	buf_free(&r->value);
}

/*
 * The names that stay a quoted-string: printable ASCII without '"', '\'
 * and "=?", and " filename=\"...\";" within 78 octets.
 */
static int
want_quoted(const char *s)
{
	size_t	 len = strlen(s);

	if (1 + 8 + 2 + len + 2 > 78)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\' ||
		    (s[0] == '=' && s[1] == '?'))
			return 0;
	return 1;
}

/* The value of header field name in [p, end), folds included. */
static const char *
field(const char *p, const char *end, const char *name, size_t *len)
{
	const char	*s, *e;
	size_t		 n = strlen(name);

	for (s = p; s < end; s = e + 2) {
		if ((e = memmem(s, (size_t)(end - s), "\r\n", 2)) == NULL)
			return NULL;
		while (e + 2 < end && e[2] == ' ')
			e = memmem(e + 2, (size_t)(end - e - 2), "\r\n", 2);
		if (e == NULL)
			return NULL;
		if ((size_t)(e - s) > n && strncasecmp(s, name, n) == 0) {
			*len = (size_t)(e - s) - n;
			return s + n;
		}
	}
	return NULL;
}

/*
 * One attachment part [p, end): exactly Content-Type, Content-Disposition,
 * Content-Transfer-Encoding: base64, a blank line and base64 of the data;
 * name and filename read back as the filename, both in the same form.
 * *nsect gets the number of RFC 2231 sections of filename (0 when not in
 * sections).
 */
static void
check_attachment(const char *what, const struct message_attachment *a,
    const char *p, const char *end, size_t *nsect)
{
	struct buf		 first = BUF_INIT, d = BUF_INIT;
	struct param_read	 r;
	const char		*hend, *v, *why, *s;
	size_t			 vlen, ns[2] = { 0, 0 };
	static const char	*attrs[] = { "Content-Type: ", "name",
		"Content-Disposition: ", "filename" };
	int			 k, ext[2] = { -1, -1 };

	*nsect = 0;
	hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
	T_OK(hend != NULL, "%s: no blank line in the part", what);
	if (hend == NULL)
		return;
	T_OK(strncmp(p, "Content-Type: ", 14) == 0 &&
	    memmem(p, (size_t)(hend - p), "\r\nContent-Disposition: ", 23) !=
	    NULL && hend - p > 35 && memcmp(hend - 35,
	    "\r\nContent-Transfer-Encoding: base64", 35) == 0,
	    "%s: part headers [%s]", what, show(p, (size_t)(hend - p)));
	/* lines within 78 but "Content-Type: <type>;" of a long type */
	for (s = p; s < hend + 2;) {
		v = memmem(s, (size_t)(hend + 2 - s), "\r\n", 2);
		T_OK((size_t)(v - s) <= 78 || (s == p && (size_t)(v - s) <=
		    15 + strlen(a->type)), "%s: part header line of %zu: [%s]",
		    what, (size_t)(v - s), show(s, (size_t)(v - s)));
		s = v + 2;
	}
	why = ew_line_problem(p, (size_t)(hend + 2 - p));
	T_OK(why == NULL, "%s: %s", what, why);
	for (k = 0; k < 4; k += 2) {
		buf_reset(&first);
		v = field(p, hend + 2, attrs[k], &vlen);
		T_OK(v != NULL && param_read(v, vlen, attrs[k + 1], &first, &r) ==
		    0, "%s: %s does not parse: [%s]", what, attrs[k],
		    v != NULL ? show(v, vlen) : "");
		if (v == NULL)
			continue;
		T_STR(first.data, k == 0 ? a->type : "attachment", attrs[k]);
		T_STR(r.value.data, a->filename, attrs[k + 1]);
		T_OK((r.extended != 0) == !want_quoted(a->filename),
		    "%s: %s extended %d for [%s]", what, attrs[k + 1],
		    r.extended, show(a->filename, strlen(a->filename)));
		ext[k / 2] = r.extended;
		ns[k / 2] = r.nsect;
		if (k == 2)
			*nsect = r.nsect;
		param_read_free(&r);
	}
	T_OK(ext[0] == ext[1] && ns[0] == ns[1],
	    "%s: name in form %d (%zu sections), filename in form %d (%zu)",
	    what, ext[0], ns[0], ext[1], ns[1]);
	why = wire_problem(hend + 4, (size_t)(end - hend - 4), 76, 1);
	T_OK(why == NULL, "%s: base64 lines: %s", what, why);
	T_OK(b64_decode(hend + 4, (size_t)(end - hend - 4), &d) == 0 &&
	    d.len == a->len && (a->len == 0 || memcmp(d.data, a->data,
	    a->len) == 0), "%s: data does not read back", what);
	buf_free(&first);
	buf_free(&d);
}

/*
 * A multipart/mixed message: the top header as without attachments but
 * for Content-Type, the first part what the message without attachments
 * holds as its body (checked there by check_message()), then one part
 * per attachment; the outer delimiter exactly at the n + 2 places.
 * *nsect gets the filename sections of the last attachment.
 */
static void
check_mixed(const char *what, const struct message *m, const char *msg,
    size_t len, size_t hdr_max, size_t *nsect)
{
	struct message	 m0 = *m;
	struct buf	 b0 = BUF_INIT, delim = BUF_INIT, top = BUF_INIT,
			 d = BUF_INIT, nt = BUF_INIT;
	const char	*why, *ct0, *ct, *p, *q, *body0;
	size_t		 i, n, plen, olen, th;

	*nsect = 0;
	why = wire_problem(msg, len, 998, 0);
	T_OK(why == NULL, "%s: %s", what, why);
	m0.attachments = NULL;
	m0.nattachments = 0;
	T_INT(message_build(&m0, &b0), 0, "without attachments");
	if (b0.data == NULL)
		return;
	check_message(what, &m0, b0.data, b0.len, hdr_max);
	ct0 = strstr(b0.data, "\r\nContent-Type: ");
	if (buf_printf(&top, "\r\nContent-Type: multipart/mixed;\r\n"
	    " boundary=\"=_f2m_%s\"\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n", m->id) == -1 ||
	    buf_printf(&delim, "\r\n--=_f2m_%s", m->id) == -1)
		abort();
	ct = strstr(msg, "\r\nContent-Type: ");
	T_OK(ct0 != NULL && ct != NULL && ct - msg == ct0 - b0.data &&
	    memcmp(msg, b0.data, (size_t)(ct - msg)) == 0 &&
	    strncmp(ct, top.data, top.len) == 0,
	    "%s: top header [%s]", what, show(msg, len));
	if (ct == NULL || ct0 == NULL || strncmp(ct, top.data, top.len) != 0)
		goto out;
	n = 0;
	for (p = msg; (p = memmem(p, len - (size_t)(p - msg), delim.data,
	    delim.len)) != NULL; p += delim.len)
		n++;
	T_INT(n, m->nattachments + 2, "outer delimiters");
	th = strlen("Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	p = ct + top.len - 2;	/* the CRLF before the first delimiter */
	body0 = ct0 + 2;
	for (i = 0; i <= m->nattachments; i++) {
		T_OK(strncmp(p, delim.data, delim.len) == 0 &&
		    strncmp(p + delim.len, "\r\n", 2) == 0,
		    "%s: delimiter %zu", what, i);
		p += delim.len + 2;
		q = memmem(p, len - (size_t)(p - msg), delim.data, delim.len);
		T_OK(q != NULL, "%s: part %zu not closed", what, i);
		if (q == NULL)
			goto out;
		if (i == 0) {
			/* the same but for the wrap of a last text line
			 * without a soft break after it */
			plen = (size_t)(q - p);
			olen = b0.len - (size_t)(body0 - b0.data);
			buf_reset(&d);
			buf_reset(&nt);
			T_OK((olen == plen && memcmp(p, body0, plen) == 0) ||
			    (m->html == NULL && plen > th && memcmp(p, body0,
			    th) == 0 && wire_problem(p + th, plen - th, 76, 1) ==
			    NULL && qp_decode(p + th, plen - th, &d) == 0 &&
			    (crlf_norm(m->text, m->text_len, &nt), d.len ==
			    nt.len) && memcmp(d.data, nt.data, d.len) == 0),
			    "%s: first part is not the body without "
			    "attachments: [%s]", what, show(p, plen));
		} else
			check_attachment(what, &m->attachments[i - 1], p, q, nsect);
		p = q;
	}
	T_OK(strncmp(p + delim.len, "--\r\n", 4) == 0 &&
	    p + delim.len + 4 == msg + len, "%s: close delimiter", what);
out:
	buf_free(&b0);
	buf_free(&delim);
	buf_free(&top);
	buf_free(&d);
	buf_free(&nt);
}

static void
golden_compare(const char *file, const struct message *m)
{
	struct buf	 b = BUF_INIT;
	char		 path[256], *want = NULL;
	FILE		*f;
	long		 n = -1;
	size_t		 i, ns;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", file);
	T_INT(message_build(m, &b), 0, file);
	if (b.data == NULL)
		return;
	if (m->nattachments > 0)
		check_mixed(file, m, b.data, b.len, 78, &ns);
	else
		check_message(file, m, b.data, b.len, 78);
	if (getenv("F2M_UPDATE_GOLDEN") != NULL) {
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(b.data, 1, b.len, f) != b.len || fclose(f) != 0) {
			perror(path);
			abort();
		}
		printf("wrote %s\n", path);
	}
	if ((f = fopen(path, "rb")) != NULL) {
		if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
		    fseek(f, 0, SEEK_SET) == 0 &&
		    (want = malloc((size_t)n + 1)) != NULL &&
		    fread(want, 1, (size_t)n, f) != (size_t)n)
			n = -1;
		fclose(f);
	}
	T_OK(want != NULL && n >= 0, "%s: cannot read", path);
	if (want != NULL && n >= 0) {
		for (i = 0; i < b.len && i < (size_t)n && b.data[i] == want[i]; i++)
			;
		T_OK(i == b.len && i == (size_t)n,
		    "%s differs at octet %zu (%zu vs %ld octets); got:\n%s", path,
		    i, b.len, n, show(b.data, b.len));
	}
	free(want);
	buf_free(&b);
}

static void
test_golden(void)
{
	struct message	 m;

	golden_text(&m);
	golden_compare("text.eml", &m);
	golden_html(&m);
	golden_compare("alternative.eml", &m);
	golden_attach(&m);
	golden_compare("attachments.eml", &m);
}

/* Header order, optional headers, folding of long lists. */
static void
test_build(void)
{
	static const char	*order[] = {
		"From: ", "\nReply-To: ", "\nTo: ", "\nCc: ", "\nSubject: ",
		"\nDate: ", "\nMessage-ID: ", "\nMIME-Version: ",
		"\nAuto-Submitted: ", "\nX-Originating-IP: ",
		"\nContent-Type: ", "\nContent-Transfer-Encoding: ",
	};
	struct message_mailbox	 many[12];
	char			 addrs[12][64];
	struct message		 m;
	struct buf		 b = BUF_INIT, d = BUF_INIT, a = BUF_INIT;
	const char		*p, *q, *prev;
	size_t			 i;

	golden_text(&m);
	T_INT(message_build(&m, &b), 0, "build");
	for (prev = b.data, i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		p = strstr(b.data, order[i]);
		T_OK(p != NULL && p >= prev && (i > 0 || p == b.data),
		    "header %s out of order", order[i]);
		if (p != NULL)
			prev = p;
	}
	T_OK(strstr(b.data, "\r\nMessage-ID: <01hzx3k9q4w7m2n8p5r6t0v1yb@"
	    "www.example.com>\r\n") != NULL, "Message-ID");
	T_OK(strstr(b.data, "\r\nAuto-Submitted: auto-generated\r\n") != NULL,
	    "Auto-Submitted");
	T_OK(strstr(b.data, "\r\nX-Originating-IP: [192.0.2.7]\r\n") != NULL,
	    "X-Originating-IP");
	T_OK(strstr(b.data, "\r\nMIME-Version: 1.0\r\n") != NULL, "MIME");

	/* Without the optional ones. */
	m.reply_to = NULL;
	m.ncc = 0;
	m.client_ip = NULL;
	m.auto_submitted = "auto-replied";
	m.text = NULL;
	m.text_len = 0;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "build minimal");
	T_OK(strstr(b.data, "Reply-To:") == NULL &&
	    strstr(b.data, "\r\nCc:") == NULL &&
	    strstr(b.data, "X-Originating-IP") == NULL, "optional headers");
	T_OK(strstr(b.data, "\r\nAuto-Submitted: auto-replied\r\n") != NULL,
	    "Auto-Submitted given");
	T_OK(b.len >= 4 && strcmp(b.data + b.len - 4, "\r\n\r\n") == 0,
	    "empty body ends the header");
	check_message("empty body", &m, b.data, b.len, 78);

	/* Twelve recipients: folded after commas, each reads back. */
	for (i = 0; i < 12; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "recipient%zu@example.com", i);
		many[i].addr = addrs[i];
		many[i].display = i % 3 == 0 ? "Service Client\xc3\xa8le" :
		    (i % 3 == 1 ? "Plain Name" : NULL);
	}
	golden_text(&m);
	m.to = many;
	m.nto = 12;
	m.cc = many;
	m.ncc = 12;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "build 12");
	check_message("12 recipients", &m, b.data, b.len, 78);
	p = strstr(b.data, "\r\nTo: ") + 6;
	q = strstr(p, "\r\nCc: ");
	T_OK(q != NULL && memmem(p, (size_t)(q - p), ",\r\n ", 4) != NULL,
	    "To folded after a comma");
	/* split the list at ",\r\n " / ", " and read each mailbox back */
	for (i = 0; i < 12 && q != NULL; i++) {
		const char	*e = p, *c;

		for (c = p; c < q; c++) {
			if (*c == '"')
				for (c++; c < q && *c != '"'; c++)
					;
			if (c < q && *c == ',')
				break;
		}
		e = c;
		buf_reset(&d);
		buf_reset(&a);
		T_OK(mailbox_decode(p, (size_t)(e - p), &d, &a) == 0 &&
		    strcmp(a.data, addrs[i]) == 0 &&
		    strcmp(d.data, many[i].display ? many[i].display : "") == 0,
		    "recipient %zu reads back as [%s] [%s]", i,
		    d.data ? d.data : "", a.data ? a.data : "");
		p = e + 1;
		if (p < q && *p == '\r')
			p += 2;
		if (p < q && *p == ' ')
			p++;
	}
	buf_free(&b);
	buf_free(&d);
	buf_free(&a);
}

static void
test_build_refusals(void)
{
	static const struct message_mailbox	 bad_mb = { "Bad\r\nBcc: x@y.z",
		"a@example.com" };
	static const struct message_mailbox	 bad_addr = { "Ok",
		"a@example.com>\r\nBcc: x@example.net" };
	struct message	 m;
	struct buf	 b = BUF_INIT;
	int		 k;

	for (k = 0; k < 22; k++) {
		golden_text(&m);
		switch (k) {
		case 0: m.id = ""; break;
		case 1: m.id = "abc-def"; break;
		case 2: m.id = "abc\r\nX: y"; break;
		case 3: m.id = "a23456789012345678901234567890123456789012345678901234567890"
		    "1"; break;	/* 61 */
		case 4: m.hostname = "www.example.com>"; break;
		case 5: m.hostname = "-www.example.com"; break;
		case 6: m.hostname = ""; break;
		case 7: m.hostname = "www..example.com"; break;
		case 8: m.client_ip = "192.0.2.7]\r\nX: y"; break;
		case 9: m.client_ip = "fe80::1%eth0"; break;
		case 10: m.client_ip = ""; break;
		case 11: m.nto = 0; break;
		case 12: m.to = NULL; break;
		case 13: m.reply_to = &bad_mb; break;
		case 14: m.cc = &bad_addr; break;
		case 15: m.subject = "Hi\r\nBcc: victim@example.net"; break;
		case 16: m.subject = "caf\xe9"; break;
		case 17: m.subject = NULL; break;
		case 18: m.auto_submitted = "no\r\nX: y"; break;
		case 19: m.date = (time_t)253402300800; break;
		case 20: m.text = NULL; break;
		case 21: m.from.addr = "nobody"; break;
		}
		buf_reset(&b);
		if (buf_adds(&b, "keep") == -1)
			abort();
		T_INT(message_build(&m, &b), -1, "refused build");
		T_OK(b.len == 4 && strcmp(b.data, "keep") == 0,
		    "case %d: buffer changed on refusal", k);
	}
	/* id of 60 is the longest allowed; its boundary line fits in 78 */
	golden_html(&m);
	m.id = "a23456789012345678901234567890123456789012345678901234567890";
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "60-octet id");
	check_message("60-octet id", &m, b.data, b.len, 998);
	T_OK(strstr(b.data, "\r\n boundary=\"=_f2m"
	    "a23456789012345678901234567890123456789012345678901234567890\"\r\n")
	    != NULL, "boundary line");
	buf_free(&b);
}

/* ---- attachments ---- */

/* A message with one attachment a, built and checked; the Content-Type
 * and Content-Disposition of its part go to ct and cd. */
static int
attach_one(const char *what, const struct message_attachment *a,
    struct buf *ct, struct buf *cd, size_t *nsect)
{
	static const char	 delim[] =
	    "\r\n--=_f2m_01hzx3k9q4w7m2n8p5r6t0v1yb\r\n";
	struct message		 m;
	struct buf		 b = BUF_INIT;
	const char		*p, *v;
	size_t			 vlen;
	int			 rc;

	golden_text(&m);
	m.attachments = a;
	m.nattachments = 1;
	buf_reset(ct);
	buf_reset(cd);
	*nsect = 0;
	if ((rc = message_build(&m, &b)) == 0) {
		check_mixed(what, &m, b.data, b.len, 78, nsect);
		/* the second delimiter opens the attachment */
		if ((p = strstr(b.data, delim)) == NULL ||
		    (p = strstr(p + 1, delim)) == NULL)
			abort();
		p += sizeof(delim) - 1;
		if ((v = field(p, b.data + b.len, "Content-Type: ", &vlen)) ==
		    NULL || buf_add(ct, v - 14, vlen + 14) == -1)
			abort();
		if ((v = field(p, b.data + b.len, "Content-Disposition: ",
		    &vlen)) == NULL || buf_add(cd, v - 21, vlen + 21) == -1)
			abort();
	}
	buf_free(&b);
	return rc;
}

static void
test_attach_names(void)
{
	static const struct {
		const char	*name, *ct, *cd;
	} v[] = {
		{ "x.pdf",
		  "Content-Type: application/pdf; name=\"x.pdf\"",
		  "Content-Disposition: attachment; filename=\"x.pdf\"" },
		/* '"': reformime would keep the '\' of a quoted-pair */
		{ "say \"hi\".txt",
		  "Content-Type: application/pdf; name*=UTF-8''say%20%22hi%22.txt",
		  "Content-Disposition: attachment;"
		  " filename*=UTF-8''say%20%22hi%22.txt" },
		{ "What? 100% 'sure' *now*; (1).pdf",
		  "Content-Type: application/pdf;"
		  " name=\"What? 100% 'sure' *now*; (1).pdf\"",
		  "Content-Disposition: attachment;"
		  " filename=\"What? 100% 'sure' *now*; (1).pdf\"" },
		/* one form only: no quoted fallback after the extended one */
		{ "caf\xc3\xa9.pdf",
		  "Content-Type: application/pdf; name*=UTF-8''caf%C3%A9.pdf",
		  "Content-Disposition: attachment; filename*=UTF-8''caf%C3%A9.pdf" },
		{ "=?UTF-8?B?SGk=?=.pdf",
		  "Content-Type: application/pdf;\r\n"
		  " name*=UTF-8''%3D%3FUTF-8%3FB%3FSGk%3D%3F%3D.pdf",
		  "Content-Disposition: attachment;\r\n"
		  " filename*=UTF-8''%3D%3FUTF-8%3FB%3FSGk%3D%3F%3D.pdf" },
		{ SMILE ".png",
		  "Content-Type: application/pdf; name*=UTF-8''%F0%9F%98%80.png",
		  "Content-Disposition: attachment; filename*=UTF-8''%F0%9F%98%80.png" },
		/* 59 encoded octets: the longest single extended filename */
		{ "\xc3\xa9" A10 A10 A10 A10 "aaaaaaaaa.pdf",
		  "Content-Type: application/pdf;\r\n"
		  " name*=UTF-8''%C3%A9" A10 A10 A10 A10 "aaaaaaaaa.pdf",
		  "Content-Disposition: attachment;\r\n"
		  " filename*=UTF-8''%C3%A9" A10 A10 A10 A10 "aaaaaaaaa.pdf" },
		/* 60: two sections, each whole characters, within 78; name
		 * is cut where filename is */
		{ "\xc3\xa9" A10 A10 A10 A10 A10 ".pdf",
		  "Content-Type: application/pdf;\r\n"
		  " name*0*=UTF-8''%C3%A9" A10 A10 A10 A10 A10 ".;\r\n"
		  " name*1*=pdf",
		  "Content-Disposition: attachment;\r\n"
		  " filename*0*=UTF-8''%C3%A9" A10 A10 A10 A10 A10 ".;\r\n"
		  " filename*1*=pdf" },
		{ "aaaaaaa" "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
		  "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" ".txt",
		  "Content-Type: application/pdf;\r\n"
		  " name*0*=UTF-8''aaaaaaa%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC"
		  "%E2%82%AC;\r\n"
		  " name*1*=%E2%82%AC%E2%82%AC.txt",
		  "Content-Disposition: attachment;\r\n"
		  " filename*0*=UTF-8''aaaaaaa%E2%82%AC%E2%82%AC%E2%82%AC%E2%82%AC"
		  "%E2%82%AC;\r\n"
		  " filename*1*=%E2%82%AC%E2%82%AC.txt" },
		/* 65 octets of ASCII: the longest quoted-string (77 octets) */
		{ A10 A10 A10 A10 A10 A10 "a.pdf",
		  "Content-Type: application/pdf;\r\n"
		  " name=\"" A10 A10 A10 A10 A10 A10 "a.pdf\"",
		  "Content-Disposition: attachment;\r\n"
		  " filename=\"" A10 A10 A10 A10 A10 A10 "a.pdf\"" },
		/* 66: sections rather than a line over 78 */
		{ A10 A10 A10 A10 A10 A10 "aa.pdf",
		  "Content-Type: application/pdf;\r\n"
		  " name*0*=UTF-8''" A10 A10 A10 A10 A10 "aaaaaaa;\r\n"
		  " name*1*=aaaaa.pdf",
		  "Content-Disposition: attachment;\r\n"
		  " filename*0*=UTF-8''" A10 A10 A10 A10 A10 "aaaaaaa;\r\n"
		  " filename*1*=aaaaa.pdf" },
	};
	struct message_attachment	 a = { NULL, "application/pdf", "%PDF-", 5 };
	struct buf			 ct = BUF_INIT, cd = BUF_INIT;
	size_t				 i, ns;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		a.filename = v[i].name;
		T_INT(attach_one("name", &a, &ct, &cd, &ns), 0, v[i].name);
		T_STR(ct.data, v[i].ct, "Content-Type");
		if (ct.data != NULL && strcmp(ct.data, v[i].ct) != 0)
			fprintf(stderr, "  as shown: [%s]\n", show(ct.data, ct.len));
		T_STR(cd.data, v[i].cd, "Content-Disposition");
		if (cd.data != NULL && strcmp(cd.data, v[i].cd) != 0)
			fprintf(stderr, "  as shown: [%s]\n", show(cd.data, cd.len));
	}
	buf_free(&ct);
	buf_free(&cd);
}

/*
 * Names of every length up to the limit, made of units of every width and
 * of the characters a quoted-string or an extended value must escape,
 * each starting at every offset against the section ends: all read back,
 * every line within 78 (check_attachment()), the same form for name and
 * filename.
 */
static void
test_attach_sweep(void)
{
	static const char	*unit[] = {
		"a", "\xc3\xa9", "\xe2\x82\xac", SMILE, " ", "\"", "=?", "%",
		"'", "*", "?", ";", "a\xc3\xa9", "\xe2\x80\x94 x",
	};
	struct message_attachment	 a = { NULL, "image/png", "\x89PNG", 4 };
	struct buf			 s = BUF_INIT, ct = BUF_INIT, cd = BUF_INIT;
	size_t				 u, k, j, x, ns, maxsect = 0, nbuilt = 0;

	for (u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
		for (j = 0; j < 4; j++) {
			for (k = 1;; k++) {
				buf_reset(&s);
				for (x = 0; x < j; x++)
					if (buf_addc(&s, 'b') == -1)
						abort();
				for (x = 0; x < k; x++)
					if (buf_adds(&s, unit[u]) == -1)
						abort();
				if (buf_adds(&s, ".pdf") == -1)
					abort();
				if (s.len > MESSAGE_MAX_FILENAME)
					break;
				a.filename = s.data;
				T_INT(attach_one("sweep", &a, &ct, &cd, &ns), 0,
				    show(s.data, s.len));
				if (ns > maxsect)
					maxsect = ns;
				nbuilt++;
			}
		}
	}
	T_OK(maxsect >= 10, "longest names in %zu sections", maxsect);
	T_OK(nbuilt > 2000, "%zu names", nbuilt);
	buf_free(&s);
	buf_free(&ct);
	buf_free(&cd);
}

static void
test_attach_refusals(void)
{
	static const struct {
		const char	*name, *type;
	} v[] = {
		{ NULL, "application/pdf" },
		{ "", "application/pdf" },
		{ ".", "application/pdf" },
		{ "..", "application/pdf" },
		{ "dir/x.pdf", "application/pdf" },
		{ "..\\x.pdf", "application/pdf" },
		{ "C:\\x.pdf", "application/pdf" },
		{ "tab\tx.pdf", "application/pdf" },
		{ "x.pdf\r\nBcc: victim@example.net", "application/pdf" },
		{ "x\n.pdf", "application/pdf" },
		{ "nul\x01.pdf", "application/pdf" },
		{ "esc\x1b[31m.pdf", "application/pdf" },
		{ "del\x7f.pdf", "application/pdf" },
		{ "c1 \xc2\x85.pdf", "application/pdf" },
		{ "ls \xe2\x80\xa8.pdf", "application/pdf" },
		{ "ps \xe2\x80\xa9.pdf", "application/pdf" },
		{ "gpj\xe2\x80\xae" "exe.jpg", "image/jpeg" },	/* U+202E */
		{ "x\xe2\x80\x8e.pdf", "application/pdf" },	/* U+200E */
		{ "x\xd8\x9c.pdf", "application/pdf" },		/* U+061C */
		{ "x\xe2\x81\xa6.pdf", "application/pdf" },	/* U+2066 */
		{ "x\xe2\x81\xa9.pdf", "application/pdf" },	/* U+2069 */
		{ "latin-1 caf\xe9.pdf", "application/pdf" },
		{ "bad \xff.pdf", "application/pdf" },
		{ "overlong \xc0\xaf.pdf", "application/pdf" },
		{ "overlong \xe0\x80\xaf.pdf", "application/pdf" },
		{ "surrogate \xed\xa0\x80.pdf", "application/pdf" },
		{ "too big \xf4\x90\x80\x80.pdf", "application/pdf" },
		{ "truncated \xe2\x82", "application/pdf" },
		{ "x.pdf", NULL },
		{ "x.pdf", "" },
		{ "x.pdf", "pdf" },
		{ "x.pdf", "application/" },
		{ "x.pdf", "/pdf" },
		{ "x.pdf", "application//pdf" },
		{ "x.pdf", "a/b/c" },
		{ "x.pdf", "application/pdf; name=evil.exe" },
		{ "x.pdf", "application/pdf\r\nBcc: victim@example.net" },
		{ "x.pdf", "text/plain " },
		{ "x.pdf", "text /plain" },
		{ "x.pdf", "text/pl\"ain" },
		{ "x.pdf", "text/pl=ain" },
		{ "x.pdf", "text/pl\xc3\xa9" },
		{ "x.pdf", "multipart/mixed" },
		{ "x.pdf", "Multipart/Alternative" },
		{ "x.pdf", "message/rfc822" },
		{ "x.pdf", "MESSAGE/partial" },
	};
	struct message_attachment	 a[MESSAGE_MAX_ATTACHMENTS + 1];
	struct message			 m;
	struct buf			 b = BUF_INIT, s = BUF_INIT;
	char				 sub[MESSAGE_MAX_SUBTYPE + 16];
	size_t				 i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		golden_text(&m);
		a[0] = (struct message_attachment){ "ok.pdf", "application/pdf",
		    "%PDF-", 5 };
		a[1] = (struct message_attachment){ v[i].name, v[i].type,
		    "%PDF-", 5 };
		m.attachments = a;
		m.nattachments = 2;
		buf_reset(&b);
		if (buf_adds(&b, "keep") == -1)
			abort();
		T_INT(message_build(&m, &b), -1, v[i].name ?
		    show(v[i].name, strlen(v[i].name)) : "(null)");
		T_OK(b.len == 4 && strcmp(b.data, "keep") == 0,
		    "attachment case %zu: buffer changed on refusal", i);
	}

	/* Limits: 255 octets of filename, 127 of subtype, 64 attachments. */
	golden_text(&m);
	m.attachments = a;
	m.nattachments = 1;
	for (i = 0; i < MESSAGE_MAX_FILENAME - 4; i++)
		if (buf_addc(&s, 'n') == -1)
			abort();
	if (buf_adds(&s, ".pdf") == -1)
		abort();
	a[0] = (struct message_attachment){ s.data, "application/pdf", "x", 1 };
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "255-octet filename");
	if (buf_addc(&s, 'x') == -1)
		abort();
	a[0].filename = s.data;
	buf_reset(&b);
	T_INT(message_build(&m, &b), -1, "256-octet filename");
	memset(sub, 'x', sizeof(sub));
	memcpy(sub, "application/", 12);
	sub[12 + MESSAGE_MAX_SUBTYPE] = '\0';
	a[0] = (struct message_attachment){ "x.bin", sub, "x", 1 };
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "127-octet subtype");
	sub[12 + MESSAGE_MAX_SUBTYPE] = 'x';
	sub[13 + MESSAGE_MAX_SUBTYPE] = '\0';
	buf_reset(&b);
	T_INT(message_build(&m, &b), -1, "128-octet subtype");
	a[0] = (struct message_attachment){ "x.bin", "application/pdf", NULL, 1 };
	buf_reset(&b);
	T_INT(message_build(&m, &b), -1, "NULL data");
	a[0].len = 0;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "NULL data, len 0");
	m.attachments = NULL;
	buf_reset(&b);
	T_INT(message_build(&m, &b), -1, "NULL attachments");
	for (i = 0; i <= MESSAGE_MAX_ATTACHMENTS; i++)
		a[i] = (struct message_attachment){ "x.pdf", "application/pdf",
		    "%PDF-", 5 };
	m.attachments = a;
	m.nattachments = MESSAGE_MAX_ATTACHMENTS;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "64 attachments");
	m.nattachments = MESSAGE_MAX_ATTACHMENTS + 1;
	buf_reset(&b);
	T_INT(message_build(&m, &b), -1, "65 attachments");
	buf_free(&b);
	buf_free(&s);
}

/* The display name of the field "name" (e.g. "\r\nFrom: ") of msg. */
static int
field_display(const char *msg, const char *name, struct buf *display)
{
	struct buf	 a = BUF_INIT;
	const char	*s, *e;
	int		 rc;

	if ((s = strstr(msg, name)) == NULL)
		return -1;
	s += strlen(name);
	for (e = s; !(e[0] == '\r' && e[2] != ' '); e++)
		;
	rc = mailbox_decode(s, (size_t)(e - s), display, &a);
	buf_free(&a);
	return rc;
}

/*
 * Line lengths under hostile lengths and mixes: Subject, From, Reply-To,
 * To and Cc display names of 1 to 144 units of every width, addresses of
 * every length an angle-addr line can hold (75 octets), a filename of the
 * same units: every header line, the parts' too, within 78 octets and
 * within 76 when it holds an encoded word, the field name included
 * (check_mixed(); it also reads Subject, body and file back), and the
 * display names read back.  Unbreakable ASCII runs and quoted-strings
 * longer than a line are not here: they stay whole up to 998 octets by
 * design (test_subject_roundtrip, test_mailbox_long).
 */
static void
test_line_lengths(void)
{
	static const char	*unit[] = {
		"\xc3\xa9", "\xe2\x82\xac", SMILE, "a\xc3\xa9 ", "word ", "=?",
		"x\xe2\x80\x94y ", "\xe6\x97\xa5\xe6\x9c\xac ", "=?UTF-8?B?x?= ",
		"\xc3\xa9t\xc3\xa9 ", "Ab ", "\"q\"\xc3\xa9", "a\xc3\xa9",
	};
	static const size_t	 counts[] = { 1, 2, 3, 5, 8, 13, 21, 34, 55, 89,
		144 };
	struct message_mailbox		 to[3], cc, reply;
	struct message_attachment	 a;
	struct message			 m;
	struct buf			 s = BUF_INIT, f = BUF_INIT, b = BUF_INIT,
					 d = BUF_INIT;
	char				 what[64], addr[3][80];
	size_t				 u, c, i, ns, nbuilt = 0;

	for (u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
		for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			buf_reset(&s);
			for (i = 0; i < counts[c]; i++)
				if (buf_adds(&s, unit[u]) == -1)
					abort();
			while (s.len > 1 && s.data[s.len - 1] == ' ')
				s.data[--s.len] = '\0';
			/* local parts of 1..64: addresses of 13..76 octets,
			 * the longest cut to 75 */
			for (i = 0; i < 3; i++) {
				snprintf(addr[i], sizeof(addr[i]), "%.*s@example.com",
				    (int)((counts[c] * 7 + i * 23) % 64 + 1),
				    "r123456789012345678901234567890123456789012345"
				    "678901234567890123");
				addr[i][75] = '\0';
				to[i] = (struct message_mailbox){ s.data, addr[i] };
			}
			to[1].display = unit[u];
			cc = (struct message_mailbox){ s.data, addr[2] };
			reply = (struct message_mailbox){ s.data, addr[0] };
			buf_reset(&f);
			for (i = 0; i < counts[c] && f.len + strlen(unit[u]) +
			    4 <= MESSAGE_MAX_FILENAME; i++)
				if (buf_adds(&f, unit[u]) == -1)
					abort();
			if (buf_adds(&f, ".pdf") == -1)
				abort();
			a = (struct message_attachment){ f.data, "application/pdf",
			    "%PDF-", 5 };
			golden_text(&m);
			m.subject = s.data;
			m.from.display = s.data;
			m.reply_to = &reply;
			m.to = to;
			m.nto = 3;
			m.cc = &cc;
			m.ncc = 1;
			m.attachments = &a;
			m.nattachments = 1;
			snprintf(what, sizeof(what), "lines %zu x%zu", u, counts[c]);
			buf_reset(&b);
			T_INT(message_build(&m, &b), 0, what);
			if (b.data == NULL)
				continue;
			check_mixed(what, &m, b.data, b.len, 78, &ns);
			buf_reset(&d);
			T_OK(field_display(b.data, "From: ", &d) == 0 &&
			    strcmp(d.data, s.data) == 0, "%s: From reads back as "
			    "[%s]", what, d.data ? d.data : "");
			buf_reset(&d);
			T_OK(field_display(b.data, "\r\nCc: ", &d) == 0 &&
			    strcmp(d.data, s.data) == 0, "%s: Cc reads back as "
			    "[%s]", what, d.data ? d.data : "");
			nbuilt++;
		}
	}
	T_INT(nbuilt, sizeof(unit) / sizeof(unit[0]) *
	    (sizeof(counts) / sizeof(counts[0])), "messages built");

	/* An angle-addr that ends a line at 76 (or 78) with a comma to come:
	 * every local-part length against a short display, encoded or not,
	 * up to the longest " <addr>," or "To: addr," of 78. */
	for (u = 0; u < 3; u++) {
		for (c = 1; c <= (u < 2 ? 62 : 61); c++) {
			snprintf(addr[0], sizeof(addr[0]), "%.*s@example.com",
			    (int)c, "l23456789012345678901234567890123456789012345"
			    "678901234567890123");
			for (i = 0; i < 3; i++)
				to[i] = (struct message_mailbox){ u == 0 ?
				    "\xc3\xa9" : (u == 1 ? "Ann" : NULL), addr[0] };
			golden_text(&m);
			m.to = to;
			m.nto = 3;
			m.cc = to;
			m.ncc = 2;
			if (u < 2) {	/* "Reply-To: addr" alone cannot fold */
				m.from = to[0];
				m.reply_to = &to[1];
			}
			snprintf(what, sizeof(what), "comma %zu/%zu", u, c);
			buf_reset(&b);
			T_INT(message_build(&m, &b), 0, what);
			if (b.data != NULL)
				check_message(what, &m, b.data, b.len, 78);
		}
	}
	buf_free(&s);
	buf_free(&f);
	buf_free(&b);
	buf_free(&d);
}

/* Text only, empty and large files, the longest id, many parts. */
static void
test_attach_build(void)
{
	struct message_attachment	 a[MESSAGE_MAX_ATTACHMENTS];
	struct message			 m;
	struct buf			 b = BUF_INIT, big = BUF_INIT;
	char				 names[MESSAGE_MAX_ATTACHMENTS][32];
	size_t				 i, k, ns;
	const char			*p;

	/* text/plain first, text with and without a final line break; a
	 * last line of 76 stays whole without the final soft break */
	for (i = 0; i < 4; i++) {
		golden_text(&m);
		if (i == 1)
			m.text_len--;	/* no final LF */
		if (i == 2) {
			m.text = A76;
			m.text_len = 76;
		}
		if (i == 3)
			m.text_len = 0;
		m.attachments = g_att;
		m.nattachments = 3;
		buf_reset(&b);
		T_INT(message_build(&m, &b), 0, "text + attachments");
		check_mixed("text + attachments", &m, b.data, b.len, 78, &ns);
		if (i == 2)
			T_OK(strstr(b.data, "\r\n\r\n" A76 "\r\n--=_f2m_") !=
			    NULL, "76-octet last line: [%s]", show(b.data, b.len));
	}
	T_OK(strstr(b.data, "\r\n--=_f2m_01hzx3k9q4w7m2n8p5r6t0v1yb\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "\r\n--=_f2m_01hzx3k9q4w7m2n8p5r6t0v1yb\r\n") != NULL,
	    "empty text part: [%s]", show(b.data, b.len));

	/* empty file, and one byte to four lines of base64 */
	for (i = 0; i < 240; i += i < 4 ? 1 : 57) {
		buf_reset(&big);
		for (k = 0; k < i; k++)
			if (buf_addc(&big, (int)(k * 131 + 7)) == -1)
				abort();
		golden_html(&m);
		a[0] = (struct message_attachment){ "data.bin",
		    "application/octet-stream", big.data, big.len };
		m.attachments = a;
		m.nattachments = 1;
		buf_reset(&b);
		T_INT(message_build(&m, &b), 0, "file size");
		check_mixed("file size", &m, b.data, b.len, 78, &ns);
	}
	/* 2 MiB of mixed octets in one part */
	buf_reset(&big);
	for (i = 0; i < 2 * 1024 * 1024; i++)
		if (buf_addc(&big, (int)((i * 7919) >> 3)) == -1)
			abort();
	golden_html(&m);
	a[0] = (struct message_attachment){ "big.bin",
	    "application/octet-stream", big.data, big.len };
	m.attachments = a;
	m.nattachments = 1;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "2 MB");
	check_mixed("2 MB", &m, b.data, b.len, 78, &ns);

	/* the longest id: both boundary lines within 78 */
	golden_html(&m);
	m.id = "a23456789012345678901234567890123456789012345678901234567890";
	m.attachments = g_att;
	m.nattachments = 3;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "60-octet id with attachments");
	check_mixed("60-octet id", &m, b.data, b.len, 998, &ns);
	p = strstr(b.data, "\r\n boundary=\"=_f2m_a2345678901234567890123456789"
	    "0123456789012345678901234567890\"\r\n");
	T_OK(p != NULL && p[80] == '\r', "outer boundary line of 78");

	/* 64 parts, names distinct, each back in its place */
	for (i = 0; i < MESSAGE_MAX_ATTACHMENTS; i++) {
		snprintf(names[i], sizeof(names[i]), "pi\xc3\xa8" "ce %zu.pdf", i);
		a[i] = (struct message_attachment){ names[i], "application/pdf",
		    names[i], strlen(names[i]) };
	}
	golden_text(&m);
	m.attachments = a;
	m.nattachments = MESSAGE_MAX_ATTACHMENTS;
	buf_reset(&b);
	T_INT(message_build(&m, &b), 0, "64 attachments");
	check_mixed("64 attachments", &m, b.data, b.len, 78, &ns);
	buf_free(&b);
	buf_free(&big);
}

int
main(void)
{
	test_qp();
	test_qp_sweep();
	test_base64();
	test_date();
	test_subject_exact();
	test_subject_roundtrip();
	test_refusals();
	test_mailbox();
	test_mailbox_long();
	test_build();
	test_build_refusals();
	test_attach_names();
	test_attach_sweep();
	test_attach_refusals();
	test_attach_build();
	test_line_lengths();
	test_golden();
	T_DONE();
}
