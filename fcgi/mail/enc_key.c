/*
 * enc_key: recipients' keys of encrypted notifications: the key files,
 * X.509 certificates, the set of a config; see enc_key.h.  OpenPGP keys
 * are checked in enc_pgp_key.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/file.h"
#include "lib/log.h"
#include "mail/enc_int.h"
#include "mail/enc_key.h"

#define ENC_PEM_CERT	"-----BEGIN CERTIFICATE-----"

/* "notAfter" as a time_t; (time_t)-1 when it cannot be read. */
static time_t
enc_asn1_time(const ASN1_TIME *t)
{
	struct tm	 tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return (time_t)-1;
	return timegm(&tm);
}

/* Key usage (RFC 8550 section 4.4.2, RFC 5280 section 4.2.1.3): RSA
 * key transport wants keyEncipherment, EC key agreement keyAgreement;
 * extended key usage, when present, emailProtection. */
static int
enc_x509_usage(X509 *x, char *err, size_t errsize)
{
	EVP_PKEY	*pk = X509_get0_pubkey(x);
	uint32_t	 ku = X509_get_key_usage(x), xku;
	int		 id;

	if (pk == NULL) {
		snprintf(err, errsize, "no usable public key");
		return -1;
	}
	id = EVP_PKEY_get_base_id(pk);
	if (id == EVP_PKEY_RSA) {
		if (EVP_PKEY_get_bits(pk) < ENC_MIN_RSA_BITS) {
			snprintf(err, errsize, "RSA key of %d bits (at least "
			    "%d)", EVP_PKEY_get_bits(pk), ENC_MIN_RSA_BITS);
			return -1;
		}
		if (!(ku & KU_KEY_ENCIPHERMENT)) {
			snprintf(err, errsize, "key usage does not allow "
			    "keyEncipherment: the certificate cannot be "
			    "encrypted to");
			return -1;
		}
	} else if (id == EVP_PKEY_EC) {
		if (!(ku & KU_KEY_AGREEMENT)) {
			snprintf(err, errsize, "key usage does not allow "
			    "keyAgreement: the certificate cannot be "
			    "encrypted to");
			return -1;
		}
	} else {
		snprintf(err, errsize, "not an RSA or EC key (S/MIME "
		    "encryption needs one)");
		return -1;
	}
	if (X509_get_extension_flags(x) & EXFLAG_XKUSAGE) {
		xku = X509_get_extended_key_usage(x);
		if (!(xku & XKU_SMIME)) {
			snprintf(err, errsize, "extended key usage does not "
			    "allow emailProtection");
			return -1;
		}
	}
	return 0;
}

/* The first PEM block of data must be one certificate: a private key
 * (any "PRIVATE KEY" block) is refused by name, and never parsed. */
static int
enc_x509_load(const char *data, size_t len, time_t now, struct enc_key *k,
    time_t *expires, char *err, size_t errsize)
{
	BIO		*b;
	time_t		 nb;

	if (memmem(data, len, "PRIVATE KEY-----", 16) != NULL) {
		snprintf(err, errsize, "holds a private key: give the "
		    "recipient's certificate only");
		return -1;
	}
	if (memmem(data, len, ENC_PEM_CERT, sizeof(ENC_PEM_CERT) - 1) ==
	    NULL) {
		snprintf(err, errsize, "not a PEM certificate (no \"%s\")",
		    ENC_PEM_CERT);
		return -1;
	}
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	k->cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (k->cert == NULL || X509_check_purpose(k->cert, -1, 0) != 1) {
		snprintf(err, errsize, "not a readable PEM certificate "
		    "(truncated or damaged)");
		return -1;
	}
	X509_NAME_oneline(X509_get_subject_name(k->cert), k->name,
	    sizeof(k->name));
	nb = enc_asn1_time(X509_get0_notBefore(k->cert));
	*expires = enc_asn1_time(X509_get0_notAfter(k->cert));
	if (nb == (time_t)-1 || *expires == (time_t)-1) {
		snprintf(err, errsize, "unreadable validity dates");
		return -1;
	}
	if (*expires <= now) {
		snprintf(err, errsize, "certificate %s expired", k->name);
		return -1;
	}
	if (nb > now) {
		snprintf(err, errsize, "certificate %s is not valid yet",
		    k->name);
		return -1;
	}
	return enc_x509_usage(k->cert, err, errsize);
}

