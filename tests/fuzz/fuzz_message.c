/*
 * fuzz_message: message building with hostile header and body text.
 *
 * Input: one flag octet, then subject NUL display NUL text [NUL html].
 * Invariants (abort() when broken):
 *   - a header value is refused exactly when an independent predicate
 *     finds a control, DEL, C1, U+2028/9 or invalid UTF-8 in it;
 *   - accepted output has CRLF line ends only, no line over 998 octets,
 *     no 8-bit octet in the header section (nor anywhere: all QP/base64);
 *   - the Subject, a display name, a QP body and base64 decode (with the
 *     decoders below, not message.c's code) back to the input;
 *   - QP lines stay within 76 octets, '=' only starts =XX or a soft break,
 *     no line starts with '.' or "From ";
 *   - the multipart boundary appears only as the three delimiters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "message.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	65536

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

/*
 * What a header may not carry: not well-formed UTF-8 (RFC 3629), or a
 * C0 control, DEL, C1 control, U+2028 or U+2029.
 */
static int
header_forbidden(const unsigned char *s, size_t len)
{
	size_t		 i = 0, n, k;
	uint32_t	 c;

	while (i < len) {
		c = s[i];
		if (c < 0x80)
			n = 1;
		else if (c >= 0xc2 && c <= 0xdf)
			n = 2, c &= 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3, c &= 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4, c &= 0x07;
		else
			return 1;
		if (len - i < n)
			return 1;
		for (k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 1;
			c = (c << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 1;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			return 1;
		i += n;
	}
	return 0;
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
	if (message_base64(&b, s, len, wrap) == -1)
		fail("message_base64 refused", s, len);
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

static void
check_build(uint8_t flags, const char *subject, const char *display,
    const char *text, size_t tlen, const char *html, size_t hlen)
{
	struct message_mailbox	 to[2] = {
		{ display, "to@example.com" }, { "Plain", "x@example.org" }
	};
	struct message_mailbox	 reply = { display, "visitor@example.net" };
	struct message		 m;
	struct buf		 b = BUF_INIT, d = BUF_INIT;
	const char		*hend, *s, *e;
	int			 rc, bad;

	memset(&m, 0, sizeof(m));
	m.from.display = "Forms";
	m.from.addr = "forms@example.com";
	m.reply_to = (flags & 1) ? &reply : NULL;
	m.to = to;
	m.nto = (flags & 2) ? 2 : 1;
	m.cc = (flags & 4) ? to : NULL;
	m.ncc = (flags & 4) ? 2 : 0;
	m.subject = subject;
	m.id = "abcdefghijklmnopqrstuvwxyz";
	m.hostname = "www.example.com";
	m.date = 1795825586;
	m.client_ip = (flags & 8) ? "2001:db8::7" : NULL;
	m.text = text;
	m.text_len = tlen;
	m.html = html;
	m.html_len = hlen;
	rc = message_build(&m, &b);
	bad = header_forbidden((const unsigned char *)subject,
	    strlen(subject)) ||
	    header_forbidden((const unsigned char *)display, strlen(display));
	if ((rc == -1) != bad)
		fail(rc ? "message refused" : "message accepted", subject,
		    strlen(subject));
	if (rc == -1)
		goto out;
	if (!wire_ok(b.data, b.len, 998, 0))
		fail("message lines", b.data, b.len);
	if ((hend = strstr(b.data, "\r\n\r\n")) == NULL)
		fail("no header end", b.data, b.len);
	if ((s = strstr(b.data, "\r\nSubject: ")) == NULL || s > hend)
		fail("no Subject", b.data, b.len);
	s += 11;
	for (e = s; !(e[0] == '\r' && e[2] != ' '); e++)
		;
	if (hdr_decode(s, (size_t)(e - s), &d) == -1 ||
	    !same(&d, subject, strlen(subject)))
		fail("Subject does not read back", b.data, b.len);
	/* The header may quote anything; the body holds only delimiters. */
	if (html != NULL && (count(hend, b.len - (size_t)(hend - b.data),
	    "=_f2mabcdefghijklmnopqrstuvwxyz") != 3 ||
	    count(hend, b.len - (size_t)(hend - b.data),
	    "\r\n--=_f2mabcdefghijklmnopqrstuvwxyz") != 3))
		fail("boundary in a part", b.data, b.len);
out:
	buf_free(&b);
	buf_free(&d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*copy, *p, *end, *q, *field[4] = { NULL, NULL, NULL, NULL };
	size_t		 len[4] = { 0, 0, 0, 0 }, k;
	uint8_t		 flags;

	if (size < 1 || size > FUZZ_MAX)
		return 0;
	flags = data[0];
	check_qp_b64((const char *)data + 1, size - 1, flags & 1);

	/* Fields end at NUL; the html, last, runs to the end. */
	if ((copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	p = copy;
	end = copy + size - 1;
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
	    field[2], len[2], field[3], len[3]);
	free(copy);
	return 0;
}
