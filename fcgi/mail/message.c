/* message: RFC 5322 / MIME message building; see message.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/text.h"
#include "mail/message.h"

#define HDR_SOFT	78	/* RFC 5322 section 2.1.1 SHOULD */
#define HDR_HARD	998	/* RFC 5322 section 2.1.1 MUST */
#define QP_LINE		76	/* RFC 2045 section 6.7 rule 5 */
#define EW_MAX		75	/* RFC 2047 section 2 */
#define EW_LINE		76	/* RFC 2047 section 2: a line holding one */
#define EW_PREFIX	"=?UTF-8?B?"
#define EW_SUFFIX	"?="
#define EW_OVERHEAD	12	/* strlen(EW_PREFIX) + strlen(EW_SUFFIX) */
#define EW_BYTES	45	/* (EW_MAX - EW_OVERHEAD) / 4 * 3 */
#define BOUNDARY_PREFIX	"=_f2m"
#define MIXED_PREFIX	"=_f2m_"
#define PARAM_CHARSET	"UTF-8''"	/* RFC 2231 section 4, no language */
#define PARAM_ATTR_MAX	8	/* strlen("filename"), the longer attribute */

static const char	 hexdigits[] = "0123456789ABCDEF";

/* The header being written: the buffer and where the current line stands. */
struct hdr {
	struct buf	*b;
	size_t		 col;	/* octets on the current line */
	size_t		 max;	/* longest line written so far */
	int		 ew;	/* an encoded word is on the current line */
	int		 ew1;	/* one is on the first line */
	int		 folded;	/* the current line is not the first */
};

struct hdr_mark {
	size_t		 len;
	struct hdr	 h;
};

static void
buf_cut(struct buf *b, size_t len)
{
	if (b->data == NULL)
		return;
	b->len = len;
	b->data[len] = '\0';
}

/* A header field starting at column col of a line of b. */
static void
hdr_start(struct hdr *h, struct buf *b, size_t col)
{
	h->b = b;
	h->col = h->max = col;
	h->ew = h->ew1 = h->folded = 0;
}

static void
hdr_save(const struct hdr *h, struct hdr_mark *m)
{
	m->len = h->b->len;
	m->h = *h;
}

static void
hdr_restore(struct hdr *h, const struct hdr_mark *m)
{
	buf_cut(h->b, m->len);
	*h = m->h;
}

/* The current line now holds an encoded word. */
static void
hdr_ew(struct hdr *h)
{
	h->ew = 1;
	if (!h->folded)
		h->ew1 = 1;
}

/*
 * How long the current line may grow: EW_LINE once it holds an encoded
 * word or is to get one (ew), else HDR_SOFT.
 */
static size_t
hdr_limit(const struct hdr *h, int ew)
{
	return h->ew || ew ? EW_LINE : HDR_SOFT;
}

/* s holds no CR or LF. */
static int
hdr_put(struct hdr *h, const char *s, size_t len)
{
	if (buf_add(h->b, s, len) == -1)
		return -1;
	h->col += len;
	if (h->col > h->max)
		h->max = h->col;
	return 0;
}

static int
hdr_puts(struct hdr *h, const char *s)
{
	return hdr_put(h, s, strlen(s));
}

/* RFC 5322 section 2.2.3: CRLF then the white space that unfolds back. */
static int
hdr_fold(struct hdr *h)
{
	if (buf_add(h->b, "\r\n ", 3) == -1)
		return -1;
	h->col = 1;
	h->ew = 0;
	h->folded = 1;
	return 0;
}

/*
 * Text a header may carry once encoded: well-formed UTF-8 without C0
 * controls (TAB, CR, LF, NUL included), DEL, C1 controls, U+2028 or
 * U+2029.  The same set text_header_ok() refuses (docs/DESIGN.md "Details
 * that tests rely on"); checked again here so that no caller can fold or
 * end a header with a value it forgot to validate.
 */
static int
hdr_text_ok(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n;
	uint32_t		 cp;

	for (i = 0; i < len; i += n) {
		if ((n = text_utf8_next(p + i, len - i, &cp)) == 0)
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    cp == 0x2028 || cp == 0x2029)
			return 0;
	}
	return 1;
}

/*
 * Printable ASCII that no RFC 2047 decoder would take for an encoded word
 * (section 6.1: a word starting "=?").  Such text is written as it is;
 * anything else is encoded so that it reads back exactly as given.
 */
