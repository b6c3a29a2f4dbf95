/*
 * keys: DKIM key generation and the DNS records to publish.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "conf/conf.h"
#include "lib/file.h"
#include "lib/spf.h"
#include "ops/keys.h"

#define KEYS_RSA_BITS	2048
#define KEYS_ED_RAW	32	/* RFC 8032 5.1.5 */
#define KEYS_DER_MAX	4096	/* SubjectPublicKeyInfo of RSA 8192 < 1.1 KiB */
#define KEYS_PATH_MAX	4096
#define KEYS_VALUE_MAX	8192
#define KEYS_NAME_MAX	253	/* RFC 1035 2.3.4, without the final dot */
#define KEYS_LABEL_MAX	63

static int	keys_alg(const char *, int *, char *, size_t);
static int	keys_no_pass(char *, int, int, void *);
static int	keys_domain_ok(const char *);
static const char *keys_domain_of(const char *);
static void	keys_truncate(struct buf *, size_t);

/* Returns the EVP type of the algorithm name, or -1 with a reason. */
static int
keys_alg(const char *algorithm, int *type, char *err, size_t errsize)
{
	if (algorithm != NULL && strcmp(algorithm, "rsa-sha256") == 0)
		*type = EVP_PKEY_RSA;
	else if (algorithm != NULL && strcmp(algorithm, "ed25519-sha256") == 0)
		*type = EVP_PKEY_ED25519;
	else {
		snprintf(err, errsize, "unknown algorithm \"%s\" (rsa-sha256 "
		    "or ed25519-sha256)", algorithm ? algorithm : "");
		return -1;
	}
	return 0;
}

/* Refuses encrypted keys: no passphrase prompt on a terminal. */
static int
keys_no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * A new key of type (KEYS_RSA_BITS for RSA), PEM-encoded in *bio, a
 * secure-heap BIO (BIO_free() it); *pem and *pemlen point into it.
 * Returns 0, or -1 with err set.
 */
