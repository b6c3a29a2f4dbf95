/*
 * fuzz_message: message building with hostile header and body text.
 *
 * Input: one flag octet, then subject NUL display NUL text [NUL html],
 * then optionally ATT_MARK and attachments: a count octet (0..3 in its low
 * bits), then per attachment filename NUL type NUL, two octets of length
 * (big-endian) and that many data octets (fewer at the end of the input);
 * an empty type is "application/pdf", a missing attachment "x.pdf".
 * Invariants (abort() when broken):
 *   - a header value is refused exactly when an independent predicate
 *     finds a control, DEL, C1, U+2028/9 or invalid UTF-8 in it;
 *   - accepted output has CRLF line ends only, no line over 998 octets,
 *     no 8-bit octet in the header section (nor anywhere: all QP/base64);
 *   - the Subject, a display name, a QP body and base64 decode (with the
 *     decoders below, not message.c's code) back to the input;
 *   - QP lines stay within 76 octets, '=' only starts =XX or a soft break,
 *     no line starts with '.' or "From ";
 *   - the multipart boundary appears only as the three delimiters;
 *   - attachments: the message is refused exactly when an independent
 *     predicate finds a bad filename or type; else the top header is the
 *     one without attachments but for Content-Type, the first part is
 *     that message's body, the outer delimiter stands exactly at n + 2
 *     line starts, and each attachment part holds exactly Content-Type,
 *     Content-Disposition and base64 that decodes back to the data, with
 *     name and filename in one and the same form (quoted, RFC 2231
 *     extended or in sections, each section whole UTF-8; never two forms
 *     of one parameter) reading back as the filename; part header lines
 *     within 78 but for a type too long to fold;
 *   - every header line holding "=?" is within 76 octets (RFC 2047
 *     section 2), those of the top header too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/text.h"
#include "mail/message.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	65536
#define ATT_MARK	"\xfe\xff" "ATT"
#define ATT_MAX		3
#define FUZZ_ID		"abcdefghijklmnopqrstuvwxyz"

static void
fail(const char *why, const char *s, size_t len)
{
	fprintf(stderr, "fuzz_message: %s\n", why);
	if (s != NULL)
		fwrite(s, 1, len, stderr);
	fputc('\n', stderr);
	abort();
}

static void
xadd(struct buf *b, const void *p, size_t len)
{
	if (buf_add(b, p, len) == -1)
		fail("out of memory", NULL, 0);
}

/* One well-formed UTF-8 character at s: its length, or 0. */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t		 n, k;
	uint32_t	 c = s[0];

	if (c < 0x80)
		n = 1;
	else if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * What a header may not carry: not well-formed UTF-8 (RFC 3629), or a
 * C0 control, DEL, C1 control, U+2028 or U+2029.
 */
static int
header_forbidden(const unsigned char *s, size_t len)
{
	size_t		 i, n;
	uint32_t	 c;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(s + i, len - i, &c)) == 0)
			return 1;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			return 1;
	}
	return 0;
}

/* A filename message.h refuses. */
static int
filename_forbidden(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i, n;
	uint32_t		 c;

	if (len == 0 || len > 255 || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0 || header_forbidden(p, len))
		return 1;
	for (i = 0; i < len; i += n) {
		n = utf8_next(p + i, len - i, &c);
		if (c == '/' || c == '\\' || c == 0x061c || c == 0x200e ||
		    c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
		    (c >= 0x2066 && c <= 0x2069))
			return 1;
	}
	return 0;
}

/* A type message.h refuses: not token "/" token (RFC 2045 section 5.1),
 * a half over 127, or a multipart or message type. */
