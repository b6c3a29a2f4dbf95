/*
 * fuzz_message_roundtrip: build a notification the way req_submit does
 * (form fields rendered through the text and HTML templates, then
 * message_build) from hostile values, read the result back with the
 * strict reader of strict_mime.h, and demand the same fields back.
 *
 * Input: flags, selector, then NUL-ended strings: subject, From display,
 * To display, second To display, Cc display, and with FL_RAWADDR the From,
 * To and Reply-To addresses; then field name NUL value NUL pairs, up to
 * ATT_MARK; after it attachments as in fuzz_message: a count octet (0..3
 * in its low bits), then per attachment filename NUL type NUL, two octets
 * of length (big-endian) and the data.
 * Invariants (abort() when broken):
 *   - message_build refuses exactly when an independent predicate finds
 *     a header value with a control or invalid UTF-8, an address outside
 *     dot-atom@LDH-domain, a date outside 1900..9999, a bad filename or
 *     type;
 *   - what it accepts, the strict reader reads: exactly the header fields
 *     expected (no other, none twice), From/To/Cc/Reply-To mailboxes with
 *     the same display names and addresses in order, the same Subject,
 *     Date (to the second), Message-ID, Auto-Submitted, X-Originating-IP;
 *   - the body: text/plain, or multipart/alternative text + html, inside
 *     multipart/mixed with attachments; each text part decodes to the
 *     rendered text with CRLF line ends, holding every field value; each
 *     attachment part has only its three fields, the same type, name and
 *     filename, and base64 that decodes to the same octets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/buf.h"
#include "mail/message.h"
#include "strict_mime.h"
#include "lib/tmpl.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_MAX	65536
#define MAX_FIELDS	24
#define ATT_MARK	"\xfe\xff" "ATT"
#define ATT_MAX		3
#define RENDER_MAX	(256 * 1024)

#define FL_REPLY	0x01
#define FL_TO2		0x02
#define FL_CC		0x04
#define FL_IP		0x08
#define FL_HTML		0x10
#define FL_AUTO		0x20
#define FL_RAWADDR	0x40
#define FL_CC2		0x80

static const char text_src[] =
    "New submission to form {{_form}}\n"
    "\n"
    "{{#fields}}\n"
    "{{#multiline}}\n"
    "{{label}}:\n"
    "{{value}}\n"
    "\n"
    "{{/multiline}}\n"
    "{{^multiline}}\n"
    "{{label}}: {{value}}\n"
    "{{/multiline}}\n"
    "{{/fields}}\n"
    "\n"
    "--\n"
    "Submission: {{_id}}\n";

static const char html_src[] =
    "<!DOCTYPE html>\n<html><body>\n<table>\n"
    "{{#fields}}\n"
    "<tr><th>{{label}}</th>"
    "{{#multiline}}<td style=\"white-space:pre-wrap\">{{value}}</td>"
    "{{/multiline}}"
    "{{^multiline}}<td>{{value}}</td>{{/multiline}}</tr>\n"
    "{{/fields}}\n"
    "</table>\n<p>Submission: {{_id}}</p>\n</body></html>\n";

/* Dates: the last two are outside 1900..9999 and must be refused. */
static const time_t dates[8] = {
	1795825586, 0, -2208988800LL, 253402300799LL, 951782400,
	1234567890, -2208988801LL, 253402300800LL
};
static const char *const ips[8] = {
	"192.0.2.7", "2001:db8::7", "::1", "::ffff:192.0.2.1",
	"255.255.255.255", "0.0.0.0", "fe80::1",
	"2001:0db8:0000:0000:0000:ff00:0042:8329"
};
static const struct {
	const char	*host, *id;
} ids[4] = {
	{ "www.example.test", "abcdefghijklmnopqrstuvwxyz" },
	{ "a.b", "A" },
	{ "l23456789012345678901234567890123456789012345678901234567890123."
	  "example", "012345678901234567890123456789012345678901234567890123456789" },
	{ "xn--bcher-kva.example", "Z9" }
};

