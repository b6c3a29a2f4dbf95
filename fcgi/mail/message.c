/* message: RFC 5322 headers around mime.c's body; see message.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/text.h"
#include "mail/message.h"
#include "mail/mime.h"

#define EW_MAX		75	/* RFC 2047 section 2 */
#define EW_LINE		76	/* RFC 2047 section 2: a line holding one */
#define EW_PREFIX	"=?UTF-8?B?"
#define EW_SUFFIX	"?="
#define EW_OVERHEAD	12	/* strlen(EW_PREFIX) + strlen(EW_SUFFIX) */
#define EW_BYTES	45	/* (EW_MAX - EW_OVERHEAD) / 4 * 3 */

struct hdr_mark {
	size_t			 len;
	struct message_hdr	 h;
};

/* A header field starting at column col of a line of b. */
void
message_hdr_start(struct message_hdr *h, struct buf *b, size_t col)
{
	h->b = b;
	h->col = h->max = col;
	h->ew = h->ew1 = h->folded = 0;
}

static void
hdr_save(const struct message_hdr *h, struct hdr_mark *m)
{
	m->len = h->b->len;
	m->h = *h;
}

static void
hdr_restore(struct message_hdr *h, const struct hdr_mark *m)
{
	buf_truncate(h->b, m->len);
	*h = m->h;
}

/* The current line now holds an encoded word. */
static void
hdr_ew(struct message_hdr *h)
{
	h->ew = 1;
	if (!h->folded)
		h->ew1 = 1;
}

/*
 * How long the current line may grow: EW_LINE once it holds an encoded
 * word or is to get one (ew), else MESSAGE_HDR_SOFT.
 */
static size_t
hdr_limit(const struct message_hdr *h, int ew)
{
	return h->ew || ew ? EW_LINE : MESSAGE_HDR_SOFT;
}

/* s holds no CR or LF. */
int
message_hdr_put(struct message_hdr *h, const char *s, size_t len)
{
	if (buf_add(h->b, s, len) == -1)
		return -1;
	h->col += len;
	if (h->col > h->max)
		h->max = h->col;
	return 0;
}

int
message_hdr_puts(struct message_hdr *h, const char *s)
{
	return message_hdr_put(h, s, strlen(s));
}

/* RFC 5322 section 2.2.3: CRLF then the white space that unfolds back. */
int
message_hdr_fold(struct message_hdr *h)
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
int
message_plain_ascii(const char *s, size_t len)
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
ew_put(struct message_hdr *h, const char *s, size_t len)
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
			if (message_hdr_fold(h) == -1)
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
		if (message_hdr_put(h, word, w) == -1)
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
ascii_put(struct message_hdr *h, const char *s, size_t len)
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
		if (start > 0 && h->col + (end - start) > MESSAGE_HDR_SOFT) {
			/* The fold stands for the space at s[start]. */
			if (message_hdr_fold(h) == -1)
				return -1;
			i = start + 1;
		} else
			i = start;
		if (message_hdr_put(h, s + i, end - i) == -1)
			return -1;
		start = end;
	}
	return 0;
}