static int
type_forbidden(const char *s)
{
	const char	*slash = strchr(s, '/');
	size_t		 i;

	if (slash == NULL || slash == s || slash[1] == '\0' ||
	    strchr(slash + 1, '/') != NULL || (size_t)(slash - s) > 127 ||
	    strlen(slash + 1) > 127)
		return 1;
	for (i = 0; s[i] != '\0'; i++)
		if (s + i != slash && ((unsigned char)s[i] <= 0x20 ||
		    (unsigned char)s[i] >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?=", s[i]) != NULL))
			return 1;
	return strncasecmp(s, "multipart/", 10) == 0 ||
	    strncasecmp(s, "message/", 8) == 0;
}

/* Line rules: CRLF only, each line at most max octets, 7-bit. */
static int
wire_ok(const char *s, size_t len, size_t max, int open_end)
{
	size_t	 i, col = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				return 0;
			i++;
			col = 0;
			continue;
		}
		if (s[i] == '\n' || (unsigned char)s[i] >= 0x80 || ++col > max)
			return 0;
	}
	return open_end || col == 0;
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
b64_decode(const char *s, size_t len, struct buf *out)
{
	int		 v[4], k = 0, pad = 0, c;
	size_t		 i;
	unsigned char	 o;

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
			o = (unsigned char)((v[0] << 2) | (v[1] >> 4));
			xadd(out, &o, 1);
			o = (unsigned char)(((v[1] & 15) << 4) | (v[2] >> 2));
			if (pad < 2)
				xadd(out, &o, 1);
			o = (unsigned char)(((v[2] & 3) << 6) | v[3]);
			if (pad < 1)
				xadd(out, &o, 1);
			k = 0;
			if (pad)
				pad = 3;
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

static int
qp_decode(const char *s, size_t len, struct buf *out)
{
	size_t		 i;
	int		 h, l;
	unsigned char	 o;

	for (i = 0; i < len; i++) {
		if (s[i] != '=') {
			xadd(out, s + i, 1);
			continue;
		}
		if (i + 2 < len && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 ||
		    (l = hexval(s[i + 2])) < 0)
			return -1;
		o = (unsigned char)(h * 16 + l);
		xadd(out, &o, 1);
		i += 2;
	}
	return 0;
}

static void
crlf_norm(const char *s, size_t len, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			xadd(out, "\r", 1);
		xadd(out, s + i, 1);
	}
}

/*
 * QP output shape: lines <= 76, '=' before hex or CRLF, no blank ending a
 * line or the text, no line starting with '.' or "From ".
 */
static int
qp_shape_ok(const char *s, size_t len)
{
	size_t	 i;

	if (!wire_ok(s, len, 76, 1))
		return 0;
	if (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t'))
			return 0;
		if (s[i] == '=' && !(i + 2 < len && ((hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) ||
		    (s[i + 1] == '\r' && s[i + 2] == '\n'))))
			return 0;
		if ((i == 0 || s[i - 1] == '\n') && (s[i] == '.' ||
		    (len - i >= 5 && memcmp(s + i, "From ", 5) == 0)))
			return 0;
	}
	return 1;
}

/* One "=?UTF-8?B?...?=" word: 1 decoded, 0 not a word, -1 broken. */
static int
ew_decode(const char *w, size_t len, struct buf *out)
{
	struct buf	 t = BUF_INIT;
	int		 rc;

	if (len < 12 || memcmp(w, "=?UTF-8?B?", 10) != 0 ||
	    memcmp(w + len - 2, "?=", 2) != 0)
		return 0;
	if (len > 75)
		return -1;
	rc = -1;
	if (b64_decode(w + 10, len - 12, &t) == 0 &&
	    !header_forbidden((unsigned char *)t.data, t.len)) {
		xadd(out, t.data ? t.data : "", t.len);
		rc = 1;
	}
	buf_free(&t);
	return rc;
}

/* Unfold, then decode words, dropping the blanks between two of them. */
static int
hdr_decode(const char *s, size_t len, struct buf *out)
{
	struct buf	 u = BUF_INIT, d = BUF_INIT;
	size_t		 i, ws, we;
	int		 prev = 0, r, rc = -1;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 2 < len && s[i + 1] == '\n' &&
		    s[i + 2] == ' ') {
			i++;
			continue;
		}
		if (s[i] == '\r' || s[i] == '\n')
			goto out;
		xadd(&u, s + i, 1);
	}
	for (i = 0; i < u.len;) {
		for (ws = i; i < u.len && u.data[i] == ' '; i++)
			;
		for (we = i; we < u.len && u.data[we] != ' '; we++)
			;
		buf_reset(&d);
		r = we > i ? ew_decode(u.data + i, we - i, &d) : 0;
		if (r == -1)
			goto out;
		if (r == 1) {
			if (!prev)
				xadd(out, u.data + ws, i - ws);
			xadd(out, d.data ? d.data : "", d.len);
		} else
			xadd(out, u.data + ws, we - ws);
		prev = r;
		i = we;
	}
	xadd(out, "", 0);
	rc = 0;