static int
plain_ascii(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
		if (s[i] == '=' && i + 1 < len && s[i + 1] == '?')
			return 0;
	}
	return 1;
}

/*
 * RFC 2047 B-encoded words of well-formed UTF-8, one per line.  Section 2:
 * a line holding an encoded word is at most 76 octets (EW_LINE), the
 * field name on the first line included, and a word at most 75; so the
 * first word is sized to end by column 76 (it still gets one character
 * when none fits there: a caller that starts past column 56 may see a
 * longer first line), the others are EW_MAX octets at most after the
 * fold's space.  Section 5 rule (3): every word holds whole characters;
 * section 6.2: the white space between two encoded words is dropped when
 * they are decoded, so the folds add nothing to the text.
 */
static int
ew_put(struct hdr *h, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 word[EW_MAX + 1];
	size_t			 i = 0, cap, n, cl, w;
	uint32_t		 cp;

	while (i < len) {
		if (i == 0) {
			cap = 0;
			if (h->col + EW_OVERHEAD < EW_LINE)
				cap = (EW_LINE - h->col - EW_OVERHEAD) / 4 * 3;
			if (cap > EW_BYTES)
				cap = EW_BYTES;
		} else {
			if (hdr_fold(h) == -1)
				return -1;
			cap = EW_BYTES;
		}
		for (n = 0; i + n < len; n += cl) {
			if ((cl = text_utf8_next(p + i + n, len - i - n,
			    &cp)) == 0)
				return -1;
			if (n + cl > cap && n > 0)
				break;
		}
		w = 0;
		memcpy(word, EW_PREFIX, sizeof(EW_PREFIX) - 1);
		w += sizeof(EW_PREFIX) - 1;
		w += text_base64_to(word + w, p + i, n);
		memcpy(word + w, EW_SUFFIX, sizeof(EW_SUFFIX) - 1);
		w += sizeof(EW_SUFFIX) - 1;
		if (hdr_put(h, word, w) == -1)
			return -1;
		hdr_ew(h);
		i += n;
	}
	return 0;
}

/*
 * Printable ASCII folded before the words that would pass column 78.  A
 * fold goes only before the last space of a run that a visible character
 * follows, never before the first word: RFC 5322 section 3.2.2 allows no
 * line of white space alone, and unfolding (removing the CRLF) gives the
 * text back unchanged.  A word too long for any line shows in h->max.
 */
static int
ascii_put(struct hdr *h, const char *s, size_t len)
{
	size_t	 i, start, end;
	int	 seen = 0;

	start = 0;
	while (start < len) {
		for (end = start + 1; end < len; end++) {
			if (s[end - 1] != ' ')
				seen = 1;
			if (seen && s[end] == ' ' &&
			    end + 1 < len && s[end + 1] != ' ')
				break;
		}
		if (start > 0 && h->col + (end - start) > HDR_SOFT) {
			/* The fold stands for the space at s[start]. */
			if (hdr_fold(h) == -1)
				return -1;
			i = start + 1;
		} else
			i = start;
		if (hdr_put(h, s + i, end - i) == -1)
			return -1;
		start = end;
	}
	return 0;
}

/* Unstructured text (RFC 5322 section 3.2.5), checked by the caller. */
static int
text_put(struct hdr *h, const char *s, size_t len)
{
	struct hdr_mark	 m;

	if (plain_ascii(s, len)) {
		hdr_save(h, &m);
		if (ascii_put(h, s, len) == -1)
			return -1;
		if (h->max <= HDR_HARD)
			return 0;
		hdr_restore(h, &m);
	}
	return ew_put(h, s, len);
}