static void	fail(const char *, const char *, size_t)
		    __attribute__((noreturn));

/* In the sanitizer runtime: its report goes where libFuzzer's output
 * goes, also under -close_fd_mask=2 (NULL without a sanitizer). */
void	__sanitizer_report_error_summary(const char *) __attribute__((weak));

static void
fail(const char *why, const char *s, size_t len)
{
	char	 msg[512];

	snprintf(msg, sizeof(msg), "fuzz_message_roundtrip: %s", why);
	if (__sanitizer_report_error_summary != NULL)
		__sanitizer_report_error_summary(msg);
	fprintf(stderr, "fuzz_message_roundtrip: %s\n", why);
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

/* ---- independent predicates (message.h "Refused:") ---------------- */

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

/* Controls (C0 with TAB, DEL, C1), U+2028/9, invalid UTF-8. */
static int
header_bad(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, len = strlen(s);
	uint32_t		 c;

	for (i = 0; i < len; i += n) {
		if ((n = utf8_next(p + i, len - i, &c)) == 0)
			return 1;
		if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 ||
		    c == 0x2029)
			return 1;
	}
	return 0;
}

static int
atext(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* dot-atom local part of 1..64, '@', LDH labels of 1..63 without a
 * hyphen at either end, the domain up to 253, the whole up to 254. */
static int
addr_bad(const char *s)
{
	const char	*at = strchr(s, '@'), *d;
	size_t		 i, local, label = 0;

	if (at == NULL || strlen(s) > 254)
		return 1;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 1;
	for (i = 0; i < local; i++)
		if ((s[i] == '.' && s[i + 1] == '.') ||
		    (s[i] != '.' && !atext((unsigned char)s[i])))
			return 1;
	d = at + 1;
	if (strlen(d) == 0 || strlen(d) > 253)
		return 1;
	for (i = 0;; i++) {
		if (d[i] == '.' || d[i] == '\0') {
			if (label == 0 || label > 63 || d[i - 1] == '-' ||
			    d[i - label] == '-')
				return 1;
			if (d[i] == '\0')
				return 0;
			label = 0;
		} else if ((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') || (d[i] >= '0' && d[i] <= '9') ||
		    d[i] == '-')
			label++;
		else
			return 1;
	}
}

static int
filename_bad(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), i, n;
	uint32_t		 c;

	if (len == 0 || len > 255 || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0 || header_bad(s))
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

static int
type_bad(const char *s)
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

static int
date_bad(time_t t)
{
	struct tm	 tm;

	return gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1900 ||
	    tm.tm_year + 1900 > 9999;
}

/* ---- the input ----------------------------------------------------- */

struct in {
	char	*p;
	char	*end;
};

/* The next NUL-ended string (the rest when no NUL is left); "" at the
 * end.  Strings point into the input copy. */
static char *
take(struct in *in)
{
	char	*s = in->p, *q;

	if (in->p >= in->end)
		return in->end;
	if ((q = memchr(in->p, '\0', (size_t)(in->end - in->p))) == NULL) {
		in->p = in->end;
		return s;
	}
	in->p = q + 1;
	return s;
}

static size_t
read_attachments(char *p, char *end, struct message_attachment *att)
{
	size_t	 n, i, dl;
	char	*q;

	if (p >= end)
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

/* CR LF and a lone CR become LF, as req_normalise does. */
static char *
normalise(const char *s)
{
	size_t	 i, o = 0, len = strlen(s);
	char	*d;

	if ((d = malloc(len + 1)) == NULL)
		fail("out of memory", NULL, 0);
	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			d[o++] = '\n';
			if (s[i + 1] == '\n')
				i++;
		} else
			d[o++] = s[i];
	}
	d[o] = '\0';
	return d;
}

static void
to_crlf(const char *s, size_t len, struct buf *out)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			xadd(out, "\r", 1);
		xadd(out, s + i, 1);
	}
	xadd(out, "", 0);
}

/* ---- checks -------------------------------------------------------- */

