/*
 * mime: the bodies of a message (RFC 2045, 2046, 2231): quoted-printable,
 * base64 attachments, their parameters, multipart/alternative and
 * multipart/mixed; see mime.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/text.h"
#include "mail/message.h"
#include "mail/mime.h"

#define QP_LINE		76	/* RFC 2045 section 6.7 rule 5 */
#define BOUNDARY_PREFIX	"=_f2m"
#define MIXED_PREFIX	"=_f2m_"
#define PARAM_CHARSET	"UTF-8''"	/* RFC 2231 section 4, no language */
#define PARAM_ATTR_MAX	8	/* strlen("filename"), the longer attribute */

static const char	 hexdigits[] = "0123456789ABCDEF";

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

int
mime_attachments_ok(const struct message *m)
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
param_item(struct message_hdr *h, const char *s, size_t len)
{
	if (message_hdr_put(h, ";", 1) == -1)
		return -1;
	if (h->col + 1 + len + 1 > MESSAGE_HDR_SOFT) {
		if (message_hdr_fold(h) == -1)
			return -1;
	} else if (message_hdr_put(h, " ", 1) == -1)
		return -1;
	return message_hdr_put(h, s, len);
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

	if (!message_plain_ascii(s, len) ||
	    1 + PARAM_ATTR_MAX + len + 4 > MESSAGE_HDR_SOFT)
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
		if (t->len > start &&
		    1 + t->len + pad + w + 1 > MESSAGE_HDR_SOFT)
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
param_put(struct message_hdr *h, const char *attr, const char *s)
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
	struct message_hdr	 h;
	size_t		 mark;

	message_hdr_start(&h, b, 0);
	if (message_hdr_puts(&h, "Content-Type: ") == -1 ||
	    message_hdr_puts(&h, a->type) == -1 ||
	    param_put(&h, "name", a->filename) == -1 ||
	    buf_add(b, "\r\n", 2) == -1)
		return -1;
	message_hdr_start(&h, b, 0);
	if (message_hdr_puts(&h, "Content-Disposition: attachment") == -1 ||
	    param_put(&h, "filename", a->filename) == -1 ||
	    buf_adds(b, "\r\nContent-Transfer-Encoding: base64\r\n\r\n") == -1)
		return -1;
	mark = b->len;
	if (text_base64(b, a->data, a->len, 1) == -1)
		return -1;
	if (b->len > mark)
		buf_truncate(b, b->len - 2);
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

int
mime_body_put(struct buf *b, const struct message *m)
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

/*
 * Last line of defence: 7-bit, CRLF only, no line over 998 octets
 * (RFC 5322 section 2.1.1, RFC 2045 section 2.7).
 */
int
mime_wire_ok(const char *s, size_t len)
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
		    (unsigned char)s[i] >= 0x80 || ++col > MESSAGE_HDR_HARD)
			return 0;
	}
	return 1;
}

int
message_qp(struct buf *b, const char *s, size_t len)
{
	size_t	 mark = b->len;

	if (s == NULL && len > 0)
		return -1;
	if (qp_encode(b, s, len, 0) == -1) {
		buf_truncate(b, mark);
		return -1;
	}
	return 0;
}
