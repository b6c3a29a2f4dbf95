/*
 * encrypt_smime: S/MIME enveloped data (RFC 8551 section 3.3, RFC 5652
 * section 6) through OpenSSL's CMS, AES-256-CBC (EnvelopedData: gpgsm
 * 2.2 cannot read the AuthEnvelopedData of AES-GCM), one
 * RecipientInfo per certificate.
 */
#include <stdio.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/log.h"
#include "lib/text.h"
#include "mail/enc_int.h"

static void
encrypt_smime_err(const char *what)
{
	char	 e[256];

	ERR_error_string_n(ERR_get_error(), e, sizeof(e));
	log_err("encrypt: S/MIME %s: %s", what, e);
	ERR_clear_error();
}

int
encrypt_smime(const struct enc_form *ef, const char *in, size_t len,
    struct buf *out)
{
	STACK_OF(X509)	*certs = NULL;
	CMS_ContentInfo	*cms = NULL;
	BIO		*bin = NULL, *bout = NULL;
	BUF_MEM		*bm;
	size_t		 i, mark = out->len;
	int		 rc = -1;

	if ((certs = sk_X509_new_null()) == NULL)
		goto out;
	for (i = 0; i < ef->nkeys; i++)
		if (sk_X509_push(certs, ef->keys[i]->cert) <= 0)
			goto out;
	/* CMS_BINARY: the entity is already canonical (CRLF, 7-bit). */
	if ((bin = BIO_new_mem_buf(in, (int)len)) == NULL ||
	    (cms = CMS_encrypt(certs, bin, EVP_aes_256_cbc(),
	    CMS_BINARY)) == NULL) {
		encrypt_smime_err("encryption");
		goto out;
	}
	if ((bout = BIO_new(BIO_s_mem())) == NULL ||
	    i2d_CMS_bio(bout, cms) != 1) {
		encrypt_smime_err("encoding");
		goto out;
	}
	BIO_get_mem_ptr(bout, &bm);
	/* RFC 8551 section 3.3 and 3.2.2: the name and smime-type. */
	if (buf_adds(out, "Content-Type: application/pkcs7-mime; "
	    "smime-type=enveloped-data;\r\n name=\"smime.p7m\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
	    "\r\n") == -1 ||
	    text_base64(out, bm->data, bm->length, 1) == -1) {
		buf_truncate(out, mark);
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		log_err("encrypt: S/MIME message not written");
	BIO_free(bout);
	BIO_free(bin);
	CMS_ContentInfo_free(cms);
	sk_X509_free(certs);	/* the certificates stay the set's */
	return rc;
}
