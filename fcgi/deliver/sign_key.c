/*
 * sign_key: the DKIM key files of conf->dkim, read once and checked
 * against the algorithm the config names (sign_open() in sign.h says
 * which files and keys are refused).  A key is kept parsed for the
 * built-in signer and as PKCS#8 PEM text for libopendkim.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "lib/file.h"
#include "deliver/sign_int.h"

#define SIGN_MAX_KEY_FILE	(64 * 1024)
#define SIGN_MIN_RSA_BITS	1024		/* RFC 8301 section 3.2 */
#define SIGN_MAX_NAME		253		/* domain or selector */

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
void
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
 * Checks pkey against the algorithm d names for it; for RSA also sets up
 * k->rsa, the signing context made once (RFC 6376 section 3.3.1:
 * RSASSA-PKCS1-v1_5, SHA-256).  Returns 0, or -1 with err set.
 */
static int
sign_key_check(const struct conf_dkim *d, EVP_PKEY *pkey, struct sign_key *k,
    char *err, size_t errsize)
{
	int	 bits;

	bits = EVP_PKEY_get_bits(pkey);
	switch (d->alg) {
	case CONF_DKIM_RSA_SHA256:
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
			snprintf(err, errsize, "%s: not an RSA key, but the "
			    "algorithm is rsa-sha256", d->key_file);
			return -1;
		}
		if (bits < SIGN_MIN_RSA_BITS || bits > SIGN_MAX_RSA_BITS) {
			snprintf(err, errsize, "%s: RSA key of %d bits; "
			    "rsa-sha256 needs %d to %d (2048 recommended)",
			    d->key_file, bits, SIGN_MIN_RSA_BITS,
			    SIGN_MAX_RSA_BITS);
			return -1;
		}
		if ((k->rsa = EVP_PKEY_CTX_new_from_pkey(NULL, pkey,
		    NULL)) == NULL || EVP_PKEY_sign_init(k->rsa) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(k->rsa,
		    RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(k->rsa, EVP_sha256()) != 1) {
			snprintf(err, errsize, "%s: cannot set up RSA signing",
			    d->key_file);
			return -1;
		}
		return 0;
	case CONF_DKIM_ED25519_SHA256:
		if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
			snprintf(err, errsize, "%s: not an Ed25519 key, but the "
			    "algorithm is ed25519-sha256", d->key_file);
			return -1;
		}
		return 0;
	default:
		snprintf(err, errsize, "%s: unknown DKIM algorithm",
		    d->key_file);
		return -1;
	}
}

/*
 * Reads the key file of d (sign_read_key()), checks it (sign_key_check()),
 * keeps it parsed for the built-in signer, and keeps it as PKCS#8 PEM
 * text, the form libopendkim parses on each signature.  Re-encoding hands
 * libopendkim exactly the key checked here, whatever else the file held.
 */
int
sign_key_load(const struct conf_dkim *d, struct sign_key *k, char *err,
    size_t errsize)
{
	EVP_PKEY	*pkey = NULL;
	BIO		*mem = NULL;
	char		*p;
	long		 n;
	int		 rc = -1;

	if (!sign_name_ok(d->domain) || !sign_name_ok(d->selector)) {
		snprintf(err, errsize, "%s: DKIM domain or selector is not a "
		    "domain name", d->key_file);
		return -1;
	}
	if ((pkey = sign_read_key(d->key_file, err, errsize)) == NULL)
		return -1;
	if (sign_key_check(d, pkey, k, err, errsize) == -1)
		goto out;
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