out:
	buf_free(&u);
	buf_free(&d);
	return rc;
}

/* "display <addr>" or "addr" back to the display name. */
static int
display_decode(const char *s, size_t len, const char *addr, struct buf *out)
{
	size_t	 alen = strlen(addr), dlen, i;

	if (len == alen && memcmp(s, addr, alen) == 0) {
		xadd(out, "", 0);
		return 0;
	}
	if (len < alen + 3 || s[len - 1] != '>' || s[len - alen - 2] != '<' ||
	    memcmp(s + len - alen - 1, addr, alen) != 0 ||
	    s[len - alen - 3] != ' ')
		return -1;
	dlen = len - alen - 3;
	if (dlen >= 2 && s[dlen - 2] == '\r' && s[dlen - 1] == '\n')
		dlen -= 2;
	if (dlen == 0 || s[0] != '"')
		return hdr_decode(s, dlen, out);
	if (dlen < 2 || s[dlen - 1] != '"')
		return -1;
	for (i = 1; i < dlen - 1; i++) {
		if (s[i] == '"' || s[i] == '\r' || s[i] == '\n')
			return -1;
		if (s[i] == '\\' && ++i >= dlen - 1)
			return -1;
		xadd(out, s + i, 1);
	}
	xadd(out, "", 0);
	return 0;
}

static int
same(const struct buf *b, const char *s, size_t len)
{
	return b->len == len && (len == 0 || memcmp(b->data, s, len) == 0);
}

static void
check_qp_b64(const char *s, size_t len, int wrap)
{
	struct buf	 b = BUF_INIT, d = BUF_INIT, n = BUF_INIT;

	if (message_qp(&b, s, len) == -1)
		fail("message_qp refused", s, len);
	if (!qp_shape_ok(b.data, b.len))
		fail("QP shape", b.data, b.len);
	if (qp_decode(b.data, b.len, &d) == -1)
		fail("QP does not decode", b.data, b.len);
	crlf_norm(s, len, &n);
	if (!same(&d, n.data, n.len))
		fail("QP does not read back", b.data, b.len);
	buf_reset(&b);
	buf_reset(&d);
	if (text_base64(&b, s, len, wrap) == -1)
		fail("text_base64 refused", s, len);
	if (!wire_ok(b.data, b.len, wrap ? 76 : SIZE_MAX, !wrap) ||
	    (!wrap && memchr(b.data ? b.data : "", '\r', b.len) != NULL))
		fail("base64 lines", b.data, b.len);
	if (b64_decode(b.data, b.len, &d) == -1 || !same(&d, s, len))
		fail("base64 does not read back", b.data, b.len);
	buf_free(&b);
	buf_free(&d);
	buf_free(&n);
}

static void
check_subject(const char *s, size_t len, size_t used)
{
	struct buf	 b = BUF_INIT, d = BUF_INIT;
	size_t		 i;
	int		 rc;

	for (i = 0; i < used; i++)
		xadd(&b, i + 2 < used ? "X" : (i + 2 == used ? ":" : " "), 1);
	rc = message_header_text(&b, s, len, used);
	if ((rc == -1) != header_forbidden((const unsigned char *)s, len))
		fail(rc ? "subject refused" : "subject accepted", s, len);
	if (rc == 0) {
		xadd(&b, "\r\n", 2);
		if (!wire_ok(b.data, b.len, 998, 0))
			fail("subject lines", b.data, b.len);
		if (hdr_decode(b.data + used, b.len - used - 2, &d) == -1 ||
		    !same(&d, s, len))
			fail("subject does not read back", b.data, b.len);
	} else if (b.len != used)
		fail("buffer changed on refusal", b.data, b.len);
	buf_free(&b);
	buf_free(&d);
}

