/*
 * encrypt_pgp: PGP/MIME (RFC 3156 section 4) through librnp: the entity
 * encrypted (AES-256, no signature: the worker holds no secret key) to
 * the chosen encryption subkey of every key, armoured, inside
 * multipart/encrypted with the application/pgp-encrypted version part.
 * A librnp context of its own per message, from the keys' armour loaded
 * at config load: no state shared between the forked workers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "lib/log.h"
#include "mail/enc_int.h"

/* Imports the keys of ef into ffi and adds each chosen subkey to op. */
static int
encrypt_pgp_recipients(rnp_ffi_t ffi, rnp_op_encrypt_t op,
    const struct enc_form *ef)
{
	rnp_input_t		 in;
	rnp_key_handle_t	 h;
	rnp_result_t		 r;
	size_t			 i;

	for (i = 0; i < ef->nkeys; i++) {
		if (rnp_input_from_memory(&in, (const uint8_t *)
		    ef->keys[i]->pgp, ef->keys[i]->pgp_len, false) !=
		    RNP_SUCCESS)
			return -1;
		r = rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS, NULL);
		rnp_input_destroy(in);
		if (r != RNP_SUCCESS)
			return -1;
		h = NULL;
		if (rnp_locate_key(ffi, "fingerprint", ef->keys[i]->fpr, &h) !=
		    RNP_SUCCESS || h == NULL)
			return -1;
		r = rnp_op_encrypt_add_recipient(op, h);
		rnp_key_handle_destroy(h);
		if (r != RNP_SUCCESS)
			return -1;
	}
	return 0;
}

/* The armoured message of in[0..len) into out. */
static int
encrypt_pgp_armour(const struct enc_form *ef, const char *in, size_t len,
    struct buf *out)
{
	rnp_ffi_t		 ffi = NULL;
	rnp_input_t		 src = NULL;
	rnp_output_t		 dst = NULL;
	rnp_op_encrypt_t	 op = NULL;
	uint8_t			*p;
	size_t			 n;
	int			 rc = -1;

	if (rnp_ffi_create(&ffi, "GPG", "GPG") != RNP_SUCCESS ||
	    rnp_input_from_memory(&src, (const uint8_t *)in, len, false) !=
	    RNP_SUCCESS || rnp_output_to_memory(&dst, 0) != RNP_SUCCESS ||
	    rnp_op_encrypt_create(&op, ffi, src, dst) != RNP_SUCCESS ||
	    encrypt_pgp_recipients(ffi, op, ef) == -1 ||
	    rnp_op_encrypt_set_cipher(op, "AES256") != RNP_SUCCESS ||
	    rnp_op_encrypt_set_armor(op, true) != RNP_SUCCESS ||
	    rnp_op_encrypt_execute(op) != RNP_SUCCESS ||
	    rnp_output_memory_get_buf(dst, &p, &n, false) != RNP_SUCCESS)
		goto out;
	rc = buf_add(out, p, n);
out:
	rnp_op_encrypt_destroy(op);
	rnp_output_destroy(dst);
	rnp_input_destroy(src);
	rnp_ffi_destroy(ffi);
	return rc;
}

/* librnp writes LF line ends; the message wants CRLF. */
static int
encrypt_pgp_crlf(struct buf *out, const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r')
			continue;
		if ((s[i] == '\n' && buf_addc(out, '\r') == -1) ||
		    buf_addc(out, s[i]) == -1)
			return -1;
	}
	return 0;
}

int
encrypt_pgp(const struct enc_form *ef, const char *boundary, const char *in,
    size_t len, struct buf *out)
{
	struct buf	 arm = BUF_INIT;
	size_t		 mark = out->len;
	int		 rc = -1;

	if (encrypt_pgp_armour(ef, in, len, &arm) == -1) {
		log_err("encrypt: OpenPGP encryption failed");
		goto out;
	}
	if (buf_printf(out, "Content-Type: multipart/encrypted;\r\n"
	    " protocol=\"application/pgp-encrypted\";\r\n"
	    " boundary=\"%s\"\r\n"
	    "\r\n"
	    "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n"
	    "--%s\r\n"
	    "Content-Type: application/pgp-encrypted\r\n"
	    "Content-Description: PGP/MIME version identification\r\n"
	    "\r\n"
	    "Version: 1\r\n"
	    "\r\n"
	    "--%s\r\n"
	    "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
	    "Content-Description: OpenPGP encrypted message\r\n"
	    "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
	    "\r\n", boundary, boundary, boundary) == -1 ||
	    encrypt_pgp_crlf(out, arm.data, arm.len) == -1 ||
	    buf_printf(out, "\r\n--%s--\r\n", boundary) == -1) {
		buf_truncate(out, mark);
		goto out;
	}
	rc = 0;
out:
	buf_free(&arm);
	return rc;
}
