/*
 * sign: DKIM signatures, built in and through libopendkim; see sign.h.
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
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <dkim.h>

#include "conf/conf.h"
#include "lib/file.h"
#include "lib/log.h"
#include "deliver/sign.h"

#define SIGN_MAX_KEYS		8		/* conf allows 1..8 */
#define SIGN_MAX_KEY_FILE	(64 * 1024)
#define SIGN_MIN_RSA_BITS	1024		/* RFC 8301 section 3.2 */
#define SIGN_MAX_RSA_BITS	8192
#define SIGN_MAX_SIG		(SIGN_MAX_RSA_BITS / 8)
#define SIGN_MAX_LINE		998		/* RFC 5322 section 2.1.1 */
#define SIGN_MAX_HEADERS	256
#define SIGN_MAX_HEADER		(64 * 1024)	/* one field, folded */
/*
 * Fields to sign.  libopendkim copies the list of their names into a
 * buffer of DKIM_MAXHEADER (4096) octets and silently cuts it: 64 names
 * of at most 25 octets stay well inside.
 */
#define SIGN_MAX_SIGNED		64
#define SIGN_MAX_NAME		253		/* domain or selector */
#define SIGN_CHUNK		8192
#define SIGN_HDR		"DKIM-Signature"
#define SIGN_HDR_LEN		(sizeof(SIGN_HDR) - 1)
/* dkim_getsighdr_d(): the margin it folds at (DKIM_HDRMARGIN) and the
 * width taken by "DKIM-Signature: " on the first line. */
#define SIGN_MARGIN		75
#define SIGN_INITIAL		(SIGN_HDR_LEN + 2)
#define SIGN_KAT_TIME		1700000000	/* a past t=, as verifiers want */

struct sign_key {
	enum conf_dkim_alg	 alg;
	char			*domain;
	char			*selector;
	char			*pem;	/* PKCS#8, as re-encoded by OpenSSL */
	size_t			 pemlen;
	EVP_PKEY		*pkey;	/* kept for the built-in signer */
	EVP_PKEY_CTX		*rsa;	/* RSA: set up once, reused */
};

struct sign {
	DKIM_LIB		*lib;
	struct sign_key		 keys[SIGN_MAX_KEYS];
	size_t			 nkeys;
	uint64_t		 fixed;	/* 0: sign with the current time */
	enum sign_impl		 impl;
	int			 broken;	/* sign_test_break_native() */
};

/* One header field: name, colon, value with its folding CRLFs. */
struct sign_field {
	size_t			 off;
	size_t			 len;	/* without the final CRLF */
	size_t			 namelen;
	int			 sign;	/* named in sign_hdrs */
};

/* A message sign_parse() accepted. */
struct sign_msg {
	const char		*msg;
	size_t			 len;
	struct sign_field	 f[SIGN_MAX_HEADERS];
	size_t			 nf;
	size_t			 body;	/* offset of the body */
};

/*
 * docs/DESIGN.md "DKIM".  From is both in the list and oversigned: h= names it
 * once more than it occurs, so a From added in transit breaks the
 * signature (RFC 6376 section 8.15).
 */
static const char *sign_hdrs[] = {
	"from", "reply-to", "to", "cc", "subject", "date", "message-id",
	"mime-version", "content-type", "content-transfer-encoding", NULL
};
static const char *sign_oversign[] = { "from", NULL };

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

/* EVP_PKEY_free() clears the private parts (BN_clear_free, and
 * OPENSSL_secure_clear_free for Ed25519). */