static void
check_display(const char *s)
{
	struct message_mailbox	 mb = { s, "someone@example.com" };
	struct buf		 b = BUF_INIT, d = BUF_INIT;
	int			 rc;

	rc = message_mailbox(&b, &mb);
	if ((rc == -1) != header_forbidden((const unsigned char *)s, strlen(s)))
		fail(rc ? "display refused" : "display accepted", s, strlen(s));
	if (rc == 0) {
		if (!wire_ok(b.data, b.len, 998, 1))
			fail("mailbox lines", b.data, b.len);
		if (display_decode(b.data, b.len, mb.addr, &d) == -1 ||
		    !same(&d, s, strlen(s)))
			fail("display does not read back", b.data, b.len);
	}
	buf_free(&b);
	buf_free(&d);
}

static size_t
count(const char *hay, size_t len, const char *needle)
{
	const char	*p = hay, *e = hay + len;
	size_t		 n = 0, nl = strlen(needle);

	while ((p = memmem(p, (size_t)(e - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return n;
}

/* RFC 5987 attr-char. */
static int
attr_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* One extended section, percent-decoded, whole UTF-8 on its own. */
static int
section_decode(const char *s, size_t len, struct buf *out)
{
	struct buf	 t = BUF_INIT;
	size_t		 i;
	int		 h, l, rc = -1;
	unsigned char	 o;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			if (!attr_char((unsigned char)s[i]))
				goto out;
			xadd(&t, s + i, 1);
			continue;
		}
		if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 ||
		    (l = hexval(s[i + 2])) < 0)
			goto out;
		o = (unsigned char)(h * 16 + l);
		xadd(&t, &o, 1);
		i += 2;
	}
	/* controls are refused, so only UTF-8 validity matters here */
	if (t.len > 0 && header_forbidden((unsigned char *)t.data, t.len))
		goto out;
	xadd(out, t.data ? t.data : "", t.len);
	rc = 0;
out:
	buf_free(&t);
	return rc;
}

/*
 * Parameter attr of an unfolded header field value into value: the quoted
 * form alone, or an extended one alone, single or sections 0..n-1 in
 * order; *nsect gets the sections.  first gets the value before the first
 * ';'.  Returns 0 quoted, 1 extended, -1 broken (both forms included).
 */
static int
param_read(const char *u, size_t len, const char *attr, struct buf *first,
    struct buf *value, size_t *nsectp)
{
	struct buf	 name = BUF_INIT, val = BUF_INIT;
	size_t		 i, alen = strlen(attr), n, nsect = 0;
	char		*end;
	int		 rc = -1, quoted, plain = 0, single = 0;

	for (i = 0; i < len && u[i] != ';'; i++)
		xadd(first, u + i, 1);
	while (i < len) {
		if (u[i++] != ';')
			goto out;
		while (i < len && u[i] == ' ')
			i++;
		buf_reset(&name);
		buf_reset(&val);
		for (; i < len && u[i] != '='; i++) {
			if (u[i] == ' ' || u[i] == ';' || u[i] == '"')
				goto out;
			xadd(&name, u + i, 1);
		}
		if (i++ == len || name.len == 0)
			goto out;
		quoted = i < len && u[i] == '"';
		if (quoted) {
			for (i++; i < len && u[i] != '"'; i++) {
				if (u[i] == '\\' && ++i == len)
					goto out;
				xadd(&val, u + i, 1);
			}
			if (i++ == len)
				goto out;
		} else
			for (; i < len && u[i] != ';'; i++)
				xadd(&val, u + i, 1);
		xadd(&val, "", 0);
		xadd(&name, "", 0);
		if (strncmp(name.data, attr, alen) != 0)
			goto out;	/* we write no other parameter */
		if (name.len == alen) {
			if (!quoted || plain++)
				goto out;
			xadd(value, val.data, val.len);
			continue;
		}
		if (quoted || name.data[alen] != '*')
			goto out;
		if (name.len == alen + 1) {
			if (single++ || nsect > 0 ||
			    strncmp(val.data, "UTF-8''", 7) != 0 ||
			    section_decode(val.data + 7, val.len - 7, value) == -1)
				goto out;
			continue;
		}
		n = strtoul(name.data + alen + 1, &end, 10);
		if (single || n != nsect || end == name.data + alen + 1 ||
		    *end != '*' || end[1] != '\0' ||
		    (n > 0 && name.data[alen + 1] == '0'))
			goto out;
		if (n == 0 && strncmp(val.data, "UTF-8''", 7) != 0)
			goto out;
		if (section_decode(val.data + (n == 0 ? 7 : 0),
		    val.len - (n == 0 ? 7 : 0), value) == -1)
			goto out;
		nsect++;
	}
	if ((plain != 0) == (single != 0 || nsect > 0))
		goto out;
	rc = plain ? 0 : 1;
	*nsectp = nsect;
	xadd(value, "", 0);
	xadd(first, "", 0);
out:
	buf_free(&name);
	buf_free(&val);
	return rc;
}

/* The filenames written as quoted-strings: printable ASCII without '"',
 * '\' and "=?", with " filename=\"...\";" within 78 octets. */
static int
quoted_form(const char *s)
{
	if (strlen(s) > 78 - 13)
		return 0;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\' ||
		    (s[0] == '=' && s[1] == '?'))
			return 0;
	return 1;
}