static int
keys_pem(int type, const char *out_path, BIO **bio, char **pem, long *pemlen,
    char *err, size_t errsize)
{
	EVP_PKEY_CTX	*ctx = NULL;
	EVP_PKEY	*pkey = NULL;
	int		 rc = -1;

	if ((ctx = EVP_PKEY_CTX_new_id(type, NULL)) == NULL ||
	    EVP_PKEY_keygen_init(ctx) <= 0 ||
	    (type == EVP_PKEY_RSA &&
	    EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, KEYS_RSA_BITS) <= 0) ||
	    EVP_PKEY_keygen(ctx, &pkey) <= 0) {
		snprintf(err, errsize, "%s: key generation failed", out_path);
		goto out;
	}
	if ((*bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PrivateKey(*bio, pkey, NULL, NULL, 0, NULL, NULL) !=
	    1 || (*pemlen = BIO_get_mem_data(*bio, pem)) <= 0) {
		snprintf(err, errsize, "%s: cannot encode the key", out_path);
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

/*
 * pem into a new file out_path, mode 0600, never over an existing one,
 * synced with its directory entry.  Returns 0, or -1 with err set and no
 * file left behind.
 */
static int
keys_write(const char *out_path, const char *pem, size_t pemlen, char *err,
    size_t errsize)
{
	size_t		 off;
	ssize_t		 n;
	int		 fd, rc = -1;

	fd = open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errsize, "%s: %s%s", out_path, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite)" : "");
		return -1;
	}
	/* umask may only have removed bits; make it exactly 0600. */
	if (fchmod(fd, 0600) == -1) {
		snprintf(err, errsize, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	for (off = 0; off < pemlen; off += (size_t)n) {
		if ((n = write(fd, pem + off, pemlen - off)) == -1) {
			if (errno == EINTR) {
				n = 0;
				continue;
			}
			snprintf(err, errsize, "%s: %s", out_path,
			    strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) == -1) {
		snprintf(err, errsize, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		snprintf(err, errsize, "%s: %s", out_path, strerror(errno));
		goto out;
	}
	fd = -1;
	/* The new directory entry must survive a crash too. */
	if (file_fsync_parent(out_path) == -1) {
		snprintf(err, errsize, "%s: cannot sync its directory: %s",
		    out_path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlink(out_path);
	return rc;
}

int
keys_generate(const char *algorithm, const char *out_path, char *err,
    size_t errsize)
{
	BIO		*bio = NULL;
	char		*pem;
	long		 pemlen;
	int		 type, rc = -1;

	if (keys_alg(algorithm, &type, err, errsize) == -1)
		return -1;
	if (out_path == NULL || *out_path == '\0' ||
	    strlen(out_path) >= KEYS_PATH_MAX) {
		snprintf(err, errsize, "no usable output file name");
		return -1;
	}
	if (keys_pem(type, out_path, &bio, &pem, &pemlen, err, errsize) == 0)
		rc = keys_write(out_path, pem, (size_t)pemlen, err, errsize);
	BIO_free(bio);		/* secure heap: cleansed on free */
	return rc;
}

static void
keys_truncate(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

int
keys_dkim_txt(const char *key_path, const char *algorithm, struct buf *out,
    char *err, size_t errsize)
{
	struct stat	 st;
	EVP_PKEY	*pkey = NULL;
	FILE		*f = NULL;
	unsigned char	*der = NULL, raw[KEYS_ED_RAW];
	unsigned char	 b64[(KEYS_DER_MAX + 2) / 3 * 4 + 1];
	const unsigned char *pub;
	size_t		 rawlen = sizeof(raw), oldlen = out->len;
	int		 type, derlen, fd, rc = -1;

	if (keys_alg(algorithm, &type, err, errsize) == -1)
		return -1;
	if ((fd = file_open_private(key_path, 0, &st, err, errsize)) == -1)
		return -1;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		snprintf(err, errsize, "%s: %s", key_path, strerror(errno));
		goto out;
	}
	if ((pkey = PEM_read_PrivateKey(f, NULL, keys_no_pass, NULL)) ==
	    NULL) {
		snprintf(err, errsize, "%s: no unencrypted PEM private key",
		    key_path);
		goto out;
	}
	if (EVP_PKEY_get_base_id(pkey) != type) {
		snprintf(err, errsize, "%s: not an %s key", key_path,
		    type == EVP_PKEY_RSA ? "RSA" : "Ed25519");
		goto out;
	}
	if (type == EVP_PKEY_RSA) {
		if ((derlen = i2d_PUBKEY(pkey, &der)) <= 0 ||
		    derlen > KEYS_DER_MAX) {
			snprintf(err, errsize, "%s: cannot encode the public "
			    "key", key_path);
			goto out;
		}
		pub = der;
	} else {
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1 ||
		    rawlen != KEYS_ED_RAW) {
			snprintf(err, errsize, "%s: cannot get the public "
			    "key", key_path);
			goto out;
		}
		pub = raw;
		derlen = (int)rawlen;
	}
	if (EVP_EncodeBlock(b64, pub, derlen) <= 0 ||
	    buf_printf(out, "v=DKIM1; k=%s; p=%s", type == EVP_PKEY_RSA ?
	    "rsa" : "ed25519", (char *)b64) == -1) {
		keys_truncate(out, oldlen);
		snprintf(err, errsize, "%s: out of memory", key_path);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return rc;
}

int
keys_record(struct buf *out, const char *name, const char *type,
    const char *value, char *err, size_t errsize)
{
	const char	*p;
	size_t		 len, off, n, oldlen = out->len;
	int		 txt = strcmp(type, "TXT") == 0;

	len = strlen(value);
	if (len > KEYS_VALUE_MAX) {
		snprintf(err, errsize, "%s: value too long", name);
		return -1;
	}
	for (p = value; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\') {
			snprintf(err, errsize, "%s: value holds a character "
			    "a zone file cannot take", name);
			return -1;
		}
	if (buf_printf(out, "%s %s ", name, type) == -1)
		goto fail;
	if (!txt) {
		if (buf_adds(out, value) == -1)
			goto fail;
	} else
		for (off = 0; off == 0 || off < len; off += n) {
			n = len - off > KEYS_TXT_CHUNK ? KEYS_TXT_CHUNK :
			    len - off;
			if (buf_printf(out, "%s\"%.*s\"", off ? " " : "",
			    (int)n, value + off) == -1)
				goto fail;
			if (n == 0)
				break;
		}
	if (buf_addc(out, '\n') == -1)
		goto fail;
	return 0;
fail:
	keys_truncate(out, oldlen);
	snprintf(err, errsize, "out of memory");
	return -1;
}

/* LDH labels of 1 to 63 octets, not starting or ending in '-' (RFC 1123
 * 2.1); '_' allowed for service names (_domainkey, RFC 6376 3.6.2.1). */
static int
keys_domain_ok(const char *d)
{
	size_t	 label = 0, total = 0;
	char	 prev = '.';

	for (; *d != '\0'; d++, total++) {
		if (*d == '.') {
			if (label == 0 || prev == '-')
				return 0;
			label = 0;
		} else if ((*d >= 'a' && *d <= 'z') || (*d >= 'A' &&
		    *d <= 'Z') || (*d >= '0' && *d <= '9') || *d == '_' ||
		    (*d == '-' && label > 0)) {
			if (++label > KEYS_LABEL_MAX)
				return 0;
		} else
			return 0;
		prev = *d;
	}
	return total > 0 && total <= KEYS_NAME_MAX && label > 0 &&
	    prev != '-';
}

/* The domain of an addr-spec (after its last '@'), or NULL. */
static const char *
keys_domain_of(const char *addr)
{
	const char	*d = addr_domain(addr);

	return d != NULL && keys_domain_ok(d) ? d : NULL;
}

/* The SPF record of envdom from the terms spf_hint, or a comment when
 * none are given.  Returns 0, or -1 with err set. */
static int
keys_spf_record(struct buf *out, const char *envdom, const char *spf_hint,
    char *err, size_t errsize)
{
	struct buf	 v = BUF_INIT, name = BUF_INIT;
	const char	*p;
	char		 why[256];
	int		 rc = -1;

	if (spf_hint != NULL && spf_hint[strspn(spf_hint, " ")] != '\0') {
		if (spf_terms_check(spf_hint, why, sizeof(why)) == -1) {
			snprintf(err, errsize, "SPF terms: %s", why);
			goto out;
		}
		p = spf_hint + strspn(spf_hint, " ");
		if (buf_printf(&v, "v=spf1 %s", p) == -1)
			goto nomem;
		while (v.len > 0 && v.data[v.len - 1] == ' ')
			keys_truncate(&v, v.len - 1);
		if (buf_adds(&v, " -all") == -1 ||
		    buf_printf(&name, "%s.", envdom) == -1)
			goto nomem;
		if (keys_record(out, name.data, "TXT", v.data, err, errsize) ==
		    -1)
			goto out;
	} else if (buf_printf(out, "; %s. TXT: no SPF terms given: set "
	    "sender.spf to the mechanisms of your SMTP relay (include:..., "
	    "ip4:...)\n", envdom) == -1)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	snprintf(err, errsize, "out of memory");
out:
	buf_free(&v);
	buf_free(&name);
	return rc;
}

/* The DKIM record of key d, from its key file.  Returns 0, or -1 with
 * err set. */
static int
keys_dkim_record(struct buf *out, const struct conf_dkim *d, char *err,
    size_t errsize)
{
	struct buf	 v = BUF_INIT, name = BUF_INIT;
	int		 rc = -1;

	if (!keys_domain_ok(d->selector) || !keys_domain_ok(d->domain)) {
		snprintf(err, errsize, "DKIM key %s: selector or "
		    "domain is not a domain name", d->key_file);
		goto out;
	}
	if (keys_dkim_txt(d->key_file, d->alg == CONF_DKIM_RSA_SHA256 ?
	    "rsa-sha256" : "ed25519-sha256", &v, err, errsize) == -1)
		goto out;
	if (buf_printf(&name, "%s._domainkey.%s.", d->selector,
	    d->domain) == -1) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	if (keys_record(out, name.data, "TXT", v.data, err, errsize) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&v);
	buf_free(&name);
	return rc;
}

/* The DMARC record of fromdom (p=quarantine, rua when given).  Returns
 * 0, or -1 with err set. */
static int
keys_dmarc_record(struct buf *out, const char *fromdom, const char *rua,
    char *err, size_t errsize)
{
	struct buf	 v = BUF_INIT, name = BUF_INIT;
	int		 rc = -1;

	if (rua != NULL && (strchr(rua, '@') == NULL ||
	    strpbrk(rua, ",!; \"\\") != NULL)) {
		snprintf(err, errsize, "DMARC rua \"%s\": give one plain "
		    "address", rua);
		goto out;
	}
	if (buf_adds(&v, "v=DMARC1; p=quarantine") == -1 ||
	    (rua != NULL && buf_printf(&v, "; rua=mailto:%s", rua) == -1) ||
	    buf_printf(&name, "_dmarc.%s.", fromdom) == -1) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	if (keys_record(out, name.data, "TXT", v.data, err, errsize) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&v);
	buf_free(&name);
	return rc;
}

int
keys_dns_records(const struct conf *cf, const char *spf_hint,
    const char *rua, struct buf *out, char *err, size_t errsize)
{
	const char	*envdom, *fromdom;
	size_t		 i;

	fromdom = keys_domain_of(cf->from.addr);
	envdom = keys_domain_of(cf->envelope_from != NULL ?
	    cf->envelope_from : cf->from.addr);
	if (fromdom == NULL || envdom == NULL) {
		snprintf(err, errsize, "sender.from or sender.envelope_from "
		    "has no usable domain");
		return -1;
	}
	if (spf_hint == NULL)
		spf_hint = cf->sender_spf;
	if (keys_spf_record(out, envdom, spf_hint, err, errsize) == -1)
		return -1;
	for (i = 0; i < cf->ndkim; i++)
		if (keys_dkim_record(out, &cf->dkim[i], err, errsize) == -1)
			return -1;
	return keys_dmarc_record(out, fromdom, rua, err, errsize);
}
