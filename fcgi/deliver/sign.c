/*
 * sign: DKIM signatures, built in and through libopendkim; see sign.h.
 * This file opens the handle (keys through sign_key.c), runs the
 * self-test, chooses the signer and signs: sign_parse.c checks the
 * message, sign_native.c and sign_odkim.c are the two signers.
 *
 * Why two signers: libopendkim 2.11 takes the private key as PEM text and
 * parses it again in every dkim_eom(), and OpenSSL 3 then redoes the RSA
 * blinding and Montgomery set-up on the fresh key; that was most of the
 * deliverer's CPU.  The built-in signer keeps the EVP_PKEYs parsed in
 * sign_open() and reproduces libopendkim's output octet for octet (the
 * same canonical data, tag order and folding), so libopendkim can stay
 * the reference: the self-test at sign_open(), the unit tests and
 * tests/fuzz/fuzz_sign_diff.c compare the two.
 *
 * Both signers see only messages that sign_parse() accepted; everything
 * libopendkim would refuse or treat oddly (a bare CR or LF, ';' in a field
 * name, a DKIM-Signature field, a body without its final CRLF) is refused
 * there, before either signs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "deliver/sign_int.h"

#define SIGN_KAT_TIME		1700000000	/* a past t=, as verifiers want */

/*
 * docs/DESIGN.md "DKIM".  From is both in the list and oversigned: h= names it
 * once more than it occurs, so a From added in transit breaks the
 * signature (RFC 6376 section 8.15).
 */
const char *sign_hdrs[] = {
	"from", "reply-to", "to", "cc", "subject", "date", "message-id",
	"mime-version", "content-type", "content-transfer-encoding", NULL
};
const char *sign_oversign[] = { "from", NULL };

/*
 * The self-test message: what libopendkim and the built-in canonicaliser
 * could disagree on, in a few lines.
 */
static const char sign_probe[] =
    "From: \"Self Test\" <selftest@example.com>\r\n"
    "To: a@example.com,\r\n"
    "\t b@example.com  \r\n"
    "sUBJECT:   self-test \t probe\t \r\n"
    "X-Unsigned: not in h=\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "to: second@example.com\r\n"
    "Message-ID: <selftest@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain;\r\n"
    "  charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "CC: c@example.com\r\n"
    "Reply-To:\r\n"
    " caf\xc3\xa9 <r@example.com>\r\n"
    "\r\n"
    "  leading,  inner \t and trailing WSP \t\r\n"
    "\r\n"
    "caf\xc3\xa9 \xe2\x80\x94 8-bit\r\n"
    " \t \r\n"
    "\r\n";

const char *
sign_alg_name(enum conf_dkim_alg alg)
{
	return alg == CONF_DKIM_ED25519_SHA256 ? "ed25519-sha256" :
	    "rsa-sha256";
}

int
sign_open(const struct conf *cf, struct sign **out, char *err,
    size_t errsize)
{
	struct sign	*s;
	unsigned int	 flags = DKIM_LIBFLAGS_NONE;
	size_t		 i, pass;
	char		 why[512];
	int		 ed = 0, rc = -1;

	*out = NULL;
	if (cf->ndkim == 0 || cf->ndkim > SIGN_MAX_KEYS) {
		snprintf(err, errsize, "DKIM: %zu keys configured, need 1 to "
		    "%d", cf->ndkim, SIGN_MAX_KEYS);
		return -1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsize, "DKIM: out of memory");
		return -1;
	}
	/* RSA first: receivers that ignore Ed25519 (RFC 8463) see it on top. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < cf->ndkim; i++) {
			if ((cf->dkim[i].alg == CONF_DKIM_ED25519_SHA256) !=
			    (pass == 1))
				continue;
			if (sign_key_load(&cf->dkim[i], &s->keys[s->nkeys], err,
			    errsize) == -1)
				goto out;
			s->nkeys++;
			ed |= pass == 1;
		}
	}
	if ((s->lib = dkim_init(NULL, NULL)) == NULL) {
		snprintf(err, errsize, "DKIM: dkim_init failed");
		goto out;
	}
	if (!dkim_libfeature(s->lib, DKIM_FEATURE_SHA256) ||
	    !dkim_libfeature(s->lib, DKIM_FEATURE_OVERSIGN) ||
	    (ed && !dkim_libfeature(s->lib, DKIM_FEATURE_ED25519))) {
		snprintf(err, errsize, "DKIM: libopendkim lacks %s support",
		    ed ? "sha256, oversigning or Ed25519" :
		    "sha256 or oversigning");
		goto out;
	}
	/*
	 * No DKIM_LIBFLAGS_FIXCRLF: a bare LF is refused, not signed as CRLF
	 * and then sent as LF.  The header lists are passed as pointers (len:
	 * the size of a pointer).
	 */
	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
	    sign_hdrs, sizeof(char **)) != DKIM_STAT_OK ||
	    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS,
	    sign_oversign, sizeof(char **)) != DKIM_STAT_OK) {
		snprintf(err, errsize, "DKIM: cannot set libopendkim options");
		goto out;
	}
	switch (sign_selftest(s, why, sizeof(why))) {
	case 0:
		break;
	case -1:
		log_err("DKIM self-test failed: %s; this process signs with "
		    "libopendkim (slower) instead of the built-in signer",
		    why);
		break;
	default:
		snprintf(err, errsize, "%s", why);
		goto out;
	}
	*out = s;
	rc = 0;