static void
sign_key_clear(struct sign_key *k)
{
	if (k->pem != NULL) {
		OPENSSL_cleanse(k->pem, k->pemlen);
		free(k->pem);
	}
	EVP_PKEY_CTX_free(k->rsa);
	EVP_PKEY_free(k->pkey);
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

	if ((fd = file_open_private(path, 0, &st, err, errsize)) == -1)
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
 * Checks pkey against the algorithm the config names for it, keeps it
 * parsed for the built-in signer (and, for RSA, a signing context set up
 * once: PKCS#1 v1.5 over SHA-256), and keeps it as PKCS#8 PEM text, the
 * form libopendkim parses on each signature.  Re-encoding hands
 * libopendkim exactly the key checked here, whatever else the file held.
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
		/* RFC 6376 section 3.3.1: RSASSA-PKCS1-v1_5, SHA-256. */
		if ((k->rsa = EVP_PKEY_CTX_new_from_pkey(NULL, pkey,
		    NULL)) == NULL || EVP_PKEY_sign_init(k->rsa) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(k->rsa,
		    RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(k->rsa, EVP_sha256()) != 1) {
			snprintf(err, errsize, "%s: cannot set up RSA signing",
			    d->key_file);
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
	k->pkey = pkey;
	pkey = NULL;
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

static int
sign_iswsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
sign_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

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
 * Checks msg as message_build() makes it (see sign.h for what is refused)
 * and indexes its header fields.  Returns 0 with m filled, or -1 with
 * err set.
 */
static int
sign_parse(const char *msg, size_t len, struct sign_msg *m, char *err,
    size_t errsize)
{
	struct sign_field	*f = NULL;
	size_t			 pos = 0, eol, j, line = 0, nsigned = 0;
	int			 from = 0;

	m->msg = msg;
	m->len = len;
	m->nf = 0;
	for (;;) {
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
		if (f->sign && ++nsigned > SIGN_MAX_SIGNED) {
			snprintf(err, errsize, "message: over %d header "
			    "fields to sign", SIGN_MAX_SIGNED);
			return -1;
		}
		from |= sign_name_is(msg + pos, j - pos, "from");
		/* libopendkim would parse it as a signature to verify. */
		if (sign_name_is(msg + pos, j - pos, SIGN_HDR)) {
			snprintf(err, errsize, "message: already has a %s "
			    "header field", SIGN_HDR);
			return -1;
		}
		pos = eol + 2;
	}
	if (!from) {
		snprintf(err, errsize, "message: no From header field");
		return -1;
	}
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

/*
 * Appends "DKIM-Signature: value CRLF".  Both signers fold with CRLF and
 * TAB; a bare LF is made CRLF all the same, and every line is checked
 * against RFC 5322 section 2.1.1.
 */
static int
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

/* ---- libopendkim, the reference ---- */

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

static int
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

/* ---- the built-in signer ---- */

/*
 * Relaxed header canonicalisation (RFC 6376 section 3.4.2) of one field
 * that sign_parse() accepted (or that we made): the name in lower case
 * (it holds no WSP), the colon, the value unfolded with its WSP runs made
 * one SP and none at either end; CRLF after it when crlf is set.  The
 * value's CRs and LFs are only folding, so they count as WSP, as they do
 * in libopendkim's dkim_canon_header_string().
 */
static int
sign_canon_field(struct buf *out, const char *f, size_t len,
    size_t namelen, int crlf)
{
	char	*d;
	size_t	 i;
	int	 space = 0;

	if (buf_reserve(out, len + 3) == -1)
		return -1;
	d = out->data + out->len;
	for (i = 0; i < namelen; i++)
		*d++ = (char)sign_lower((unsigned char)f[i]);
	*d++ = ':';
	for (i = namelen + 1; i < len && (sign_iswsp(f[i]) || f[i] == '\r' ||
	    f[i] == '\n'); i++)
		;
	for (; i < len; i++) {
		if (sign_iswsp(f[i]) || f[i] == '\r' || f[i] == '\n') {
			space = 1;
			continue;
		}
		if (space)
			*d++ = ' ';
		space = 0;
		*d++ = f[i];
	}
	if (crlf) {
		*d++ = '\r';
		*d++ = '\n';
	}
	*d = '\0';
	out->len = (size_t)(d - out->data);
	return 0;
}

/*
 * SHA-256 of the relaxed canonical body (RFC 6376 section 3.4.4): WSP at
 * line ends removed, other WSP runs made one SP, empty lines at the end
 * removed; an empty result hashes as empty.  body was checked by
 * sign_parse(): CRLF line ends only, the last line ended.
 */
static int
sign_body_hash(const char *b, size_t len, unsigned char md[32])
{
	EVP_MD_CTX	*c;
	char		 o[SIGN_CHUNK];
	const char	*cr;
	size_t		 pos = 0, e, i, n = 0, blanks = 0;
	unsigned int	 mdlen;
	int		 rc = -1, wsp;

	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto out;
	while (pos < len) {
		if ((cr = memchr(b + pos, '\r', len - pos)) == NULL)
			goto out;
		e = (size_t)(cr - b);
		while (e > pos && sign_iswsp(b[e - 1]))
			e--;
		if (e == pos) {
			blanks++;
			pos = (size_t)(cr - b) + 2;
			continue;
		}
		for (; blanks > 0; blanks--) {
			if (n + 2 > sizeof(o)) {
				if (EVP_DigestUpdate(c, o, n) != 1)
					goto out;
				n = 0;
			}
			o[n++] = '\r';
			o[n++] = '\n';
		}
		/* A line is at most SIGN_MAX_LINE octets, plus CRLF. */
		if (n + SIGN_MAX_LINE + 2 > sizeof(o)) {
			if (EVP_DigestUpdate(c, o, n) != 1)
				goto out;
			n = 0;
		}
		for (i = pos, wsp = 0; i < e; i++) {
			if (sign_iswsp(b[i])) {
				if (!wsp)
					o[n++] = ' ';
				wsp = 1;
				continue;
			}
			wsp = 0;
			o[n++] = b[i];
		}
		o[n++] = '\r';
		o[n++] = '\n';
		pos = (size_t)(cr - b) + 2;
	}
	if (EVP_DigestUpdate(c, o, n) != 1 ||
	    EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	rc = 0;
out:
	EVP_MD_CTX_free(c);
	return rc;
}

static int
sign_b64(struct buf *out, const unsigned char *p, size_t len)
{
	if (buf_reserve(out, 4 * ((len + 2) / 3) + 1) == -1)
		return -1;
	out->len += (size_t)EVP_EncodeBlock((unsigned char *)out->data +
	    out->len, p, (int)len);
	out->data[out->len] = '\0';
	return 0;
}

/*
 * Appends the tags to out folded exactly as libopendkim's
 * dkim_getsighdr_d() folds them (its margin, initial width and rules:
 * relaxed canonicalisation keeps a fold inside h= as a space, so the
 * folding is part of what is signed).  tok holds the tags, each with its
 * ';' but the last.  A tag goes on the line after a space, or on a new
 * line ("\r\n\t") when it would pass the margin; h= then breaks at its
 * colons ("\r\n\t "), bh= and b= at the margin.  libopendkim always wraps
 * an RSA b= (its forcewrap: the value of a 1024-bit key or more never
 * fits), and writes nothing after an empty b= here (it writes a NUL that
 * its canonicalisation stops at).
 */
static int
sign_fold(struct buf *out, const char *const *tok, size_t ntok, int rsa)
{
	const char	*pv, *eq, *x, *y, *c;
	size_t		 i, len = SIGN_INITIAL, pvlen, wl, n, tl;
	int		 first = 1, isb, ifirst;

	for (i = 0; i < ntok; i++) {
		pv = tok[i];
		pvlen = strlen(pv);
		if ((eq = strchr(pv, '=')) == NULL)
			return -1;
		wl = (size_t)(eq - pv);
		isb = wl == 1 && pv[0] == 'b';
		if (first) {
			if (buf_add(out, pv, pvlen) == -1)
				return -1;
			len += pvlen;
			first = 0;
			continue;
		}
		if (!(rsa && isb) && len + pvlen <= SIGN_MARGIN) {
			if (buf_addc(out, ' ') == -1 ||
			    buf_add(out, pv, pvlen) == -1)
				return -1;
			len += 1 + pvlen;
			continue;
		}
		if (buf_add(out, "\r\n\t", 3) == -1)
			return -1;
		len = 8;
		if (wl == 1 && pv[0] == 'h') {
			for (x = pv, ifirst = 1; *x != '\0'; x = c) {
				if ((c = strchr(x, ':')) == NULL)
					c = x + strlen(x);
				tl = (size_t)(c - x);
				if (*c == ':')
					c++;
				if (tl == 0)
					continue;
				if (!ifirst && len + tl + 1 > SIGN_MARGIN) {
					if (buf_add(out, ":\r\n\t ", 5) == -1)
						return -1;
					len = 9;
				} else if (!ifirst) {
					if (buf_addc(out, ':') == -1)
						return -1;
					len++;
				}
				if (buf_add(out, x, tl) == -1)
					return -1;
				len += tl;
				ifirst = 0;
			}
		} else if (isb || (wl == 2 && pv[0] == 'b' && pv[1] == 'h')) {
			if (buf_add(out, pv, wl + 1) == -1)
				return -1;
			len += wl + 1;
			x = eq + 1;
			y = pv + pvlen;
			if (x < y) {
				if (buf_addc(out, *x++) == -1)
					return -1;
				len++;
			}
			while (x < y) {
				if (len == SIGN_MARGIN) {
					if (buf_add(out, "\r\n\t ", 4) == -1)
						return -1;
					len = 9;
				}
				n = SIGN_MARGIN - len < (size_t)(y - x) ?
				    SIGN_MARGIN - len : (size_t)(y - x);
				if (buf_add(out, x, n) == -1)
					return -1;
				x += n;
				len += n;
			}
		} else {
			if (buf_add(out, pv, pvlen) == -1)
				return -1;
			len += pvlen;
		}
	}
	return 0;
}

/*
 * The tags of one signature in dkim_gensighdr()'s order, with b= empty
 * (b64 NULL) or set: v a c d s t bh h b.
 */
static int
sign_tags(struct buf *out, const struct sign_key *k, uint64_t t,
    const char *bh, const char *hlist, const char *b64)
{
	const char	*tok[9];
	struct buf	 tb = BUF_INIT;
	size_t		 off[9], i, n = 0;
	int		 rc = -1;

#define SIGN_TAG(...) do {						\
	off[n++] = tb.len;						\
	if (buf_printf(&tb, __VA_ARGS__) == -1 || buf_addc(&tb, 0) == -1) \
		goto out;						\
} while (0)
	SIGN_TAG("v=1;");
	SIGN_TAG("a=%s;", sign_alg_name(k->alg));
	SIGN_TAG("c=relaxed/relaxed;");
	SIGN_TAG("d=%s;", k->domain);
	SIGN_TAG("s=%s;", k->selector);
	SIGN_TAG("t=%llu;", (unsigned long long)t);
	SIGN_TAG("bh=%s;", bh);
	SIGN_TAG("h=%s;", hlist);
	SIGN_TAG("b=%s", b64 != NULL ? b64 : "");
#undef SIGN_TAG
	for (i = 0; i < n; i++)
		tok[i] = tb.data + off[i];
	if (sign_fold(out, tok, n, k->alg == CONF_DKIM_RSA_SHA256) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&tb);
	return rc;
}

/*
 * Signs the 32-octet SHA-256 digest of the canonical header data: RSA
 * with PKCS#1 v1.5 and the DigestInfo of SHA-256 (RFC 6376 section 3.3.1,
 * what libopendkim's RSA_sign(NID_sha256) makes); Ed25519 as PureEdDSA
 * over the digest itself, not over the data (RFC 8463 section 3).
 */
static int
sign_native_sig(const struct sign_key *k, const unsigned char md[32],
    unsigned char *sig, size_t *siglen)
{
	EVP_MD_CTX	*c;
	int		 ok;

	if (k->alg == CONF_DKIM_RSA_SHA256)
		return EVP_PKEY_sign(k->rsa, sig, siglen, md, 32) == 1 ? 0 : -1;
	if ((c = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
	    EVP_DigestSign(c, sig, siglen, md, 32) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/*
 * The header hash takes the fields to sign in the order h= names them:
 * h= lists them in message order (with their names as written), and each
 * name picks the last instance not yet used (RFC 6376 section 5.4.2), so
 * the instances of one name go in bottom-up.  The oversigned "from" at
 * the end of h= finds no unused instance and contributes nothing.
 */
static int
sign_hash_fields(const struct sign_msg *m, EVP_MD_CTX *c, struct buf *tmp,
    struct buf *hlist)
{
	const struct sign_field	*f, *g;
	size_t			 i, j;
	unsigned char		 used[SIGN_MAX_HEADERS];

	memset(used, 0, sizeof(used));
	for (i = 0; i < m->nf; i++) {
		f = &m->f[i];
		if (!f->sign)
			continue;
		if ((hlist->len > 0 && buf_addc(hlist, ':') == -1) ||
		    buf_add(hlist, m->msg + f->off, f->namelen) == -1)
			return -1;
		for (j = m->nf, g = NULL; g == NULL && j-- > 0; ) {
			g = &m->f[j];
			if (used[j] || !g->sign || g->namelen != f->namelen ||
			    strncasecmp(m->msg + g->off, m->msg + f->off,
			    f->namelen) != 0)
				g = NULL;
		}
		if (g == NULL)
			return -1;	/* not reached: f itself is one */
		used[j] = 1;
		buf_reset(tmp);
		if (sign_canon_field(tmp, m->msg + g->off, g->len, g->namelen,
		    1) == -1 || EVP_DigestUpdate(c, tmp->data, tmp->len) != 1)
			return -1;
	}
	for (i = 0; sign_oversign[i] != NULL; i++)
		if (buf_addc(hlist, ':') == -1 ||
		    buf_adds(hlist, sign_oversign[i]) == -1)
			return -1;
	return 0;
}

static int
sign_native(struct sign *s, const struct sign_msg *m, uint64_t t,
    struct buf *out, char *err, size_t errsize)
{
	EVP_MD_CTX	*hc = NULL, *kc = NULL;
	struct sign_key	*k;
	struct buf	 tmp = BUF_INIT, hlist = BUF_INIT, bh = BUF_INIT;
	struct buf	 v = BUF_INIT, b64 = BUF_INIT;
	unsigned char	 md[32], sig[SIGN_MAX_SIG];
	unsigned int	 mdlen;
	size_t		 i, siglen;
	int		 rc = -1;

	if (sign_body_hash(m->msg + m->body, m->len - m->body, md) == -1 ||
	    sign_b64(&bh, md, sizeof(md)) == -1 ||
	    (hc = EVP_MD_CTX_new()) == NULL ||
	    (kc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(hc, EVP_sha256(), NULL) != 1 ||
	    sign_hash_fields(m, hc, &tmp, &hlist) == -1) {
		snprintf(err, errsize, "DKIM: cannot hash the message");
		goto out;
	}
	for (i = 0; i < s->nkeys; i++) {
		k = &s->keys[i];
		/* RFC 6376 section 3.7: the DKIM-Signature field itself, with
		 * an empty b=, canonicalised, no CRLF after it. */
		buf_reset(&v);
		buf_reset(&tmp);
		if (buf_adds(&v, SIGN_HDR ": ") == -1 ||
		    sign_tags(&v, k, t, bh.data, hlist.data, NULL) == -1 ||
		    sign_canon_field(&tmp, v.data, v.len, SIGN_HDR_LEN,
		    0) == -1 ||
		    EVP_MD_CTX_copy_ex(kc, hc) != 1 ||
		    EVP_DigestUpdate(kc, tmp.data, tmp.len) != 1 ||
		    EVP_DigestFinal_ex(kc, md, &mdlen) != 1 || mdlen != 32) {
			snprintf(err, errsize, "DKIM: cannot hash the header "
			    "for s=%s d=%s", k->selector, k->domain);
			goto out;
		}
		siglen = sizeof(sig);
		if (sign_native_sig(k, md, sig, &siglen) == -1) {
			snprintf(err, errsize, "DKIM: %s s=%s d=%s: signing "
			    "failed", sign_alg_name(k->alg), k->selector,
			    k->domain);
			goto out;
		}
		if (s->broken)
			sig[siglen / 2] ^= 0x01;
		buf_reset(&b64);
		buf_reset(&v);
		if (sign_b64(&b64, sig, siglen) == -1 ||
		    sign_tags(&v, k, t, bh.data, hlist.data, b64.data) == -1) {
			snprintf(err, errsize, "DKIM: out of memory");
			goto out;
		}
		if (sign_append(out, (unsigned char *)v.data, v.len, err,
		    errsize) == -1)
			goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(hc);
	EVP_MD_CTX_free(kc);
	buf_free(&tmp);
	buf_free(&hlist);
	buf_free(&bh);
	buf_free(&v);
	buf_free(&b64);
	return rc;
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