/* Each line of s[0..len) that holds "=?": 76 octets at most. */
static int
ew_lines_ok(const char *s, size_t len)
{
	const char	*e, *end = s + len;

	for (; s < end; s = e + 2) {
		if ((e = memmem(s, (size_t)(end - s), "\r\n", 2)) == NULL)
			e = end;
		if ((size_t)(e - s) > 76 &&
		    memmem(s, (size_t)(e - s), "=?", 2) != NULL)
			return 0;
		if (e == end)
			break;
	}
	return 1;
}

/*
 * The header field "name" (e.g. "Content-Type: ") that starts at line
 * start p, unfolded into u; returns the first octet after the field.
 */
static const char *
field_read(const char *p, const char *end, const char *name, struct buf *u,
    const char *all, size_t alen)
{
	size_t	 n = strlen(name);

	if ((size_t)(end - p) < n || memcmp(p, name, n) != 0)
		fail("part header missing", all, alen);
	for (p += n; p < end; p++) {
		if (p[0] == '\r' && p + 2 < end && p[1] == '\n' && p[2] == ' ') {
			p++;
			continue;
		}
		if (p[0] == '\r')
			return p + 2;
		xadd(u, p, 1);
	}
	fail("part header not ended", all, alen);
	return NULL;
}

static void
check_attachment(const struct message_attachment *a, const char *p,
    const char *end, const char *all, size_t alen)
{
	static const char	*hdr[] = { "Content-Type: ", "name",
		"Content-Disposition: ", "filename" };
	struct buf		 u = BUF_INIT, first = BUF_INIT, v = BUF_INIT,
				 d = BUF_INIT;
	const char		*hend, *s, *e;
	size_t			 ns[2] = { 0, 0 };
	int			 k, ext[2] = { 0, 0 };

	if ((hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4)) == NULL)
		fail("attachment part without a blank line", all, alen);
	for (s = p; s < hend + 2; s = e + 2) {
		e = memmem(s, (size_t)(hend + 2 - s), "\r\n", 2);
		/* over 78: only a type too long to fold */
		if ((size_t)(e - s) > 78 && !(s == p &&
		    (size_t)(e - s) <= 15 + strlen(a->type)))
			fail("part header line over 78", all, alen);
		if (e - s >= 2 && s[0] == '-' && s[1] == '-')
			fail("part header line starts with --", all, alen);
	}
	if (!ew_lines_ok(p, (size_t)(hend + 2 - p)))
		fail("part header line with =? over 76", all, alen);
	s = p;
	for (k = 0; k < 4; k += 2) {
		buf_reset(&u);
		buf_reset(&first);
		buf_reset(&v);
		s = field_read(s, hend + 2, hdr[k], &u, all, alen);
		ext[k / 2] = param_read(u.data, u.len, hdr[k + 1], &first, &v,
		    &ns[k / 2]);
		if (ext[k / 2] == -1)
			fail("parameter does not parse", all, alen);
		if (strcmp(first.data, k == 0 ? a->type : "attachment") != 0)
			fail("part type or disposition", all, alen);
		if (strcmp(v.data, a->filename) != 0)
			fail("filename does not read back", all, alen);
		if (ext[k / 2] == quoted_form(a->filename))
			fail("quoted or extended form chosen wrongly", all, alen);
	}
	if (ext[0] != ext[1] || ns[0] != ns[1])
		fail("name and filename in different forms", all, alen);
	if (s + 35 != hend + 2 ||
	    memcmp(s, "Content-Transfer-Encoding: base64\r\n", 35) != 0)
		fail("not exactly Content-Transfer-Encoding: base64 last", all,
		    alen);
	if (!wire_ok(hend + 4, (size_t)(end - hend - 4), 76, 1) ||
	    b64_decode(hend + 4, (size_t)(end - hend - 4), &d) == -1 ||
	    !same(&d, a->data, a->len))
		fail("attachment data does not read back", all, alen);
	buf_free(&u);
	buf_free(&first);
	buf_free(&v);
	buf_free(&d);
}

