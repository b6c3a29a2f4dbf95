/* sign: DKIM signatures through libopendkim; see sign.h. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <dkim.h>

#include "conf.h"
#include "sign.h"

#define SIGN_MAX_KEYS		8		/* conf allows 1..8 */
#define SIGN_MAX_KEY_FILE	(64 * 1024)
#define SIGN_MIN_RSA_BITS	1024		/* RFC 8301 section 3.2 */
#define SIGN_MAX_RSA_BITS	8192
#define SIGN_MAX_LINE		998		/* RFC 5322 section 2.1.1 */
#define SIGN_MAX_HEADERS	256
#define SIGN_MAX_HEADER		(64 * 1024)	/* one field, folded */
#define SIGN_MAX_NAME		253		/* domain or selector */
#define SIGN_CHUNK		8192
#define SIGN_HDR		"DKIM-Signature"

struct sign_key {
	enum conf_dkim_alg	 alg;
	char			*domain;
	char			*selector;
	char			*pem;	/* PKCS#8, as re-encoded by OpenSSL */
	size_t			 pemlen;
};

struct sign {
	DKIM_LIB		*lib;
	struct sign_key		 keys[SIGN_MAX_KEYS];
	size_t			 nkeys;
	uint64_t		 fixed;	/* 0: sign with the current time */
};

/*
 * DESIGN.md "DKIM".  From is both in the list and oversigned: h= names it
 * once more than it occurs, so a From added in transit breaks the
 * signature (RFC 6376 section 8.15).
 */
static const char *sign_hdrs[] = {
	"from", "reply-to", "to", "cc", "subject", "date", "message-id",
	"mime-version", "content-type", "content-transfer-encoding", NULL
};
static const char *sign_oversign[] = { "from", NULL };

static const char *
sign_alg_name(enum conf_dkim_alg alg)
{
	return alg == CONF_DKIM_ED25519_SHA256 ? "ed25519-sha256" :
	    "rsa-sha256";
}

/* Selector and domain go into the signature as they are: LDH labels. */
static int
sign_name_ok(const char *s)
{
	size_t	 i, len;

	if (s == NULL || (len = strlen(s)) == 0 || len > SIGN_MAX_NAME ||
	    s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    s[i] == '_')
			continue;
		if (s[i] == '.' && s[i + 1] != '.')
			continue;
		return 0;
	}
	return 1;
}

/* Encrypted keys are refused, and never with a prompt on the terminal. */
static int
sign_nopass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static void
sign_key_clear(struct sign_key *k)
{
	if (k->pem != NULL) {
		OPENSSL_cleanse(k->pem, k->pemlen);
		free(k->pem);
	}
	free(k->domain);
	free(k->selector);
	memset(k, 0, sizeof(*k));
}

/*
 * Reads path (a regular file, not readable or writable by group or
 * others, at most SIGN_MAX_KEY_FILE octets) into a cleansed-on-free buffer
 * and parses it.  Returns the key or NULL with err set.
 */
static EVP_PKEY *
sign_read_key(const char *path, char *err, size_t errsize)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*bio = NULL;
	struct stat	 st;
	const char	*why;
	char		*text = NULL;
	size_t		 len = 0;
	ssize_t		 n;
	unsigned long	 e;
	int		 fd;

	if ((fd = conf_open_private(path, 0, &st, err, errsize)) == -1)
		return NULL;
	if (st.st_size <= 0 || st.st_size > SIGN_MAX_KEY_FILE) {
		snprintf(err, errsize, "%s: %s", path, st.st_size <= 0 ?
		    "empty file" : "too large for a private key");
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	text[len] = '\0';
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		snprintf(err, errsize, "%s: out of memory", path);
		goto out;
	}
	ERR_clear_error();
	pkey = PEM_read_bio_PrivateKey(bio, NULL, sign_nopass, NULL);
	if (pkey == NULL) {
		e = ERR_peek_last_error();
		why = e != 0 ? ERR_reason_error_string(e) : NULL;
		snprintf(err, errsize, "%s: no unencrypted PEM private key "
		    "(PKCS#8, or PKCS#1 for RSA)%s%s", path, why ? ": " : "",
		    why ? why : "");
		ERR_clear_error();
	}
out:
	BIO_free(bio);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	close(fd);
	return pkey;
}