/* Words of atext split by single spaces: a phrase that reads back as is. */
static int
atom_phrase(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ') {
			if (s[i + 1] == ' ')
				return 0;
		} else if (!addr_atext((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/*
 * A display name (RFC 5322 section 3.2.5 phrase): atoms when it is made of
 * them, else a quoted-string with '"' and '\' escaped (section 3.2.4), else
 * (non-ASCII, or too long for a line) RFC 2047 words, which section 5 rule
 * (3) allows in a phrase.  Quoted strings are not folded: too many readers
 * keep the CRLF of a fold inside quotes.
 */
static int
phrase_put(struct hdr *h, const char *s, size_t len)
{
	struct hdr_mark	 m;
	size_t		 i;

	if (plain_ascii(s, len)) {
		hdr_save(h, &m);
		if (atom_phrase(s, len)) {
			if (ascii_put(h, s, len) == -1)
				return -1;
		} else {
			if (hdr_put(h, "\"", 1) == -1)
				return -1;
			for (i = 0; i < len; i++) {
				if ((s[i] == '"' || s[i] == '\\') &&
				    hdr_put(h, "\\", 1) == -1)
					return -1;
				if (hdr_put(h, s + i, 1) == -1)
					return -1;
			}
			if (hdr_put(h, "\"", 1) == -1)
				return -1;
		}
		if (h->max <= HDR_HARD)
			return 0;
		hdr_restore(h, &m);
	}
	return ew_put(h, s, len);
}

/*
 * An addr-spec as addr_spec_ok() passes it, checked again with a
 * plainer rule: dot-atom local part, LDH-and-dot domain, one '@', within
 * the RFC 5321 lengths.  Nothing that could close the angle brackets,
 * start a comment or end the header gets through.
 */
static int
addr_ok(const char *s)
{
	const char	*at;
	size_t		 len;

	len = strlen(s);
	if (len == 0 || len > ADDR_MAX ||
	    (at = strchr(s, '@')) == NULL)
		return 0;
	return addr_local_ok(s, (size_t)(at - s)) &&
	    addr_ldh_ok(at + 1, strlen(at + 1), MESSAGE_MAX_HOST);
}

/* tail: octets that will follow on the last line (the ',' of a list). */
static int
mailbox_put(struct hdr *h, const struct message_mailbox *mb, size_t tail)
{
	size_t	 alen, dlen;

	if (mb->addr == NULL || !addr_ok(mb->addr))
		return -1;
	alen = strlen(mb->addr);
	dlen = mb->display != NULL ? strlen(mb->display) : 0;
	if (dlen > 0) {
		if (!hdr_text_ok(mb->display, dlen) ||
		    phrase_put(h, mb->display, dlen) == -1)
			return -1;
		/* angle-addr may stand on its own line (section 3.4). */
		if (h->col + 1 + alen + 2 + tail > hdr_limit(h, 0)) {
			if (hdr_fold(h) == -1)
				return -1;
		} else if (hdr_put(h, " ", 1) == -1)
			return -1;
		if (hdr_put(h, "<", 1) == -1 || hdr_put(h, mb->addr, alen) == -1 ||
		    hdr_put(h, ">", 1) == -1)
			return -1;
	} else if (hdr_put(h, mb->addr, alen) == -1)
		return -1;
	return 0;
}

/*
 * mailbox-list (RFC 5322 section 3.4): "a, b", a mailbox that would pass
 * column 78 (76 when that line holds an encoded word), its comma
 * included, goes to its own folded line after the comma.  Each mailbox is
 * laid out first as if it began a folded line, to learn the width of its
 * first line and whether that line holds an encoded word.
 */
static int
list_put(struct hdr *h, const struct message_mailbox *v, size_t n)
{
	struct buf	 tb = BUF_INIT;
	struct hdr	 t;
	const char	*nl;
	size_t		 i, first, comma;
	int		 ew1, rc = -1;

	if (n == 0 || v == NULL)
		return -1;
	if (mailbox_put(h, &v[0], n > 1) == -1)
		goto out;
	for (i = 1; i < n; i++) {
		comma = i + 1 < n;
		buf_reset(&tb);
		hdr_start(&t, &tb, 1);
		if (mailbox_put(&t, &v[i], comma) == -1)
			goto out;
		nl = memchr(tb.data, '\r', tb.len);
		first = nl != NULL ? (size_t)(nl - tb.data) : tb.len;
		ew1 = t.folded ? t.ew1 : t.ew;
		if (hdr_put(h, ",", 1) == -1)
			goto out;
		if (h->col + 1 + first + (nl == NULL ? comma : 0) >
		    hdr_limit(h, ew1)) {
			if (hdr_fold(h) == -1)
				goto out;
		} else if (hdr_put(h, " ", 1) == -1)
			goto out;
		if (buf_add(h->b, tb.data, tb.len) == -1)
			goto out;
		if (h->col + first > h->max)
			h->max = h->col + first;
		if (t.max > h->max)
			h->max = t.max;
		if (ew1)
			hdr_ew(h);
		if (nl != NULL) {
			h->col = t.col;
			h->ew = t.ew;
			h->folded = 1;
		} else
			h->col += tb.len;
	}
	rc = 0;
out:
	buf_free(&tb);
	return rc;
}

static int
id_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == MESSAGE_MAX_ID ||
		    !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return i > 0;
}

/* Printable IPv4 or IPv6 text: hex digits, '.' and ':' only, no zone. */
static int
ip_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == MESSAGE_MAX_IP ||
		    !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F') ||
		    s[i] == '.' || s[i] == ':'))
			return 0;
	}
	return i > 0;
}