struct want {
	const char	*name;
	size_t		 n;
};

/* Exactly these fields, each as often as listed, and no other. */
static void
check_fields(const struct smime_part *p, const struct want *w, size_t nw,
    const struct buf *msg)
{
	size_t	 i, n, total = 0;

	for (i = 0; i < nw; i++) {
		(void)smime_header(p, w[i].name, &n);
		if (n != w[i].n)
			fail(w[i].name, msg->data, msg->len);
		total += n;
	}
	if (total != p->nhdr)
		fail("a field not expected", msg->data, msg->len);
}

static void
check_mailboxes(const struct smime_part *p, const char *field,
    const struct message_mailbox *mb, size_t n, const struct buf *msg)
{
	struct smime_mailbox	 got[4];
	const char		*v = smime_header(p, field, NULL);
	const char		*d;
	size_t			 k, ngot;

	if (v == NULL || smime_mailboxes(v, got, 4, &ngot) == -1)
		fail(smime_error(), msg->data, msg->len);
	if (ngot != n)
		fail("mailbox count", msg->data, msg->len);
	for (k = 0; k < n; k++) {
		d = mb[k].display != NULL ? mb[k].display : "";
		if (strcmp(got[k].addr, mb[k].addr) != 0)
			fail("address does not read back", msg->data, msg->len);
		if (strcmp(got[k].display, d) != 0)
			fail("display name does not read back", msg->data,
			    msg->len);
	}
	smime_mailboxes_free(got, ngot);
}

/* A text/<sub> part: charset=utf-8, quoted-printable, the text back. */
static void
check_text(const struct smime_part *p, const char *type, int part,
    const struct buf *want, const struct buf *msg)
{
	static const struct want	 fields[] = {
		{ "Content-Type", 1 }, { "Content-Transfer-Encoding", 1 }
	};
	const struct smime_param	*cs;

	if (part)
		check_fields(p, fields, 2, msg);
	if (strcmp(p->type, type) != 0 || p->cte != SMIME_QP || p->nparam != 1 ||
	    (cs = smime_param(p->param, p->nparam, "charset", 0)) == NULL ||
	    strcasecmp(cs->value, "utf-8") != 0)
		fail("text part type, charset or encoding", msg->data, msg->len);
	if (p->body.len != want->len || memcmp(p->body.data, want->data,
	    want->len) != 0)
		fail("text does not read back", msg->data, msg->len);
}

/* name/filename in exactly one form: the RFC 2231 value alone, or the
 * quoted one alone, printable ASCII without '"' or "=?". */
static void
check_filename(const struct smime_param *pv, size_t n, const char *attr,
    const char *filename, const struct buf *msg)
{
	const struct smime_param	*plain, *ext;
	size_t				 i;

	for (i = 0; i < n; i++)
		if (strcmp(pv[i].name, attr) != 0)
			fail("unexpected parameter", msg->data, msg->len);
	plain = smime_param(pv, n, attr, 0);
	ext = smime_param(pv, n, attr, 1);
	if ((plain == NULL) == (ext == NULL))
		fail("not exactly one form of the name", msg->data, msg->len);
	for (i = 0; plain != NULL && i < plain->len; i++)
		if ((unsigned char)plain->value[i] < 0x20 ||
		    (unsigned char)plain->value[i] > 0x7e ||
		    plain->value[i] == '"')
			fail("quoted name not printable ASCII without '\"'",
			    msg->data, msg->len);
	if (plain != NULL && strstr(plain->value, "=?") != NULL)
		fail("quoted name holding =?", msg->data, msg->len);
	if (strcmp(ext != NULL ? ext->value : plain->value, filename) != 0)
		fail("file name does not read back", msg->data, msg->len);
}

