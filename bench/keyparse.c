/*
 * keyparse: what a DKIM signature costs when the private key is parsed for
 * every message (what libopendkim's dkim_eom does with the PEM it is
 * handed) against a key parsed once and kept (an EVP_PKEY reused, with
 * its RSA blinding and Montgomery tables).  See docs/BENCHMARKS.md.
 *
 *   cc -O2 -o build-bench/keyparse bench/keyparse.c -lcrypto
 *   build-bench/keyparse KEY.pem [N]
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#define KP_MAX_PEM	16384

static char	 pem[KP_MAX_PEM];
static int	 pemlen;

static double
kp_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static EVP_PKEY *
kp_parse(void)
{
	BIO		*b;
	EVP_PKEY	*k;

	if ((b = BIO_new_mem_buf(pem, pemlen)) == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

static int
kp_sign(EVP_PKEY *k)
{
	static const unsigned char	 data[32];
	unsigned char			 sig[1024];
	size_t				 len = sizeof(sig);
	EVP_MD_CTX			*c;
	int				 ok;

	if ((c = EVP_MD_CTX_new()) == NULL)
		return -1;
	/* RSA signs a SHA-256 digest; Ed25519 takes no digest (RFC 8463). */
	ok = EVP_DigestSignInit(c, NULL, EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ?
	    NULL : EVP_sha256(), NULL, k) == 1 &&
	    EVP_DigestSign(c, sig, &len, data, sizeof(data)) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	EVP_PKEY	*k, *kept;
	FILE		*f;
	double		 t;
	long		 n = 1000, i;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: keyparse KEY.pem [N]\n");
		return 2;
	}
	if (argc == 3 && ((n = atol(argv[2])) < 1 || n > 1000000)) {
		fprintf(stderr, "keyparse: bad N\n");
		return 2;
	}
	if ((f = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	pemlen = (int)fread(pem, 1, sizeof(pem) - 1, f);
	fclose(f);
	if ((kept = kp_parse()) == NULL) {
		fprintf(stderr, "keyparse: %s: not a private key\n", argv[1]);
		return 1;
	}
	t = kp_now();
	for (i = 0; i < n; i++)
		EVP_PKEY_free(kp_parse());
	printf("parse only        %.3f ms\n", (kp_now() - t) * 1000 / n);
	t = kp_now();
	for (i = 0; i < n; i++)
		if (kp_sign(kept) == -1)
			return 1;
	printf("sign, key kept    %.3f ms\n", (kp_now() - t) * 1000 / n);
	t = kp_now();
	for (i = 0; i < n; i++) {
		if ((k = kp_parse()) == NULL || kp_sign(k) == -1)
			return 1;
		EVP_PKEY_free(k);
	}
	printf("parse + sign      %.3f ms\n", (kp_now() - t) * 1000 / n);
	EVP_PKEY_free(kept);
	return 0;
}