/* Unstructured text (RFC 5322 section 3.2.5), checked by the caller. */
static int
text_put(struct message_hdr *h, const char *s, size_t len)
{
	struct hdr_mark	 m;

	if (message_plain_ascii(s, len)) {
		hdr_save(h, &m);
		if (ascii_put(h, s, len) == -1)
			return -1;
		if (h->max <= MESSAGE_HDR_HARD)
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
phrase_put(struct message_hdr *h, const char *s, size_t len)
{
	struct hdr_mark	 m;
	size_t		 i;

	if (message_plain_ascii(s, len)) {
		hdr_save(h, &m);
		if (atom_phrase(s, len)) {
			if (ascii_put(h, s, len) == -1)
				return -1;
		} else {
			if (message_hdr_put(h, "\"", 1) == -1)
				return -1;
			for (i = 0; i < len; i++) {
				if ((s[i] == '"' || s[i] == '\\') &&
				    message_hdr_put(h, "\\", 1) == -1)
					return -1;
				if (message_hdr_put(h, s + i, 1) == -1)
					return -1;
			}
			if (message_hdr_put(h, "\"", 1) == -1)
				return -1;
		}
		if (h->max <= MESSAGE_HDR_HARD)
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
mailbox_put(struct message_hdr *h, const struct message_mailbox *mb,
    size_t tail)
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
			if (message_hdr_fold(h) == -1)
				return -1;
		} else if (message_hdr_put(h, " ", 1) == -1)
			return -1;
		if (message_hdr_put(h, "<", 1) == -1 ||
		    message_hdr_put(h, mb->addr, alen) == -1 ||
		    message_hdr_put(h, ">", 1) == -1)
			return -1;
	} else if (message_hdr_put(h, mb->addr, alen) == -1)
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
list_put(struct message_hdr *h, const struct message_mailbox *v, size_t n)
{
	struct buf	 tb = BUF_INIT;
	struct message_hdr	 t;
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
		message_hdr_start(&t, &tb, 1);
		if (mailbox_put(&t, &v[i], comma) == -1)
			goto out;
		nl = memchr(tb.data, '\r', tb.len);
		first = nl != NULL ? (size_t)(nl - tb.data) : tb.len;
		ew1 = t.folded ? t.ew1 : t.ew;
		if (message_hdr_put(h, ",", 1) == -1)
			goto out;
		if (h->col + 1 + first + (nl == NULL ? comma : 0) >
		    hdr_limit(h, ew1)) {
			if (message_hdr_fold(h) == -1)
				goto out;
		} else if (message_hdr_put(h, " ", 1) == -1)
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
		if (i == MESSAGE_MAX_ID || !text_alnum((unsigned char)s[i]))
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
		if (i == MESSAGE_MAX_IP || (text_hexval((unsigned char)s[i]) < 0 &&
		    s[i] != '.' && s[i] != ':'))
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
		if (i == 64 || !(text_alnum((unsigned char)s[i]) ||
		    s[i] == '-'))
			return 0;
	}
	return i > 0;
}

static int
build(const struct message *m, struct buf *out)
{
	struct message_hdr	 h;
	char		 date[64];
	const char	*as;

	if (m->subject == NULL || m->id == NULL || !id_ok(m->id) ||
	    m->hostname == NULL ||
	    !addr_ldh_ok(m->hostname, strlen(m->hostname), MESSAGE_MAX_HOST) ||
	    (m->client_ip != NULL && !ip_ok(m->client_ip)) ||
	    (m->text == NULL && m->text_len > 0) ||
	    !hdr_text_ok(m->subject, strlen(m->subject)) ||
	    !mime_attachments_ok(m))
		return -1;
	as = m->auto_submitted != NULL ? m->auto_submitted : "auto-generated";
	if (!token_ok(as))
		return -1;
	message_date(m->date, date, sizeof(date));
	if (date[0] == '\0')
		return -1;

	message_hdr_start(&h, out, 0);
	if (message_hdr_puts(&h, "From: ") == -1 ||
	    mailbox_put(&h, &m->from, 0) == -1 ||
	    buf_add(out, "\r\n", 2) == -1)
		return -1;
	if (m->reply_to != NULL) {
		message_hdr_start(&h, out, 0);
		if (message_hdr_puts(&h, "Reply-To: ") == -1 ||
		    mailbox_put(&h, m->reply_to, 0) == -1 ||
		    buf_add(out, "\r\n", 2) == -1)
			return -1;
	}
	message_hdr_start(&h, out, 0);
	if (message_hdr_puts(&h, "To: ") == -1 ||
	    list_put(&h, m->to, m->nto) == -1 ||
	    buf_add(out, "\r\n", 2) == -1)
		return -1;
	if (m->ncc > 0) {
		message_hdr_start(&h, out, 0);
		if (message_hdr_puts(&h, "Cc: ") == -1 ||
		    list_put(&h, m->cc, m->ncc) == -1 ||
		    buf_add(out, "\r\n", 2) == -1)
			return -1;
	}
	message_hdr_start(&h, out, 0);
	if (message_hdr_puts(&h, "Subject: ") == -1 ||
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
	return mime_body_put(out, m);
}

int
message_build(const struct message *m, struct buf *out)
{
	size_t	 mark = out->len;

	if (build(m, out) == -1 ||
	    !mime_wire_ok(out->data + mark, out->len - mark)) {
		buf_truncate(out, mark);
		return -1;
	}
	return 0;
}

int
message_header_text(struct buf *b, const char *s, size_t len, size_t used)
{
	struct message_hdr	 h;
	size_t		 mark = b->len;

	if (used > MESSAGE_HDR_SOFT || (s == NULL && len > 0) ||
	    !hdr_text_ok(s, len))
		return -1;
	message_hdr_start(&h, b, used);
	if (text_put(&h, s, len) == -1) {
		buf_truncate(b, mark);
		return -1;
	}
	return 0;
}

int
message_mailbox(struct buf *b, const struct message_mailbox *mb)
{
	struct message_hdr	 h;
	size_t		 mark = b->len;

	message_hdr_start(&h, b, 0);
	if (mailbox_put(&h, mb, 0) == -1) {
		buf_truncate(b, mark);
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
