/*
 * sign_parse: the header fields of a message, for signing.  Checks a
 * message as message_build() makes it (sign_message() in sign.h lists
 * what is refused) and indexes its fields, so that both signers see only
 * what libopendkim would sign as we mean it: a bare CR or LF, ';' in a
 * field name, a DKIM-Signature field or a body without its final CRLF are
 * refused here, before either signs.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "deliver/sign_int.h"

#define SIGN_MAX_HEADER		(64 * 1024)	/* one field, folded */
/*
 * Fields to sign.  libopendkim copies the list of their names into a
 * buffer of DKIM_MAXHEADER (4096) octets and silently cuts it: 64 names
 * of at most 25 octets stay well inside.
 */
#define SIGN_MAX_SIGNED		64

/* Whether the field name (namelen octets at p) is name, in any case. */
static int
sign_name_is(const char *p, size_t namelen, const char *name)
{
	return strlen(name) == namelen && strncasecmp(p, name, namelen) == 0;
}

static int
sign_to_sign(const char *p, size_t namelen)
{
	size_t	 i;

	for (i = 0; sign_hdrs[i] != NULL; i++)
		if (sign_name_is(p, namelen, sign_hdrs[i]))
			return 1;
	return 0;
}

/*
 * Finds the end of the header line at pos and checks it: CRLF-ended, at
 * most SIGN_MAX_LINE octets, no control character but HTAB.  Returns 0
 * with *eolp at its CR, or -1 with err set.
 */
static int
sign_parse_line(const char *msg, size_t len, size_t pos, size_t *eolp,
    char *err, size_t errsize)
{
	size_t	 eol, j;

	for (eol = pos; eol < len && msg[eol] != '\r' &&
	    msg[eol] != '\n' && msg[eol] != '\0'; eol++)
		;
	if (eol == len) {
		snprintf(err, errsize, "message: no empty line after "
		    "the header section");
		return -1;
	}
	if (msg[eol] != '\r' || eol + 1 == len ||
	    msg[eol + 1] != '\n') {
		snprintf(err, errsize, "message: %s in the header "
		    "section", msg[eol] == '\0' ? "NUL" :
		    "bare CR or LF");
		return -1;
	}
	if (eol - pos > SIGN_MAX_LINE) {
		snprintf(err, errsize, "message: header line over %d "
		    "octets", SIGN_MAX_LINE);
		return -1;
	}
	/* RFC 5322 section 2.2: printable ASCII, WSP, 8-bit text. */
	for (j = pos; j < eol; j++) {
		if (((unsigned char)msg[j] < 32 && msg[j] != '\t') ||
		    msg[j] == 127) {
			snprintf(err, errsize, "message: control "
			    "character in the header section");
			return -1;
		}
	}
	*eolp = eol;
	return 0;
}

/*
 * Indexes the header field that starts on the line pos..eol (not a
 * continuation, not empty): its name, whether it is signed (counted in
 * *nsigned), whether it is From (*from set).  Returns 0, or -1 with err
 * set.
 */
static int
sign_parse_field(struct sign_msg *m, size_t pos, size_t eol,
    size_t *nsigned, int *from, char *err, size_t errsize)
{
	struct sign_field	*f;
	const char		*msg = m->msg;
	size_t			 j;

	/* A name with ';' is refused by dkim_header(). */
	for (j = pos; j < eol && msg[j] > 32 && msg[j] < 127 &&
	    msg[j] != ':' && msg[j] != ';'; j++)
		;
	if (j == pos || j == eol || msg[j] != ':') {
		snprintf(err, errsize, "message: header line without "
		    "a field name and colon");
		return -1;
	}
	if (m->nf == SIGN_MAX_HEADERS) {
		snprintf(err, errsize, "message: over %d header "
		    "fields", SIGN_MAX_HEADERS);
		return -1;
	}
	f = &m->f[m->nf++];
	f->off = pos;
	f->namelen = j - pos;
	f->sign = sign_to_sign(msg + pos, j - pos);
	if (f->sign && ++*nsigned > SIGN_MAX_SIGNED) {
		snprintf(err, errsize, "message: over %d header "
		    "fields to sign", SIGN_MAX_SIGNED);
		return -1;
	}
	*from |= sign_name_is(msg + pos, j - pos, "from");
	/* libopendkim would parse it as a signature to verify. */
	if (sign_name_is(msg + pos, j - pos, SIGN_HDR)) {
		snprintf(err, errsize, "message: already has a %s "
		    "header field", SIGN_HDR);
		return -1;
	}
	return 0;
}

/*
 * The header section, line by line, up to the empty line: sets m->f,
 * m->nf and m->body.  Returns 0, or -1 with err set.
 */
static int
sign_parse_head(struct sign_msg *m, char *err, size_t errsize)
{
	struct sign_field	*f = NULL;
	const char		*msg = m->msg;
	size_t			 pos = 0, eol, nsigned = 0;
	int			 from = 0;

	for (;;) {
		if (sign_parse_line(msg, m->len, pos, &eol, err,
		    errsize) == -1)
			return -1;
		if (eol > pos && sign_iswsp(msg[pos])) {
			if (f == NULL) {
				snprintf(err, errsize, "message: continuation "
				    "line without a header field");
				return -1;
			}
			if (eol - f->off > SIGN_MAX_HEADER) {
				snprintf(err, errsize, "message: header field "
				    "over %d octets", SIGN_MAX_HEADER);
				return -1;
			}
			pos = eol + 2;
			continue;
		}
		if (f != NULL)
			f->len = pos - 2 - f->off;
		f = NULL;
		if (eol == pos) {
			m->body = eol + 2;
			break;
		}
		if (sign_parse_field(m, pos, eol, &nsigned, &from, err,
		    errsize) == -1)
			return -1;
		f = &m->f[m->nf - 1];
		pos = eol + 2;
	}
	if (!from) {
		snprintf(err, errsize, "message: no From header field");
		return -1;
	}
	return 0;
}

/*
 * The body: CRLF line ends only, no NUL, lines of at most SIGN_MAX_LINE
 * octets, the last one ended.  Returns 0, or -1 with err set.
 */
static int
sign_parse_body(const struct sign_msg *m, char *err, size_t errsize)
{
	const char	*msg = m->msg;
	size_t		 pos, len = m->len, line = 0;

	for (pos = m->body; pos < len; pos++) {
		if (msg[pos] == '\0') {
			snprintf(err, errsize, "message: NUL in the body");
			return -1;
		}
		if (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n') {
			pos++;
			line = 0;
			continue;
		}
		if (msg[pos] == '\r' || msg[pos] == '\n') {
			snprintf(err, errsize, "message: bare CR or LF in the "
			    "body");
			return -1;
		}
		if (++line > SIGN_MAX_LINE) {
			snprintf(err, errsize, "message: body line over %d "
			    "octets", SIGN_MAX_LINE);
			return -1;
		}
	}
	/* libopendkim refuses it ("CRLF at end of body missing") unless the
	 * last line ends in WSP; RFC 6376 section 3.4.4 leaves it open. */
	if (line > 0) {
		snprintf(err, errsize, "message: body does not end in CRLF");
		return -1;
	}
	return 0;
}

int
sign_parse(const char *msg, size_t len, struct sign_msg *m, char *err,
    size_t errsize)
{
	m->msg = msg;
	m->len = len;
	m->nf = 0;
	if (sign_parse_head(m, err, errsize) == -1 ||
	    sign_parse_body(m, err, errsize) == -1)
		return -1;
	return 0;
}
