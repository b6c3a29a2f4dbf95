/*
 * encrypt: the outer message and the inner entity of an encrypted
 * notification; see encrypt.h.  The ciphertext comes from
 * encrypt_smime.c or encrypt_pgp.c.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/log.h"
#include "mail/enc_int.h"
#include "mail/encrypt.h"
#include "mail/message.h"
#include "mail/mime.h"

#define ENC_BOUNDARY	"=_f2m_enc"	/* no base64 or armour line starts
					   "--=" */

/* The header fields that are copied outside as they are (RFC 9788
 * section 4.2: what transport needs); every field but MIME-Version goes
 * inside, these too. */
static const char *const enc_outer[] = {
	"From", "To", "Cc", "Date", "Message-ID", "MIME-Version",
	"Auto-Submitted", NULL
};

static int
enc_name_is(const char *f, size_t len, const char *name)
{
	size_t	 n = strlen(name);

	return len > n && f[n] == ':' && strncasecmp(f, name, n) == 0;
}

static int
enc_is_outer(const char *f, size_t len)
{
	size_t	 i;

	for (i = 0; enc_outer[i] != NULL; i++)
		if (enc_name_is(f, len, enc_outer[i]))
			return 1;
	return 0;
}

/* The length of the header field at s[0..len) (its folded lines and the
 * last CRLF), 0 when it does not end in CRLF. */
static size_t
enc_field_len(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\r' || s[i + 1] != '\n')
			continue;
		if (i + 2 < len && (s[i + 2] == ' ' || s[i + 2] == '\t'))
			continue;
		return i + 2;
	}
	return 0;
}

/*
 * Splits msg's header into the outer fields (appended to outer) and the
 * inner entity (appended to inner: Content-Type with the protected-headers
 * parameter, Content-Transfer-Encoding, the other fields, the empty line
 * and the body).  0 or -1.
 */
static int
enc_split(const struct buf *msg, struct buf *outer, struct buf *inner)
{
	struct buf	 rest = BUF_INIT;
	const char	*p = msg->data;
	size_t		 len = msg->len, n;
	int		 ct = 0, rc = -1;

	while (len >= 2 && !(p[0] == '\r' && p[1] == '\n')) {
		if ((n = enc_field_len(p, len)) == 0)
			goto out;
		if (enc_is_outer(p, n) && buf_add(outer, p, n) == -1)
			goto out;
		if (enc_name_is(p, n, "MIME-Version"))
			;	/* RFC 2045 section 4: the outer header's */
		else if (enc_name_is(p, n, "Content-Type")) {
			/* RFC 9788 section 2.1: the marker of the older
			 * draft that Thunderbird writes and reads. */
			if (ct++ || buf_add(inner, p, n - 2) == -1 ||
			    buf_adds(inner, ";\r\n protected-headers=\"v1\"\r\n")
			    == -1)
				goto out;
		} else if (enc_name_is(p, n, "Content-Transfer-Encoding")) {
			if (buf_add(inner, p, n) == -1)
				goto out;
		} else if (buf_add(&rest, p, n) == -1)
			goto out;
		p += n;
		len -= n;
	}
	if (len < 2 || ct != 1 || buf_add(inner, rest.data, rest.len) == -1 ||
	    buf_add(inner, p, len) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&rest);
	return rc;
}

int
encrypt_message(const struct enc_form *ef, const char *subject,
    const char *id, struct buf *msg)
{
	struct buf	 out = BUF_INIT, inner = BUF_INIT;
	char		 boundary[MESSAGE_MAX_ID + sizeof(ENC_BOUNDARY)];
	int		 rc = -1;

	if (ef == NULL || ef->nkeys == 0) {
		log_err("encrypt: no keys");
		return -1;
	}
	snprintf(boundary, sizeof(boundary), "%s%s", ENC_BOUNDARY, id);
	if (enc_split(msg, &out, &inner) == -1) {
		log_err("encrypt: cannot read the notification's header");
		goto out;
	}
	if (buf_adds(&out, "Subject: ") == -1 ||
	    message_header_text(&out, subject, strlen(subject), 9) == -1 ||
	    buf_adds(&out, "\r\n") == -1)
		goto out;
	if ((ef->method == CONF_ENC_SMIME ? encrypt_smime(ef, inner.data,
	    inner.len, &out) : encrypt_pgp(ef, boundary, inner.data,
	    inner.len, &out)) == -1)
		goto out;
	if (!mime_wire_ok(out.data, out.len)) {
		log_err("encrypt: output is not 7-bit with CRLF lines");
		goto out;
	}
	if (msg->data != NULL)
		explicit_bzero(msg->data, msg->len);
	buf_free(msg);
	*msg = out;
	out = (struct buf)BUF_INIT;
	rc = 0;
out:
	if (inner.data != NULL)
		explicit_bzero(inner.data, inner.len);
	buf_free(&inner);
	buf_free(&out);
	return rc;
}