/* RFC 3834 section 5 keyword, without parameters. */
static int
token_ok(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == 64 || !((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	}
	return i > 0;
}

/* A line break in QP input: LF or CRLF.  Returns its length or 0. */
static size_t
qp_break(const unsigned char *s, size_t len, size_t i)
{
	if (i < len && s[i] == '\n')
		return 1;
	if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n')
		return 2;
	return 0;
}

/*
 * Encodes the unit s[i..i+n) into out (12 octets at most) as it stands at
 * column col; returns the encoded length.  RFC 2045 section 6.7 rules 1-3:
 * '=', controls other than TAB (a lone CR among them), DEL and 8-bit
 * octets as =XX; a blank before a line break or the end as =XX.  A '.' or
 * "From " at the start of a line is encoded too (=2E, =46): section 6.7
 * note and RFC 4155, so neither a broken dot-stuffer nor an mbox writer can
 * change the text.
 */
static size_t
qp_unit(const unsigned char *s, size_t len, size_t i, size_t n, size_t col,
    char *out)
{
	size_t		 k, o = 0;
	unsigned char	 c;
	int		 lit;

	for (k = i; k < i + n; k++) {
		c = s[k];
		if (c == '=' || c == 0x7f || c >= 0x80)
			lit = 0;
		else if (c == ' ' || c == '\t')
			lit = k + 1 < len && qp_break(s, len, k + 1) == 0;
		else
			lit = c >= 0x20;
		if (col == 0 && k == i) {
			if (c == '.' ||
			    (c == 'F' && len - k >= 5 && memcmp(s + k, "From ", 5) == 0))
				lit = 0;
		}
		if (lit)
			out[o++] = (char)c;
		else {
			out[o++] = '=';
			out[o++] = hexdigits[c >> 4];
			out[o++] = hexdigits[c & 15];
		}
	}
	return o;
}

/*
 * The octets that go on one line together: a UTF-8 sequence stays whole
 * so that a reader of the raw message sees characters unbroken (any split
 * would decode right); any other octet stands alone.
 */
static size_t
qp_unit_len(const unsigned char *s, size_t len, size_t i)
{
	size_t		 n;
	uint32_t	 cp;

	n = text_utf8_next(s + i, len - i, &cp);
	return n > 1 ? n : 1;
}

/*
 * soft_end: the caller ends the output with a soft break when the text
 * does not end with a line break, so the last line keeps room for '='.
 */
static int
qp_encode(struct buf *b, const char *str, size_t len, int soft_end)
{
	const unsigned char	*s = (const unsigned char *)str;
	char			 enc[12];
	size_t			 i = 0, col = 0, n, w, br, limit;

	while (i < len) {
		if ((br = qp_break(s, len, i)) > 0) {
			if (buf_add(b, "\r\n", 2) == -1)
				return -1;
			col = 0;
			i += br;
			continue;
		}
		n = qp_unit_len(s, len, i);
		limit = QP_LINE - 1;
		if ((i + n == len && !soft_end) || qp_break(s, len, i + n) > 0)
			limit = QP_LINE;
		w = qp_unit(s, len, i, n, col, enc);
		if (col > 0 && col + w > limit) {
			if (buf_add(b, "=\r\n", 3) == -1)
				return -1;
			col = 0;
			w = qp_unit(s, len, i, n, col, enc);
		}
		if (buf_add(b, enc, w) == -1)
			return -1;
		col += w;
		i += n;
	}
	if (soft_end && col > 0 && buf_add(b, "=\r\n", 3) == -1)
		return -1;
	return 0;
}

/*
 * Last line of defence: 7-bit, CRLF only, no line over 998 octets
 * (RFC 5322 section 2.1.1, RFC 2045 section 2.7).
 */
static int
wire_ok(const char *s, size_t len)
{
	size_t	 i, col = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 == len || s[i + 1] != '\n')
				return 0;
			col = 0;
			i++;
			continue;
		}
		if (s[i] == '\n' || s[i] == '\0' ||
		    (unsigned char)s[i] >= 0x80 || ++col > HDR_HARD)
			return 0;
	}
	return 1;
}