out:
	if (rc == -1)
		sign_close(s);
	return rc;
}

void
sign_fixed_time(struct sign *s, time_t t)
{
	s->fixed = t > 0 ? (uint64_t)t : 0;
}

enum sign_impl
sign_impl(const struct sign *s)
{
	return s->impl;
}

void
sign_test_break_native(struct sign *s, int on)
{
	s->broken = on != 0;
}

/*
 * Appends "DKIM-Signature: value CRLF".  Both signers fold with CRLF and
 * TAB; a bare LF is made CRLF all the same, and every line is checked
 * against RFC 5322 section 2.1.1.
 */
int
sign_append(struct buf *out, const unsigned char *v, size_t len, char *err,
    size_t errsize)
{
	size_t	 i, line = SIGN_INITIAL;

	if (buf_adds(out, SIGN_HDR ": ") == -1)
		goto nomem;
	for (i = 0; i < len; i++) {
		if (v[i] == '\r' && i + 1 < len && v[i + 1] == '\n')
			continue;
		if (v[i] == '\n') {
			if (buf_add(out, "\r\n", 2) == -1)
				goto nomem;
			line = 0;
			continue;
		}
		if (v[i] < 32 && v[i] != '\t') {
			snprintf(err, errsize, "DKIM: control character in "
			    "the signature");
			return -1;
		}
		if (++line > SIGN_MAX_LINE) {
			snprintf(err, errsize, "DKIM: signature line over %d "
			    "octets", SIGN_MAX_LINE);
			return -1;
		}
		if (buf_addc(out, v[i]) == -1)
			goto nomem;
	}
	if (buf_add(out, "\r\n", 2) == -1)
		goto nomem;
	return 0;
nomem:
	snprintf(err, errsize, "DKIM: out of memory");
	return -1;
}

/* t: the signing time, 0 for now. */
static int
sign_run(struct sign *s, enum sign_impl impl, uint64_t t, const char *msg,
    size_t len, struct buf *out, char *err, size_t errsize)
{
	struct sign_msg	*m;
	size_t		 olen = out->len;
	int		 rc = -1;

	if ((m = malloc(sizeof(*m))) == NULL) {
		snprintf(err, errsize, "DKIM: out of memory");
		return -1;
	}
	if (sign_parse(msg, len, m, err, errsize) == -1)
		goto out;
	if (impl == SIGN_OPENDKIM)
		rc = sign_odkim(s, m, t, out, err, errsize);
	else
		rc = sign_native(s, m, t != 0 ? t : (uint64_t)time(NULL), out,
		    err, errsize);
out:
	free(m);
	if (rc == -1) {
		out->len = olen;
		if (out->data != NULL)
			out->data[olen] = '\0';
	}
	return rc;
}

int
sign_message_impl(struct sign *s, enum sign_impl impl, const char *msg,
    size_t len, struct buf *out, char *err, size_t errsize)
{
	return sign_run(s, impl, s->fixed, msg, len, out, err, errsize);
}

int
sign_message(struct sign *s, const char *msg, size_t len, struct buf *out,
    char *err, size_t errsize)
{
	return sign_run(s, s->impl, s->fixed, msg, len, out, err, errsize);
}

int
sign_selftest(struct sign *s, char *err, size_t errsize)
{
	struct buf	 want = BUF_INIT, got = BUF_INIT;
	char		 why[512];
	size_t		 i;
	int		 rc = -1;

	s->impl = SIGN_OPENDKIM;
	if (sign_run(s, SIGN_OPENDKIM, SIGN_KAT_TIME, sign_probe,
	    sizeof(sign_probe) - 1, &want, why, sizeof(why)) == -1) {
		snprintf(err, errsize, "DKIM self-test: libopendkim cannot "
		    "sign the probe message: %s", why);
		rc = -2;
		goto out;
	}
	if (sign_run(s, SIGN_NATIVE, SIGN_KAT_TIME, sign_probe,
	    sizeof(sign_probe) - 1, &got, why, sizeof(why)) == -1) {
		snprintf(err, errsize, "built-in signer: %s", why);
		goto out;
	}
	if (got.len != want.len || memcmp(got.data, want.data,
	    want.len) != 0) {
		for (i = 0; i < got.len && i < want.len &&
		    got.data[i] == want.data[i]; i++)
			;
		snprintf(err, errsize, "built-in signer differs from "
		    "libopendkim at octet %zu of %zu", i, want.len);
		goto out;
	}
	s->impl = SIGN_NATIVE;
	rc = 0;
out:
	buf_free(&want);
	buf_free(&got);
	return rc;
}

void
sign_close(struct sign *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	if (s->lib != NULL)
		dkim_close(s->lib);
	for (i = 0; i < SIGN_MAX_KEYS; i++)
		sign_key_clear(&s->keys[i]);
	free(s);
}
