/*
 * deliver/ private: what sign.c, sign_key.c, sign_parse.c, sign_native.c
 * and sign_odkim.c share (kcgi's extern.h pattern).  Nothing outside
 * deliver/sign*.c includes it; the contract is sign.h.
 */
#ifndef F2M_SIGN_INT_H
#define F2M_SIGN_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include <dkim.h>

#include "conf/conf.h"
#include "lib/buf.h"
#include "deliver/sign.h"

#define SIGN_MAX_KEYS		8		/* conf allows 1..8 */
#define SIGN_MAX_RSA_BITS	8192
#define SIGN_MAX_LINE		998		/* RFC 5322 section 2.1.1 */
#define SIGN_MAX_HEADERS	256
#define SIGN_CHUNK		8192
#define SIGN_HDR		"DKIM-Signature"
#define SIGN_HDR_LEN		(sizeof(SIGN_HDR) - 1)
/* dkim_getsighdr_d(): the width taken by "DKIM-Signature: " on the first
 * line. */
#define SIGN_INITIAL		(SIGN_HDR_LEN + 2)

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

/* sign.c: the fields to sign and to oversign (docs/DESIGN.md "DKIM"),
 * NULL-terminated; libopendkim gets the same lists. */
extern const char *sign_hdrs[];
extern const char *sign_oversign[];

/* sign.c */
const char	*sign_alg_name(enum conf_dkim_alg);
int		 sign_append(struct buf *, const unsigned char *, size_t,
		    char *, size_t);

/* sign_key.c: loads the key of d into k (see sign_open() in sign.h);
 * returns 0, or -1 with k cleared and err naming the key file. */
int		 sign_key_load(const struct conf_dkim *d, struct sign_key *k,
		    char *err, size_t errsize);
/* Frees and cleanses k; k is all zero afterwards. */
void		 sign_key_clear(struct sign_key *k);

/* sign_parse.c: checks msg (see sign_message() in sign.h for what is
 * refused) and indexes its header fields; 0 with m filled, or -1 with
 * err set. */
int		 sign_parse(const char *msg, size_t len, struct sign_msg *m,
		    char *err, size_t errsize);

/* sign_odkim.c / sign_native.c: append one DKIM-Signature field per key
 * of s to out for m signed at t; 0, or -1 with err set (out may hold a
 * part: sign_run() cuts it back). */
int		 sign_odkim(struct sign *s, const struct sign_msg *m,
		    uint64_t t, struct buf *out, char *err, size_t errsize);
int		 sign_native(struct sign *s, const struct sign_msg *m,
		    uint64_t t, struct buf *out, char *err, size_t errsize);

static inline int
sign_iswsp(int c)
{
	return c == ' ' || c == '\t';
}

#endif