static int
part_headers(struct buf *b, const char *type)
{
	return buf_printf(b, "Content-Type: %s; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n", type);
}

/*
 * The boundary "=_f2m<id>" cannot occur in a QP body: RFC 2045 section 6.7
 * puts '=' in QP output only before two hex digits or a line break, never
 * before '_' (section 5.1.1 requires a boundary absent from the parts).
 * With the longest id it stays within 70 characters (section 5.1.1) and
 * its folded line within 78.
 */
static int
alternative_put(struct buf *b, const struct message *m)
{
	if (buf_printf(b, "Content-Type: multipart/alternative;\r\n"
	    " boundary=\"" BOUNDARY_PREFIX "%s\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n"
	    "--" BOUNDARY_PREFIX "%s\r\n", m->id, m->id) == -1)
		return -1;
	/* The CRLF before each delimiter belongs to it (section 5.1.1). */
	if (part_headers(b, "text/plain") == -1 ||
	    qp_encode(b, m->text, m->text_len, 0) == -1 ||
	    buf_printf(b, "\r\n--" BOUNDARY_PREFIX "%s\r\n", m->id) == -1 ||
	    part_headers(b, "text/html") == -1 ||
	    qp_encode(b, m->html, m->html_len, 0) == -1 ||
	    buf_printf(b, "\r\n--" BOUNDARY_PREFIX "%s--\r\n", m->id) == -1)
		return -1;
	return 0;
}

/* Bidirectional formatting characters can show "gpj.exe" as "exe.jpg"
 * (Unicode TR 9, section 2); form.c refuses them too. */
static int
filename_cp_ok(uint32_t cp)
{
	return !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069) || cp == '/' || cp == '\\');
}

static int
filename_ok(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len, i, n;
	uint32_t		 cp;

	len = strnlen(s, MESSAGE_MAX_FILENAME + 1);
	if (len == 0 || len > MESSAGE_MAX_FILENAME || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < len; i += n) {
		if ((n = text_utf8_next(p + i, len - i, &cp)) == 0 ||
		    !filename_cp_ok(cp))
			return 0;
	}
	return 1;
}

/* RFC 2045 section 5.1 token: printable ASCII but SPACE and tspecials. */
static int
mime_token_char(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/*
 * type "/" subtype, each a token of at most MESSAGE_MAX_SUBTYPE (RFC 6838
 * section 4.2).  Multipart and message types are refused: RFC 2045
 * section 6.4 allows them no encoding but 7bit, 8bit and binary.
 */
static int
type_ok(const char *s)
{
	size_t	 i, n = 0;
	int	 slash = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '/') {
			if (slash || n == 0)
				return 0;
			slash = 1;
			n = 0;
		} else if (!mime_token_char((unsigned char)s[i]) ||
		    ++n > MESSAGE_MAX_SUBTYPE)
			return 0;
	}
	if (!slash || n == 0)
		return 0;
	return strncasecmp(s, "multipart/", 10) != 0 &&
	    strncasecmp(s, "message/", 8) != 0;
}

static int
attachments_ok(const struct message *m)
{
	const struct message_attachment	*a;
	size_t				 i;

	if (m->nattachments > MESSAGE_MAX_ATTACHMENTS ||
	    (m->nattachments > 0 && m->attachments == NULL))
		return 0;
	for (i = 0; i < m->nattachments; i++) {
		a = &m->attachments[i];
		if (a->filename == NULL || !filename_ok(a->filename) ||
		    a->type == NULL || !type_ok(a->type) ||
		    (a->data == NULL && a->len > 0))
			return 0;
	}
	return 1;
}

/*
 * RFC 5987 section 3.2.1 attr-char: what an extended value carries as it
 * is.  RFC 2231 section 7 allows a few more; these are the ones every
 * reader takes, and '=' is not among them.
 */
