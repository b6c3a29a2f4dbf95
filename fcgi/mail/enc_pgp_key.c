/*
 * enc_pgp_key: an OpenPGP recipient key, checked with librnp (RFC 4880):
 * ASCII armour of one public key, valid now, and the subkey whose key
 * flags allow encryption (section 5.2.3.21) that stays valid longest.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include "mail/enc_int.h"

#define ENC_PGP_ARMOR	"-----BEGIN PGP PUBLIC KEY BLOCK-----"

/* valid_till of a valid key that allows encryption, else 0. */
static uint64_t
enc_pgp_enc_till(rnp_key_handle_t h, time_t now)
{
	bool		 ok = false, enc = false;
	uint64_t	 till = 0;

	if (rnp_key_is_valid(h, &ok) != RNP_SUCCESS || !ok ||
	    rnp_key_allows_usage(h, "encrypt", &enc) != RNP_SUCCESS ||
	    !enc || rnp_key_valid_till64(h, &till) != RNP_SUCCESS ||
	    till <= (uint64_t)now)
		return 0;
	return till;
}

/* Of the primary key h and its subkeys: the fingerprint of the one that
 * may encrypt and stays valid longest into fpr; its valid_till, or 0. */
static uint64_t
enc_pgp_choose(rnp_key_handle_t h, time_t now, char *fpr, size_t fprsize)
{
	rnp_key_handle_t	 sub, best = NULL;
	uint64_t		 till, best_till = 0;
	size_t			 i, n = 0;
	char			*s;

	if ((best_till = enc_pgp_enc_till(h, now)) > 0)
		best = h;
	if (rnp_key_get_subkey_count(h, &n) != RNP_SUCCESS)
		n = 0;
	for (i = 0; i < n; i++) {
		if (rnp_key_get_subkey_at(h, i, &sub) != RNP_SUCCESS)
			continue;
		if ((till = enc_pgp_enc_till(sub, now)) > best_till) {
			if (best != NULL && best != h)
				rnp_key_handle_destroy(best);
			best = sub;
			best_till = till;
		} else
			rnp_key_handle_destroy(sub);
	}
	if (best == NULL)
		return 0;
	if (rnp_key_get_fprint(best, &s) == RNP_SUCCESS) {
		snprintf(fpr, fprsize, "%s", s);
		rnp_buffer_destroy(s);
	} else
		best_till = 0;
	if (best != h)
		rnp_key_handle_destroy(best);
	return best_till;
}

/* The one primary key imported into ffi, or NULL with err. */
static rnp_key_handle_t
enc_pgp_primary(rnp_ffi_t ffi, char *err, size_t errsize)
{
	rnp_identifier_iterator_t	 it = NULL;
	rnp_key_handle_t		 h = NULL, k;
	const char			*id;
	bool				 prim;
	size_t				 nprim = 0;

	if (rnp_identifier_iterator_create(ffi, &it, "fingerprint") !=
	    RNP_SUCCESS) {
		snprintf(err, errsize, "librnp: cannot list keys");
		return NULL;
	}
	while (rnp_identifier_iterator_next(it, &id) == RNP_SUCCESS &&
	    id != NULL) {
		if (rnp_locate_key(ffi, "fingerprint", id, &k) !=
		    RNP_SUCCESS || k == NULL)
			continue;
		if (rnp_key_is_primary(k, &prim) == RNP_SUCCESS && prim &&
		    nprim++ == 0) {
			h = k;
			continue;
		}
		rnp_key_handle_destroy(k);
	}
	rnp_identifier_iterator_destroy(it);
	if (nprim != 1) {
		rnp_key_handle_destroy(h);
		snprintf(err, errsize, nprim == 0 ? "no OpenPGP primary key" :
		    "more than one OpenPGP key: one per file");
		return NULL;
	}
	return h;
}

/* 1 when ffi holds any secret key material. */
static int
enc_pgp_has_secret(rnp_ffi_t ffi)
{
	size_t	 n = 0;

	return rnp_get_secret_key_count(ffi, &n) != RNP_SUCCESS || n > 0;
}

int
enc_pgp_check(const char *data, size_t len, time_t now, struct enc_key *k,
    time_t *expires, char *err, size_t errsize)
{
	rnp_ffi_t		 ffi = NULL;
	rnp_input_t		 in = NULL;
	rnp_key_handle_t	 h = NULL;
	uint64_t		 till;
	bool			 ok = false;
	int			 rc = -1;

	if (len < sizeof(ENC_PGP_ARMOR) - 1 ||
	    memcmp(data, ENC_PGP_ARMOR, sizeof(ENC_PGP_ARMOR) - 1) != 0) {
		snprintf(err, errsize, memmem(data, len, "PRIVATE KEY BLOCK",
		    17) != NULL ? "holds a secret key: give the recipient's "
		    "public key only" : "not an ASCII-armoured OpenPGP public "
		    "key (\"%s\")", ENC_PGP_ARMOR);
		return -1;
	}
	if (rnp_ffi_create(&ffi, "GPG", "GPG") != RNP_SUCCESS) {
		snprintf(err, errsize, "librnp: cannot start");
		return -1;
	}
	if (rnp_input_from_memory(&in, (const uint8_t *)data, len, false) !=
	    RNP_SUCCESS || rnp_import_keys(ffi, in, RNP_LOAD_SAVE_PUBLIC_KEYS |
	    RNP_LOAD_SAVE_SECRET_KEYS, NULL) != RNP_SUCCESS) {
		snprintf(err, errsize, "not a readable OpenPGP key "
		    "(truncated or damaged armour)");
		goto out;
	}
	if (enc_pgp_has_secret(ffi)) {
		snprintf(err, errsize, "holds a secret key: give the "
		    "recipient's public key only");
		goto out;
	}
	if ((h = enc_pgp_primary(ffi, err, errsize)) == NULL)
		goto out;
	if (rnp_key_is_valid(h, &ok) != RNP_SUCCESS || !ok) {
		snprintf(err, errsize, "the key is expired, revoked or not "
		    "validly self-signed");
		goto out;
	}
	if ((till = enc_pgp_choose(h, now, k->fpr, sizeof(k->fpr))) == 0) {
		snprintf(err, errsize, "no valid (sub)key that may encrypt: "
		    "a sign-only or expired key");
		goto out;
	}
	*expires = till >= (uint64_t)INT64_MAX || till >= UINT32_MAX ?
	    (time_t)-1 : (time_t)till;
	snprintf(k->name, sizeof(k->name), "%s", k->fpr);
	if ((k->pgp = malloc(len)) == NULL) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	memcpy(k->pgp, data, len);
	k->pgp_len = len;
	rc = 0;
out:
	rnp_key_handle_destroy(h);
	rnp_input_destroy(in);
	rnp_ffi_destroy(ffi);
	return rc;
}