static void
enc_file_err(enum file_err fe, char *err, size_t errsize)
{
	switch (fe) {
	case FILE_ENOTREG:
		snprintf(err, errsize, "not a regular file");
		break;
	case FILE_ETOOBIG:
		snprintf(err, errsize, "larger than %d octets",
		    ENC_MAX_KEY_FILE);
		break;
	case FILE_ENOMEM:
		snprintf(err, errsize, "out of memory");
		break;
	default:
		snprintf(err, errsize, "cannot read: %s", strerror(errno));
		break;
	}
}

int
enc_key_load(const char *path, enum conf_enc_method method, time_t now,
    struct enc_key **out, time_t *expires, char *err, size_t errsize)
{
	struct enc_key	*k;
	enum file_err	 fe;
	char		*data = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	*out = NULL;
	*expires = (time_t)-1;
	if ((fe = file_slurp(AT_FDCWD, path, ENC_MAX_KEY_FILE, 0, &data,
	    &len)) != FILE_OK) {
		enc_file_err(fe, err, errsize);
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	k->method = method;
	if (len == 0)
		snprintf(err, errsize, "empty file");
	else if (method == CONF_ENC_SMIME)
		rc = enc_x509_load(data, len, now, k, expires, err, errsize);
	else if (method == CONF_ENC_OPENPGP)
		rc = enc_pgp_check(data, len, now, k, expires, err, errsize);
	else
		snprintf(err, errsize, "no encryption method");
	if (rc == 0)
		*out = k;
	else
		enc_key_free(k);
out:
	free(data);
	return rc;
}

const char *
enc_key_name(const struct enc_key *k)
{
	return k->method == CONF_ENC_OPENPGP ? k->fpr : k->name;
}

void
enc_key_free(struct enc_key *k)
{
	if (k == NULL)
		return;
	X509_free(k->cert);
	free(k->pgp);
	free(k);
}

static void F2M_PRINTF(3, 4)
enc_report(int log, int warn, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!log)
		fprintf(stderr, "%s\n", msg);
	else if (warn)
		log_warn("%s", msg);
	else if (log)
		log_err("%s", msg);
}

/* The keys of one form into ef; the number of keys refused. */
static int
enc_form_load(const struct conf_form *f, time_t now, int log,
    struct enc_form *ef)
{
	char	 err[512];
	time_t	 exp;
	size_t	 i;
	int	 bad = 0;

	ef->method = f->enc_method;
	if ((ef->form = strdup(f->id)) == NULL ||
	    (ef->keys = calloc(f->nenc_keys, sizeof(*ef->keys))) == NULL)
		return 1;
	for (i = 0; i < f->nenc_keys; i++) {
		if (enc_key_load(f->enc_keys[i], f->enc_method, now,
		    &ef->keys[ef->nkeys], &exp, err, sizeof(err)) == -1) {
			enc_report(log, 0, "%s: key %s refused: %s",
			    f->enc_keys_at[i], f->enc_keys[i], err);
			bad++;
			continue;
		}
		if (exp != (time_t)-1 && exp - now < ENC_WARN_DAYS * 86400L)
			enc_report(log, 1, "%s: warning: key %s (%s) expires in %ld "
			    "days", f->enc_keys_at[i], f->enc_keys[i],
			    enc_key_name(ef->keys[ef->nkeys]),
			    (long)((exp - now) / 86400));
		ef->nkeys++;
	}
	return bad;
}

int
enc_set_load(const struct conf *cf, time_t now, int log,
    struct enc_set **out)
{
	struct enc_set	*s;
	size_t		 i;
	int		 bad = 0;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (cf->nforms > 0 && (s->forms = calloc(cf->nforms,
	    sizeof(*s->forms))) == NULL)) {
		free(s);
		return -1;
	}
	for (i = 0; i < cf->nforms; i++) {
		if (cf->forms[i].enc_method == CONF_ENC_NONE)
			continue;
		bad += enc_form_load(&cf->forms[i], now, log,
		    &s->forms[s->nforms++]);
	}
	if (bad > 0) {
		enc_set_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

const struct enc_form *
enc_set_find(const struct enc_set *s, const char *id)
{
	size_t	 i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nforms; i++)
		if (strcmp(s->forms[i].form, id) == 0)
			return &s->forms[i];
	return NULL;
}

void
enc_set_free(struct enc_set *s)
{
	size_t	 i, j;

	if (s == NULL)
		return;
	for (i = 0; i < s->nforms; i++) {
		for (j = 0; j < s->forms[i].nkeys; j++)
			enc_key_free(s->forms[i].keys[j]);
		free(s->forms[i].keys);
		free(s->forms[i].form);
	}
	free(s->forms);
	free(s);
}