static int
attr_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$&+-.^_`|~", c) != NULL);
}

/* The character s[0..n) as an extended value (at most 12 octets). */
static size_t
pct_char(const unsigned char *s, size_t n, char *out)
{
	size_t	 k, o = 0;

	if (n == 1 && attr_char(s[0])) {
		out[0] = (char)s[0];
		return 1;
	}
	for (k = 0; k < n; k++) {
		out[o++] = '%';
		out[o++] = hexdigits[s[k] >> 4];
		out[o++] = hexdigits[s[k] & 15];
	}
	return o;
}

/*
 * "; " and one parameter, or ";" and a fold when the parameter would not
 * end by column 77: a ';' may have to follow it.
 */
static int
param_item(struct hdr *h, const char *s, size_t len)
{
	if (hdr_put(h, ";", 1) == -1)
		return -1;
	if (h->col + 1 + len + 1 > HDR_SOFT) {
		if (hdr_fold(h) == -1)
			return -1;
	} else if (hdr_put(h, " ", 1) == -1)
		return -1;
	return hdr_put(h, s, len);
}

/*
 * A filename that may stand as a quoted-string: printable ASCII without
 * "=?" (Python's email, MIME::Parser and ripmime decode RFC 2047 words even
 * inside quotes, which RFC 2047 section 5 forbids), without '"' and '\'
 * (reformime keeps the '\' of a quoted-pair, ripmime loses the name), and
 * short enough for a folded line of 78 with its ';' under the longer
 * attribute, so that name and filename get the same form.  No escape is
 * needed.
 */
static int
param_plain(const char *s, size_t len)
{
	size_t	 i;

	if (!plain_ascii(s, len) || 1 + PARAM_ATTR_MAX + len + 4 > HDR_SOFT)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/*
 * Appends the characters of s[*i..len) to t as an extended value while
 * SP, t, pad more octets and ';' fit a line of 78 (at least one
 * character); *i moves on.
 */
static int
pct_section(struct buf *t, const unsigned char *s, size_t len, size_t *i,
    size_t pad)
{
	char		 enc[12];
	size_t		 n, w, start = t->len;
	uint32_t	 cp;

	for (; *i < len; *i += n) {
		if ((n = text_utf8_next(s + *i, len - *i, &cp)) == 0)
			return -1;
		w = pct_char(s + *i, n, enc);
		if (t->len > start && 1 + t->len + pad + w + 1 > HDR_SOFT)
			break;
		if (buf_add(t, enc, w) == -1)
			return -1;
	}
	return 0;
}

/*
 * A parameter whose value is a checked filename, in exactly one form:
 * attr="name" when param_plain(), else the RFC 2231 extended value
 * attr*=UTF-8''%C3%A9... when it fits a line of 78, else sections
 * attr*0*=UTF-8''..., attr*1*=..., each of whole characters (Python's
 * email decodes each section on its own).  Sized for the longer attribute
 * (PARAM_ATTR_MAX), so name and filename get the same form and sections.
 * No quoted fallback next to an extended value: two forms of one name are
 * one parameter twice.
 *
 * Measured on Debian 12 with Python 3.11 email (policy.default), MIME-tools
 * 5.510 (MIME::Parser), reformime (maildrop 2.9.3) and ripmime 1.4.0.10,
 * the same form in Content-Type name and Content-Disposition filename, on
 * "report-2026.pdf", a 92-octet ASCII name, "Préfecture résumé – 2026
 * ✓.pdf" and a 114-octet non-ASCII name:
 *  - attr*= or attr*0*= followed by attr="fallback" (what we wrote
 *    before): Python "duplicate parameter name" on both headers; ripmime
 *    glues the two values into one name ("...✓.pdfPr_fecture");
 *  - attr="fallback" then attr*=: Python takes the fallback, with the
 *    defect; ripmime writes the fallback name;
 *  - attr="=?UTF-8?B?...?=" (RFC 2047 in quotes): Python defects "encoded
 *    word inside quoted string", reformime shows the raw words;
 *  - attr*0="..." sections without a charset: ripmime drops sections
 *    ("Quarterlyrth-east");
 *  - attr="name" for ASCII, attr*= alone and attr*0*= alone for anything:
 *    all four read the exact name, no defect.
 * The same for Content-Disposition alone (no Content-Type name).  Some
 * limits hold whatever the form: ripmime cuts a name at a '?' that no '='
 * precedes and keeps at most 128 octets of it, and Python's get_filename()
 * strips blanks at both ends.
 */
static int
param_put(struct hdr *h, const char *attr, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 t = BUF_INIT;
	size_t			 len, i = 0, sect, pad;
	int			 rc = -1;

	len = strlen(s);
	if ((pad = strlen(attr)) > PARAM_ATTR_MAX)
		goto out;
	pad = PARAM_ATTR_MAX - pad;
	if (param_plain(s, len)) {
		if (buf_printf(&t, "%s=\"%s\"", attr, s) != -1)
			rc = param_item(h, t.data, t.len);
		goto out;
	}
	if (buf_printf(&t, "%s*=" PARAM_CHARSET, attr) == -1 ||
	    pct_section(&t, p, len, &i, pad) == -1)
		goto out;
	if (i == len) {
		rc = param_item(h, t.data, t.len);
		goto out;
	}
	for (sect = 0, i = 0; i < len; sect++) {
		buf_reset(&t);
		if (buf_printf(&t, "%s*%zu*=%s", attr, sect,
		    sect == 0 ? PARAM_CHARSET : "") == -1 ||
		    pct_section(&t, p, len, &i, pad) == -1 ||
		    param_item(h, t.data, t.len) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&t);
	return rc;
}

/*
 * One attachment part, its base64 without the last CRLF: that one belongs
 * to the delimiter that follows (RFC 2046 section 5.1.1).
 */
static int
attachment_put(struct buf *b, const struct message_attachment *a)
{
	struct hdr	 h;
	size_t		 mark;

	hdr_start(&h, b, 0);
	if (hdr_puts(&h, "Content-Type: ") == -1 || hdr_puts(&h, a->type) == -1 ||
	    param_put(&h, "name", a->filename) == -1 ||
	    buf_add(b, "\r\n", 2) == -1)
		return -1;
	hdr_start(&h, b, 0);
	if (hdr_puts(&h, "Content-Disposition: attachment") == -1 ||
	    param_put(&h, "filename", a->filename) == -1 ||
	    buf_adds(b, "\r\nContent-Transfer-Encoding: base64\r\n\r\n") == -1)
		return -1;
	mark = b->len;
	if (text_base64(b, a->data, a->len, 1) == -1)
		return -1;
	if (b->len > mark)
		buf_cut(b, b->len - 2);
	return 0;
}

/*
 * The outer boundary "=_f2m_<id>" cannot occur at the start of a line in
 * any part (RFC 2046 section 5.1.1), and is not the inner one:
 *  - QP output has '=' only before two hex digits or CRLF (RFC 2045
 *    section 6.7), never before '_';
 *  - base64 output (section 6.8) is the 64 characters A-Z a-z 0-9 + /,
 *    then '=' padding only at the end of the data, before CRLF: no '-',
 *    no '_', no "=_";
 *  - each part header line starts with a field name or, folded, with a
 *    space, never with "--", whatever a filename holds;
 *  - the inner delimiter "--=_f2m<id>" has an id character (A-Za-z0-9)
 *    where the outer one has '_': neither is a prefix of the other, as
 *    section 5.1.2 requires of nested multiparts.
 * With the longest id the boundary has 66 characters (section 5.1.1: at
 * most 70) and its folded line 78.
 */
static int
mixed_put(struct buf *b, const struct message *m)
{
	size_t	 i;

	if (buf_printf(b, "Content-Type: multipart/mixed;\r\n"
	    " boundary=\"" MIXED_PREFIX "%s\"\r\n"
	    "Content-Transfer-Encoding: 7bit\r\n\r\n"
	    "This is a multi-part message in MIME format.\r\n"
	    "--" MIXED_PREFIX "%s\r\n", m->id, m->id) == -1)
		return -1;
	if (m->html == NULL) {
		if (part_headers(b, "text/plain") == -1 ||
		    qp_encode(b, m->text, m->text_len, 0) == -1)
			return -1;
	} else if (alternative_put(b, m) == -1)
		return -1;
	for (i = 0; i < m->nattachments; i++) {
		if (buf_printf(b, "\r\n--" MIXED_PREFIX "%s\r\n", m->id) == -1 ||
		    attachment_put(b, &m->attachments[i]) == -1)
			return -1;
	}
	return buf_printf(b, "\r\n--" MIXED_PREFIX "%s--\r\n", m->id);
}

static int
body_put(struct buf *b, const struct message *m)
{
	if (m->nattachments > 0)
		return mixed_put(b, m);
	if (m->html != NULL)
		return alternative_put(b, m);
	if (part_headers(b, "text/plain") == -1 ||
	    qp_encode(b, m->text, m->text_len, 1) == -1)
		return -1;
	return 0;
}

static int
build(const struct message *m, struct buf *out)
{
	struct hdr	 h;
	char		 date[64];
	const char	*as;

	if (m->subject == NULL || m->id == NULL || !id_ok(m->id) ||
	    m->hostname == NULL ||
	    !addr_ldh_ok(m->hostname, strlen(m->hostname), MESSAGE_MAX_HOST) ||
	    (m->client_ip != NULL && !ip_ok(m->client_ip)) ||
	    (m->text == NULL && m->text_len > 0) ||
	    !hdr_text_ok(m->subject, strlen(m->subject)) || !attachments_ok(m))
		return -1;
	as = m->auto_submitted != NULL ? m->auto_submitted : "auto-generated";
	if (!token_ok(as))
		return -1;
	message_date(m->date, date, sizeof(date));
	if (date[0] == '\0')
		return -1;

	hdr_start(&h, out, 0);
	if (hdr_puts(&h, "From: ") == -1 || mailbox_put(&h, &m->from, 0) == -1 ||
	    buf_add(out, "\r\n", 2) == -1)
		return -1;
	if (m->reply_to != NULL) {
		hdr_start(&h, out, 0);
		if (hdr_puts(&h, "Reply-To: ") == -1 ||
		    mailbox_put(&h, m->reply_to, 0) == -1 ||
		    buf_add(out, "\r\n", 2) == -1)
			return -1;
	}
	hdr_start(&h, out, 0);
	if (hdr_puts(&h, "To: ") == -1 || list_put(&h, m->to, m->nto) == -1 ||
	    buf_add(out, "\r\n", 2) == -1)
		return -1;
	if (m->ncc > 0) {
		hdr_start(&h, out, 0);
		if (hdr_puts(&h, "Cc: ") == -1 ||
		    list_put(&h, m->cc, m->ncc) == -1 ||
		    buf_add(out, "\r\n", 2) == -1)
			return -1;
	}
	hdr_start(&h, out, 0);
	if (hdr_puts(&h, "Subject: ") == -1 ||
	    text_put(&h, m->subject, strlen(m->subject)) == -1 ||
	    buf_add(out, "\r\n", 2) == -1)
		return -1;
	if (buf_printf(out, "Date: %s\r\n"
	    "Message-ID: <%s@%s>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Auto-Submitted: %s\r\n", date, m->id, m->hostname, as) == -1)
		return -1;
	if (m->client_ip != NULL &&
	    buf_printf(out, "X-Originating-IP: [%s]\r\n", m->client_ip) == -1)
		return -1;
	return body_put(out, m);
}

int
message_build(const struct message *m, struct buf *out)
{
	size_t	 mark = out->len;

	if (build(m, out) == -1 ||
	    !wire_ok(out->data + mark, out->len - mark)) {
		buf_cut(out, mark);
		return -1;
	}
	return 0;
}

int
message_header_text(struct buf *b, const char *s, size_t len, size_t used)
{
	struct hdr	 h;
	size_t		 mark = b->len;

	if (used > HDR_SOFT || (s == NULL && len > 0) || !hdr_text_ok(s, len))
		return -1;
	hdr_start(&h, b, used);
	if (text_put(&h, s, len) == -1) {
		buf_cut(b, mark);
		return -1;
	}
	return 0;
}

int
message_mailbox(struct buf *b, const struct message_mailbox *mb)
{
	struct hdr	 h;
	size_t		 mark = b->len;

	hdr_start(&h, b, 0);
	if (mailbox_put(&h, mb, 0) == -1) {
		buf_cut(b, mark);
		return -1;
	}
	return 0;
}

int
message_qp(struct buf *b, const char *s, size_t len)
{
	size_t	 mark = b->len;

	if (s == NULL && len > 0)
		return -1;
	if (qp_encode(b, s, len, 0) == -1) {
		buf_cut(b, mark);
		return -1;
	}
	return 0;
}

/* RFC 5322 section 3.3; names in English whatever the locale. */
void
message_date(time_t t, char *dst, size_t dstsize)
{
	static const char	*days[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char	*months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;
	int		 n;

	if (dstsize == 0)
		return;
	dst[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900 || tm.tm_wday < 0 || tm.tm_wday > 6 ||
	    tm.tm_mon < 0 || tm.tm_mon > 11)
		return;
	n = snprintf(dst, dstsize, "%s, %d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= dstsize)
		dst[0] = '\0';
}