/*
 * Checks pkey against the algorithm the config names for it and keeps it
 * as PKCS#8 PEM text, the form libopendkim parses on each dkim_sign().
 * Re-encoding hands libopendkim exactly the key checked here, whatever
 * else the file held.
 */
static int
sign_load(const struct conf_dkim *d, struct sign_key *k, char *err,
    size_t errsize)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*mem = NULL;
	char		*p;
	long		 n;
	int		 bits, rc = -1;

	if (!sign_name_ok(d->domain) || !sign_name_ok(d->selector)) {
		snprintf(err, errsize, "%s: DKIM domain or selector is not a "
		    "domain name", d->key_file);
		return -1;
	}
	if ((pkey = sign_read_key(d->key_file, err, errsize)) == NULL)
		return -1;
	bits = EVP_PKEY_get_bits(pkey);
	switch (d->alg) {
	case CONF_DKIM_RSA_SHA256:
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
			snprintf(err, errsize, "%s: not an RSA key, but the "
			    "algorithm is rsa-sha256", d->key_file);
			goto out;
		}
		if (bits < SIGN_MIN_RSA_BITS || bits > SIGN_MAX_RSA_BITS) {
			snprintf(err, errsize, "%s: RSA key of %d bits; "
			    "rsa-sha256 needs %d to %d (2048 recommended)",
			    d->key_file, bits, SIGN_MIN_RSA_BITS,
			    SIGN_MAX_RSA_BITS);
			goto out;
		}
		break;
	case CONF_DKIM_ED25519_SHA256:
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
			snprintf(err, errsize, "%s: not an Ed25519 key, but the "
			    "algorithm is ed25519-sha256", d->key_file);
			goto out;
		}
		break;
	default:
		snprintf(err, errsize, "%s: unknown DKIM algorithm",
		    d->key_file);
		goto out;
	}
	/* Secure-memory BIOs cleanse their buffer when freed. */
	if ((mem = BIO_new(BIO_s_secmem())) == NULL ||
	    !PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(mem, &p)) <= 0) {
		snprintf(err, errsize, "%s: cannot encode the key",
		    d->key_file);
		goto out;
	}
	if ((k->pem = malloc((size_t)n + 1)) == NULL ||
	    (k->domain = strdup(d->domain)) == NULL ||
	    (k->selector = strdup(d->selector)) == NULL) {
		snprintf(err, errsize, "%s: out of memory", d->key_file);
		goto out;
	}
	memcpy(k->pem, p, (size_t)n);
	k->pem[n] = '\0';
	k->pemlen = (size_t)n;
	k->alg = d->alg;
	rc = 0;
out:
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	if (rc == -1)
		sign_key_clear(k);
	return rc;
}