static void
check_attachment(const struct smime_part *p,
    const struct message_attachment *a, const struct buf *msg)
{
	static const struct want	 fields[] = {
		{ "Content-Type", 1 }, { "Content-Disposition", 1 },
		{ "Content-Transfer-Encoding", 1 }
	};

	check_fields(p, fields, 3, msg);
	if (strcasecmp(p->type, a->type) != 0 || p->cte != SMIME_BASE64 ||
	    strcmp(p->disposition, "attachment") != 0)
		fail("attachment type, disposition or encoding", msg->data,
		    msg->len);
	check_filename(p->param, p->nparam, "name", a->filename, msg);
	check_filename(p->dparam, p->ndparam, "filename", a->filename, msg);
	if (p->body.len != a->len || (a->len > 0 &&
	    memcmp(p->body.data, a->data, a->len) != 0))
		fail("attachment does not read back", msg->data, msg->len);
}

/* The body without attachments: text/plain or the alternative. */
static void
check_body(const struct smime_part *p, int part, const struct buf *text,
    const struct buf *html, const struct buf *msg)
{
	static const struct want	 fields[] = {
		{ "Content-Type", 1 }, { "Content-Transfer-Encoding", 1 }
	};

	if (html == NULL) {
		check_text(p, "text/plain", part, text, msg);
		return;
	}
	if (part)
		check_fields(p, fields, 2, msg);
	if (strcmp(p->type, "multipart/alternative") != 0 || p->nchild != 2)
		fail("not multipart/alternative of two parts", msg->data,
		    msg->len);
	check_text(&p->child[0], "text/plain", 1, text, msg);
	check_text(&p->child[1], "text/html", 1, html, msg);
}

