/*
 * sign_odkim: the reference signer, libopendkim 2.11.  It takes the key
 * as PEM text and parses it again for every signature (sign.c says why
 * the built-in signer exists); it stays the reference the self-test, the
 * unit tests and tests/fuzz/fuzz_sign_diff.c compare against.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <dkim.h>

#include "deliver/sign_int.h"

/* Feeds one header field (no final CRLF) to every handle: dkim_header()
 * takes a non-const buffer. */
static int
sign_odkim_field(const struct sign *s, DKIM **h, struct buf *tmp,
    const char *p, size_t len, char *err, size_t errsize)
{
	DKIM_STAT	 st;
	size_t		 i;

	buf_reset(tmp);
	if (buf_add(tmp, p, len) == -1) {
		snprintf(err, errsize, "DKIM: out of memory");
		return -1;
	}
	for (i = 0; i < s->nkeys; i++) {
		st = dkim_header(h[i], (u_char *)tmp->data, tmp->len);
		if (st != DKIM_STAT_OK) {
			snprintf(err, errsize, "DKIM: header rejected: %s",
			    dkim_getresultstr(st));
			return -1;
		}
	}
	return 0;
}

int
sign_odkim(struct sign *s, const struct sign_msg *m, uint64_t t,
    struct buf *out, char *err, size_t errsize)
{
	unsigned char	 chunk[SIGN_CHUNK];
	DKIM		*h[SIGN_MAX_KEYS] = { NULL };
	DKIM_STAT	 st;
	struct sign_key	*k;
	struct buf	 tmp = BUF_INIT;
	u_char		*sig;
	size_t		 i, pos, n, siglen;
	_Bool		 testkey;
	int		 rc = -1;

	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME,
	    &t, sizeof(t)) != DKIM_STAT_OK) {
		snprintf(err, errsize, "DKIM: cannot set the signing time");
		return -1;
	}
	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		h[i] = dkim_sign(s->lib, (const u_char *)"form2mail", NULL,
		    (dkim_sigkey_t)k->pem, (const u_char *)k->selector,
		    (const u_char *)k->domain, DKIM_CANON_RELAXED,
		    DKIM_CANON_RELAXED, k->alg == CONF_DKIM_ED25519_SHA256 ?
		    DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1, &st);
		if (h[i] == NULL) {
			snprintf(err, errsize, "DKIM: %s s=%s d=%s: %s",
			    sign_alg_name(k->alg), k->selector, k->domain,
			    dkim_getresultstr(st));
			goto out;
		}
	}
	for (i = 0; i < m->nf; i++)
		if (sign_odkim_field(s, h, &tmp, m->msg + m->f[i].off,
		    m->f[i].len, err, errsize) == -1)
			goto out;
	for (i = 0; i < s->nkeys; i++) {
		if ((st = dkim_eoh(h[i])) != DKIM_STAT_OK) {
			snprintf(err, errsize, "DKIM: end of header: %s%s%s",
			    dkim_getresultstr(st), dkim_geterror(h[i]) ?
			    ": " : "", dkim_geterror(h[i]) ?
			    dkim_geterror(h[i]) : "");
			goto out;
		}
	}
	for (pos = m->body; pos < m->len; pos += n) {
		n = m->len - pos < sizeof(chunk) ? m->len - pos :
		    sizeof(chunk);
		memcpy(chunk, m->msg + pos, n);
		for (i = 0; i < s->nkeys; i++) {
			if ((st = dkim_body(h[i], chunk, n)) != DKIM_STAT_OK) {
				snprintf(err, errsize, "DKIM: body rejected: "
				    "%s", dkim_getresultstr(st));
				goto out;
			}
		}
	}
	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		if ((st = dkim_eom(h[i], &testkey)) != DKIM_STAT_OK ||
		    (st = dkim_getsighdr_d(h[i], SIGN_INITIAL, &sig,
		    &siglen)) != DKIM_STAT_OK) {
			snprintf(err, errsize, "DKIM: %s s=%s d=%s: %s%s%s",
			    sign_alg_name(k->alg), k->selector, k->domain,
			    dkim_getresultstr(st), dkim_geterror(h[i]) ?
			    ": " : "", dkim_geterror(h[i]) ?
			    dkim_geterror(h[i]) : "");
			goto out;
		}
		if (sign_append(out, sig, siglen, err, errsize) == -1)
			goto out;
	}
	rc = 0;
out:
	for (i = 0; i < s->nkeys; i++)
		if (h[i] != NULL)
			dkim_free(h[i]);
	buf_free(&tmp);
	return rc;
}