/*
 * The first part p[0..plen) against the body of the message without
 * attachments o[0..olen): the same, but that a text/plain part has no
 * final soft break, so its last line may wrap differently (75 or 76
 * octets); then it must have the QP shape and decode the same.
 */
static void
check_first(const struct message *m, const char *p, size_t plen,
    const char *o, size_t olen, const struct buf *b)
{
	static const char	 th[] = "Content-Type: text/plain; "
	    "charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
	    "\r\n\r\n";
	struct buf		 d = BUF_INIT, d0 = BUF_INIT;
	size_t			 n = sizeof(th) - 1;

	if (plen == olen && memcmp(p, o, plen) == 0)
		return;
	if (m->html != NULL || plen < n || olen < n ||
	    memcmp(p, th, n) != 0 || memcmp(o, th, n) != 0 ||
	    !qp_shape_ok(p + n, plen - n) ||
	    qp_decode(p + n, plen - n, &d) == -1 ||
	    qp_decode(o + n, olen - n, &d0) == -1 || !same(&d, d0.data, d0.len))
		fail("first part is not the body", b->data, b->len);
	buf_free(&d);
	buf_free(&d0);
}

/*
 * b: the message with attachments; b0: without.  Same header but for
 * Content-Type; first part b0's body; outer delimiters only where they
 * belong.
 */