static void
check_message(const struct message *m, const struct buf *msg,
    const struct buf *text, const struct buf *html, char *const *values,
    size_t nvalues)
{
	struct smime_part	*p;
	struct want		 w[12];
	struct buf		 d = BUF_INIT, v = BUF_INIT;
	const char		*s;
	char			 mid[MESSAGE_MAX_ID + MESSAGE_MAX_HOST + 4];
	time_t			 t;
	size_t			 nw = 0, i;

	if (smime_parse(msg->data, msg->len, &p) == -1)
		fail(smime_error(), msg->data, msg->len);
	w[nw++] = (struct want){ "From", 1 };
	w[nw++] = (struct want){ "Reply-To", m->reply_to != NULL };
	w[nw++] = (struct want){ "To", 1 };
	w[nw++] = (struct want){ "Cc", m->ncc > 0 };
	w[nw++] = (struct want){ "Subject", 1 };
	w[nw++] = (struct want){ "Date", 1 };
	w[nw++] = (struct want){ "Message-ID", 1 };
	w[nw++] = (struct want){ "MIME-Version", 1 };
	w[nw++] = (struct want){ "Auto-Submitted", 1 };
	w[nw++] = (struct want){ "X-Originating-IP", m->client_ip != NULL };
	w[nw++] = (struct want){ "Content-Type", 1 };
	w[nw++] = (struct want){ "Content-Transfer-Encoding", 1 };
	check_fields(p, w, nw, msg);

	check_mailboxes(p, "From", &m->from, 1, msg);
	if (m->reply_to != NULL)
		check_mailboxes(p, "Reply-To", m->reply_to, 1, msg);
	check_mailboxes(p, "To", m->to, m->nto, msg);
	if (m->ncc > 0)
		check_mailboxes(p, "Cc", m->cc, m->ncc, msg);
	if (smime_unstructured(smime_header(p, "Subject", NULL), &d) == -1)
		fail(smime_error(), msg->data, msg->len);
	if (strcmp(d.data, m->subject) != 0)
		fail("Subject does not read back", msg->data, msg->len);
	if (smime_date(smime_header(p, "Date", NULL), &t) == -1 || t != m->date)
		fail("Date does not read back", msg->data, msg->len);
	snprintf(mid, sizeof(mid), "<%s@%s>", m->id, m->hostname);
	if (strcmp(smime_header(p, "Message-ID", NULL), mid) != 0 ||
	    strcmp(smime_header(p, "MIME-Version", NULL), "1.0") != 0 ||
	    strcmp(smime_header(p, "Auto-Submitted", NULL),
	    m->auto_submitted ? m->auto_submitted : "auto-generated") != 0)
		fail("Message-ID, MIME-Version or Auto-Submitted", msg->data,
		    msg->len);
	if (m->client_ip != NULL) {
		s = smime_header(p, "X-Originating-IP", NULL);
		if (s[0] != '[' || strncmp(s + 1, m->client_ip,
		    strlen(m->client_ip)) != 0 ||
		    strcmp(s + 1 + strlen(m->client_ip), "]") != 0)
			fail("X-Originating-IP", msg->data, msg->len);
	}

	if (m->nattachments == 0)
		check_body(p, 0, text, html, msg);
	else {
		if (strcmp(p->type, "multipart/mixed") != 0 ||
		    p->nchild != m->nattachments + 1)
			fail("not multipart/mixed of the body and each file",
			    msg->data, msg->len);
		check_body(&p->child[0], 1, text, html, msg);
		for (i = 0; i < m->nattachments; i++)
			check_attachment(&p->child[i + 1], &m->attachments[i],
			    msg);
	}
	/* Every field value is in the text as the visitor sent it. */
	for (i = 0; i < nvalues; i++) {
		buf_reset(&v);
		to_crlf(values[i], strlen(values[i]), &v);
		if (v.len > 0 && memmem(text->data, text->len, v.data,
		    v.len) == NULL)
			fail("a field value is not in the text", msg->data,
			    msg->len);
	}
	buf_free(&d);
	buf_free(&v);
	smime_free(p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message_attachment	 att[ATT_MAX];
	struct message_mailbox		 from, to[2], cc[2], reply;
	struct message			 m;
	struct tmpl			*tt = NULL, *th = NULL;
	struct tmpl_var			 iv[MAX_FIELDS][4], vars[3];
	struct tmpl_scope		 items[MAX_FIELDS], root;
	struct buf			 text = BUF_INIT, html = BUF_INIT;
	struct buf			 wt = BUF_INIT, wh = BUF_INIT;
	struct buf			 msg = BUF_INIT;
	struct in			 in;
	char				*copy, *mark, *names[MAX_FIELDS];
	char				*values[MAX_FIELDS];
	const char			*subject;
	size_t				 natt = 0, nf = 0, i;
	uint8_t				 fl, sel;
	int				 rc, bad;

	if (size < 2 || size > FUZZ_MAX)
		return 0;
	fl = data[0];
	sel = data[1];
	if ((copy = malloc(size)) == NULL)
		return 0;
	memcpy(copy, data + 2, size - 2);
	copy[size - 2] = '\0';
	in.p = copy;
	in.end = copy + size - 2;
	if ((mark = memmem(copy, size - 2, ATT_MARK, sizeof(ATT_MARK) - 1)) !=
	    NULL) {
		natt = read_attachments(mark + sizeof(ATT_MARK) - 1, in.end, att);
		*mark = '\0';
		in.end = mark;
	}

	memset(&m, 0, sizeof(m));
	subject = take(&in);
	from = (struct message_mailbox){ take(&in), "forms@example.test" };
	to[0] = (struct message_mailbox){ take(&in), "sales@example.test" };
	to[1] = (struct message_mailbox){ take(&in), "info@sub.example.test" };
	cc[0] = (struct message_mailbox){ take(&in), "cc@example.test" };
	cc[1] = (struct message_mailbox){ NULL, "x.y+z@example.test" };
	reply = (struct message_mailbox){ NULL, "visitor@example.net" };
	if (fl & FL_RAWADDR) {
		from.addr = take(&in);
		to[0].addr = take(&in);
		reply.addr = take(&in);
	}
	while (nf < MAX_FIELDS && in.p < in.end) {
		names[nf] = normalise(take(&in));
		values[nf] = normalise(take(&in));
		nf++;
	}

	/* Render as req_submit does: labels, values, multiline flags. */
	for (i = 0; i < nf; i++) {
		int ml = strchr(values[i], '\n') != NULL;

		iv[i][0] = (struct tmpl_var){ "label", names[i],
		    strlen(names[i]), NULL, 0 };
		iv[i][1] = (struct tmpl_var){ "value", values[i],
		    strlen(values[i]), NULL, 0 };
		iv[i][2] = (struct tmpl_var){ "multiline", ml ? "1" : "",
		    (size_t)ml, NULL, 0 };
		iv[i][3] = (struct tmpl_var){ "name", names[i],
		    strlen(names[i]), NULL, 0 };
		items[i] = (struct tmpl_scope){ iv[i], 4, NULL };
	}
	vars[0] = (struct tmpl_var){ "fields", NULL, 0, items, nf };
	vars[1] = (struct tmpl_var){ "_form", "contact", 7, NULL, 0 };
	vars[2] = (struct tmpl_var){ "_id", ids[sel >> 6].id,
	    strlen(ids[sel >> 6].id), NULL, 0 };
	root = (struct tmpl_scope){ vars, 3, NULL };
	if (tmpl_parse(text_src, sizeof(text_src) - 1, &tt, NULL, 0) == -1 ||
	    tmpl_parse(html_src, sizeof(html_src) - 1, &th, NULL, 0) == -1)
		fail("built-in templates do not parse", NULL, 0);
	if (tmpl_render(tt, TMPL_TEXT, &root, RENDER_MAX, &text) == -1 ||
	    ((fl & FL_HTML) && tmpl_render(th, TMPL_HTML, &root, RENDER_MAX,
	    &html) == -1))
		goto out;
	xadd(&text, "", 0);
	xadd(&html, "", 0);

	m.from = from;
	m.reply_to = (fl & FL_REPLY) ? &reply : NULL;
	m.to = to;
	m.nto = (fl & FL_TO2) ? 2 : 1;
	m.cc = (fl & FL_CC) ? cc : NULL;
	m.ncc = (fl & FL_CC) ? ((fl & FL_CC2) ? 2 : 1) : 0;
	m.subject = subject;
	m.id = ids[sel >> 6].id;
	m.hostname = ids[sel >> 6].host;
	m.date = dates[sel & 7];
	m.client_ip = (fl & FL_IP) ? ips[(sel >> 3) & 7] : NULL;
	m.auto_submitted = (fl & FL_AUTO) ? "auto-replied" : NULL;
	m.text = text.data;
	m.text_len = text.len;
	m.html = (fl & FL_HTML) ? html.data : NULL;
	m.html_len = (fl & FL_HTML) ? html.len : 0;
	m.attachments = natt ? att : NULL;
	m.nattachments = natt;

	bad = header_bad(subject) || header_bad(from.display) ||
	    header_bad(to[0].display) || (m.nto > 1 && header_bad(to[1].display)) ||
	    (m.ncc > 0 && header_bad(cc[0].display)) || addr_bad(from.addr) ||
	    addr_bad(to[0].addr) || (m.reply_to != NULL && addr_bad(reply.addr)) ||
	    date_bad(m.date);
	for (i = 0; i < natt; i++)
		if (filename_bad(att[i].filename) || type_bad(att[i].type))
			bad = 1;
	rc = message_build(&m, &msg);
	if (rc == -1 && !bad)
		fail("a good message refused", subject, strlen(subject));
	if (rc == 0 && bad)
		fail("a bad message accepted", msg.data, msg.len);
	if (rc == 0) {
		to_crlf(text.data, text.len, &wt);
		to_crlf(html.data, html.len, &wh);
		check_message(&m, &msg, &wt, (fl & FL_HTML) ? &wh : NULL, values,
		    nf);
	}
out:
	for (i = 0; i < nf; i++) {
		free(names[i]);
		free(values[i]);
	}
	tmpl_free(tt);
	tmpl_free(th);
	buf_free(&text);
	buf_free(&html);
	buf_free(&wt);
	buf_free(&wh);
	buf_free(&msg);
	free(copy);
	return 0;
}