int
sign_open(const struct conf *cf, struct sign **out, char *err,
    size_t errsize)
{
	struct sign	*s;
	unsigned int	 flags = DKIM_LIBFLAGS_NONE;
	size_t		 i, pass;
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
			if (sign_load(&cf->dkim[i], &s->keys[s->nkeys], err,
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

/*
 * Feeds one header field (name, colon, value with its folding CRLFs, no
 * final CRLF) to every handle.
 */
static int
sign_feed_header(struct sign *s, DKIM **h, struct buf *tmp, const char *p,
    size_t len, char *err, size_t errsize)
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

/*
 * Walks the header section of msg, checking it as message_build() makes
 * it: CRLF only, no NUL, lines of at most 998 octets, every field
 * "name:" with a name of printable ASCII (RFC 5322 section 2.2) and
 * continuation lines starting with SP or HTAB.  Returns the offset of the
 * body (after the empty line) or 0 with err set.
 */
static size_t
sign_headers(struct sign *s, DKIM **h, const char *msg, size_t len,
    char *err, size_t errsize)
{
	struct buf	 tmp = BUF_INIT;
	size_t		 pos = 0, eol, field = 0, nfields = 0, j, body = 0;
	int		 infield = 0;

	for (;;) {
		for (eol = pos; eol < len && msg[eol] != '\r' &&
		    msg[eol] != '\n' && msg[eol] != '\0'; eol++)
			;
		if (eol == len) {
			snprintf(err, errsize, "message: no empty line after "
			    "the header section");
			goto out;
		}
		if (msg[eol] != '\r' || eol + 1 == len ||
		    msg[eol + 1] != '\n') {
			snprintf(err, errsize, "message: %s in the header "
			    "section", msg[eol] == '\0' ? "NUL" :
			    "bare CR or LF");
			goto out;
		}
		if (eol - pos > SIGN_MAX_LINE) {
			snprintf(err, errsize, "message: header line over %d "
			    "octets", SIGN_MAX_LINE);
			goto out;
		}
		if (eol > pos && (msg[pos] == ' ' || msg[pos] == '\t')) {
			if (!infield) {
				snprintf(err, errsize, "message: continuation "
				    "line without a header field");
				goto out;
			}
			if (eol - field > SIGN_MAX_HEADER) {
				snprintf(err, errsize, "message: header field "
				    "over %d octets", SIGN_MAX_HEADER);
				goto out;
			}
			pos = eol + 2;
			continue;
		}
		if (infield && sign_feed_header(s, h, &tmp, msg + field,
		    pos - 2 - field, err, errsize) == -1)
			goto out;
		infield = 0;
		if (eol == pos) {
			body = eol + 2;
			break;
		}
		for (j = pos; j < eol && msg[j] > 32 && msg[j] < 127 &&
		    msg[j] != ':'; j++)
			;
		if (j == pos || j == eol || msg[j] != ':') {
			snprintf(err, errsize, "message: header line without "
			    "a field name and colon");
			goto out;
		}
		if (++nfields > SIGN_MAX_HEADERS) {
			snprintf(err, errsize, "message: over %d header "
			    "fields", SIGN_MAX_HEADERS);
			goto out;
		}
		field = pos;
		infield = 1;
		pos = eol + 2;
	}
out:
	buf_free(&tmp);
	return body;
}

/*
 * Checks the body (CRLF only, no NUL, lines of at most 998 octets) and
 * feeds it to every handle in copied chunks: dkim_body() takes a
 * non-const buffer.
 */
static int
sign_body(struct sign *s, DKIM **h, const char *msg, size_t len,
    char *err, size_t errsize)
{
	unsigned char	 chunk[SIGN_CHUNK];
	DKIM_STAT	 st;
	size_t		 pos, line = 0, n, i;

	for (pos = 0; pos < len; pos++) {
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
	for (pos = 0; pos < len; pos += n) {
		n = len - pos < sizeof(chunk) ? len - pos : sizeof(chunk);
		memcpy(chunk, msg + pos, n);
		for (i = 0; i < s->nkeys; i++) {
			if ((st = dkim_body(h[i], chunk, n)) != DKIM_STAT_OK) {
				snprintf(err, errsize, "DKIM: body rejected: "
				    "%s", dkim_getresultstr(st));
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Appends "DKIM-Signature: value CRLF".  libopendkim folds with CRLF and
 * TAB; a bare LF is made CRLF all the same, and every line is checked
 * against RFC 5322 section 2.1.1.  Relaxed header canonicalisation
 * (RFC 6376 section 3.4.2) makes the folding irrelevant to the signature.
 */
static int
sign_append(struct buf *out, const u_char *v, size_t len, char *err,
    size_t errsize)
{
	size_t	 i, line = sizeof(SIGN_HDR ": ") - 1;

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

int
sign_message(struct sign *s, const char *msg, size_t len, struct buf *out,
    char *err, size_t errsize)
{
	DKIM		*h[SIGN_MAX_KEYS] = { NULL };
	DKIM_STAT	 st;
	struct sign_key	*k;
	u_char		*sig;
	size_t		 i, body, siglen, olen = out->len;
	_Bool		 testkey;
	int		 rc = -1;

	if (dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME,
	    &s->fixed, sizeof(s->fixed)) != DKIM_STAT_OK) {
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
	if ((body = sign_headers(s, h, msg, len, err, errsize)) == 0)
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
	if (sign_body(s, h, msg + body, len - body, err, errsize) == -1)
		goto out;
	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		if ((st = dkim_eom(h[i], &testkey)) != DKIM_STAT_OK ||
		    (st = dkim_getsighdr_d(h[i], sizeof(SIGN_HDR ": ") - 1,
		    &sig, &siglen)) != DKIM_STAT_OK) {
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
	if (rc == -1) {
		out->len = olen;
		if (out->data != NULL)
			out->data[olen] = '\0';
	}
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