static void
check_mixed(const struct message *m, const struct buf *b,
    const struct buf *b0)
{
	static const char	 top[] = "\r\nContent-Type: multipart/mixed;\r\n"
	    " boundary=\"=_f2m_" FUZZ_ID "\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n";
	static const char	 delim[] = "\r\n--=_f2m_" FUZZ_ID;
	const char		*ct, *ct0, *p, *q, *body0, *end = b->data + b->len;
	size_t			 i;

	ct = strstr(b->data, "\r\nContent-Type: ");
	ct0 = strstr(b0->data, "\r\nContent-Type: ");
	if (ct == NULL || ct0 == NULL || ct - b->data != ct0 - b0->data ||
	    memcmp(b->data, b0->data, (size_t)(ct - b->data)) != 0 ||
	    strncmp(ct, top, sizeof(top) - 1) != 0)
		fail("top header", b->data, b->len);
	if (count(b->data, b->len, delim) != m->nattachments + 2)
		fail("outer delimiter count", b->data, b->len);
	p = ct + sizeof(top) - 3;
	body0 = ct0 + 2;
	for (i = 0; i <= m->nattachments; i++) {
		if (strncmp(p, delim, sizeof(delim) - 1) != 0 ||
		    strncmp(p + sizeof(delim) - 1, "\r\n", 2) != 0)
			fail("delimiter line", b->data, b->len);
		p += sizeof(delim) + 1;
		q = memmem(p, (size_t)(end - p), delim, sizeof(delim) - 1);
		if (q == NULL)
			fail("part not closed", b->data, b->len);
		if (i == 0)
			check_first(m, p, (size_t)(q - p), body0,
			    b0->len - (size_t)(body0 - b0->data), b);
		else
			check_attachment(&m->attachments[i - 1], p, q, b->data,
			    b->len);
		p = q;
	}
	if (strcmp(p + sizeof(delim) - 1, "--\r\n") != 0)
		fail("close delimiter", b->data, b->len);
}

/* What every message shows: lines, Subject, the alternative boundary. */
static void
check_plain(const char *subject, const char *html, const struct buf *b)
{
	struct buf	 d = BUF_INIT;
	const char	*hend, *s, *e;

	if (!wire_ok(b->data, b->len, 998, 0))
		fail("message lines", b->data, b->len);
	if ((hend = strstr(b->data, "\r\n\r\n")) == NULL)
		fail("no header end", b->data, b->len);
	if (!ew_lines_ok(b->data, (size_t)(hend + 2 - b->data)))
		fail("header line with =? over 76", b->data, b->len);
	if ((s = strstr(b->data, "\r\nSubject: ")) == NULL || s > hend)
		fail("no Subject", b->data, b->len);
	s += 11;
	for (e = s; !(e[0] == '\r' && e[2] != ' '); e++)
		;
	if (hdr_decode(s, (size_t)(e - s), &d) == -1 ||
	    !same(&d, subject, strlen(subject)))
		fail("Subject does not read back", b->data, b->len);
	/* The header may quote anything; the body holds only delimiters. */
	if (html != NULL && (count(hend, b->len - (size_t)(hend - b->data),
	    "=_f2m" FUZZ_ID) != 3 ||
	    count(hend, b->len - (size_t)(hend - b->data),
	    "\r\n--=_f2m" FUZZ_ID) != 3))
		fail("boundary in a part", b->data, b->len);
	buf_free(&d);
}

static void
check_build(uint8_t flags, const char *subject, const char *display,
    const char *text, size_t tlen, const char *html, size_t hlen,
    const struct message_attachment *att, size_t natt)
{
	struct message_mailbox	 to[2] = {
		{ display, "to@example.com" }, { "Plain", "x@example.org" }
	};
	struct message_mailbox	 reply = { display, "visitor@example.net" };
	struct message		 m;
	struct buf		 b = BUF_INIT, b0 = BUF_INIT;
	size_t			 i;
	int			 rc, bad, bad_att = 0;

	memset(&m, 0, sizeof(m));
	m.from.display = "Forms";
	m.from.addr = "forms@example.com";
	m.reply_to = (flags & 1) ? &reply : NULL;
	m.to = to;
	m.nto = (flags & 2) ? 2 : 1;
	m.cc = (flags & 4) ? to : NULL;
	m.ncc = (flags & 4) ? 2 : 0;
	m.subject = subject;
	m.id = FUZZ_ID;
	m.hostname = "www.example.com";
	m.date = 1795825586;
	m.client_ip = (flags & 8) ? "2001:db8::7" : NULL;
	m.text = text;
	m.text_len = tlen;
	m.html = html;
	m.html_len = hlen;
	m.attachments = att;
	m.nattachments = natt;
	rc = message_build(&m, &b);
	bad = header_forbidden((const unsigned char *)subject,
	    strlen(subject)) ||
	    header_forbidden((const unsigned char *)display, strlen(display));
	for (i = 0; i < natt; i++)
		if (filename_forbidden(att[i].filename) ||
		    type_forbidden(att[i].type))
			bad_att = 1;
	if ((rc == -1) != (bad || bad_att))
		fail(rc ? "message refused" : "message accepted", subject,
		    strlen(subject));
	if (rc == -1 && !bad && natt > 0) {
		/* refused for an attachment: fine without it */
		m.nattachments = 0;
		if (message_build(&m, &b0) == -1)
			fail("refused without attachments", subject,
			    strlen(subject));
		check_plain(subject, html, &b0);
	}
	if (rc == -1)
		goto out;
	if (natt == 0) {
		check_plain(subject, html, &b);
		goto out;
	}
	m.nattachments = 0;
	if (message_build(&m, &b0) == -1)
		fail("refused without attachments", subject, strlen(subject));
	m.nattachments = natt;
	check_plain(subject, html, &b0);
	if (!wire_ok(b.data, b.len, 998, 0))
		fail("message lines", b.data, b.len);
	check_mixed(&m, &b, &b0);
out:
	buf_free(&b);
	buf_free(&b0);
}

