/*
 * enc_int.h: private to mail/ (check_layout.sh R4): what the key loaders
 * (enc_key.c, enc_pgp_key.c) and the encrypters (encrypt*.c) share.
 */
#ifndef F2M_ENC_INT_H
#define F2M_ENC_INT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "lib/buf.h"
#include "mail/enc_key.h"

#define ENC_MAX_FPR	64	/* hex digits of a v4 (40) or v5 (64) fpr */

struct enc_key {
	enum conf_enc_method	 method;
	char			 name[256];
	X509			*cert;		/* S/MIME */
	char			*pgp;		/* OpenPGP: the armoured key */
	size_t			 pgp_len;
	char			 fpr[ENC_MAX_FPR + 1];	/* its encryption
							   subkey */
};

/* enc_pgp_key.c: checks the armoured key data[0..len) at now and fills
 * k's fpr, name and (a copy of data) pgp.  0, or -1 with err. */
int	 enc_pgp_check(const char *data, size_t len, time_t now,
	    struct enc_key *k, time_t *expires, char *err, size_t errsize);

/* encrypt_smime.c, encrypt_pgp.c: the ciphertext of in[0..len) for
 * the keys, appended to out as the body of the outer message, its
 * Content-Type and Content-Transfer-Encoding fields first (the header
 * ends with them: the caller has written the others), then the empty
 * line and the body.  boundary: for PGP/MIME's multipart/encrypted.
 * 0, or -1 (logged). */
int	 encrypt_smime(const struct enc_form *, const char *in, size_t len,
	    struct buf *out);
int	 encrypt_pgp(const struct enc_form *, const char *boundary,
	    const char *in, size_t len, struct buf *out);

#endif