/*
 * The attachments section after ATT_MARK (see the top).  Strings point
 * into p, which is modified (NULs end them).
 */
static size_t
read_attachments(char *p, size_t len, struct message_attachment *att)
{
	size_t	 n, i, dl;
	char	*q, *end = p + len;

	if (len == 0)
		return 0;
	n = (unsigned char)*p++ & 3;
	for (i = 0; i < n; i++) {
		att[i] = (struct message_attachment){ "x.pdf", "application/pdf",
		    "", 0 };
		if (p >= end || (q = memchr(p, '\0', (size_t)(end - p))) == NULL)
			continue;
		att[i].filename = p;
		p = q + 1;
		if (p >= end || (q = memchr(p, '\0', (size_t)(end - p))) == NULL)
			continue;
		if (q > p)
			att[i].type = p;
		p = q + 1;
		if (end - p < 2)
			continue;
		dl = (size_t)(unsigned char)p[0] << 8 | (unsigned char)p[1];
		p += 2;
		if (dl > (size_t)(end - p))
			dl = (size_t)(end - p);
		att[i].data = p;
		att[i].len = dl;
		p += dl;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message_attachment	 att[ATT_MAX];
	char				*copy, *p, *end, *q, *mark;
	char				*field[4] = { NULL, NULL, NULL, NULL };
	size_t				 len[4] = { 0, 0, 0, 0 }, k, natt = 0;
	uint8_t				 flags;

	if (size < 1 || size > FUZZ_MAX)
		return 0;
	flags = data[0];
	check_qp_b64((const char *)data + 1, size - 1, flags & 1);

	/* Fields end at NUL; the html, last, runs to ATT_MARK or the end. */
	if ((copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	p = copy;
	end = copy + size - 1;
	if ((mark = memmem(copy, size - 1, ATT_MARK, sizeof(ATT_MARK) - 1)) !=
	    NULL) {
		natt = read_attachments(mark + sizeof(ATT_MARK) - 1,
		    (size_t)(end - mark) - (sizeof(ATT_MARK) - 1), att);
		*mark = '\0';
		end = mark;
	}
	for (k = 0; k < 4; k++) {
		field[k] = p;
		if (k == 3 || (q = memchr(p, '\0', (size_t)(end - p))) == NULL) {
			len[k] = (size_t)(end - p);
			break;
		}
		len[k] = (size_t)(q - p);
		p = q + 1;
	}
	check_subject(field[0], len[0], 2 + (size_t)(flags >> 4) * 5);
	if (field[1] != NULL)
		check_display(field[1]);
	check_build(flags, field[0], field[1] != NULL ? field[1] : "",
	    field[2], len[2], field[3], len[3], att, natt);
	free(copy);
	return 0;
}
