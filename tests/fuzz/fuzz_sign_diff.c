/*
 * fuzz_sign_diff: the built-in DKIM signer against libopendkim, the
 * reference, on hostile messages.
 *
 * Input: one flag octet, then the message.  Unless FL_RAW is set, every LF
 * not after a CR becomes CRLF (so that messages get past the line checks);
 * FL_FROM puts a From field first, FL_CRLF makes the message end in CRLF,
 * FL_LONG signs with the key pair named by a 253-octet domain and a
 * 63-octet selector instead of example.com (the fold moves).  Keys: one
 * RSA-1024 and one Ed25519 key made at the first call.
 * Invariants (abort() when broken):
 *   - both signers accept the same messages, and refuse the others with
 *     the same reason;
 *   - what they accept they sign with the same octets;
 *   - that output is one DKIM-Signature field per key, RSA first, CRLF
 *     line ends only, no line over 998 octets, no control but HTAB;
 *   - the self-test passed at sign_open() (the built-in signer is on).
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "deliver/sign.h"
#include "../unit/lsan_opendkim.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FL_RAW		0x01
#define FL_FROM		0x02
#define FL_CRLF		0x04
#define FL_LONG		0x08
#define FUZZ_MAX	(256 * 1024)
#define FUZZ_TIME	1700000000

static struct sign	*fz_sign[2];
static char		 fz_dir[] = "/tmp/fuzz_sign_diff.XXXXXX";

static void
fail(const char *why, const struct buf *a, const struct buf *b)
{
	fprintf(stderr, "fuzz_sign_diff: %s\n", why);
	if (a != NULL && a->data != NULL)
		fprintf(stderr, "native:\n%s\n", a->data);
	if (b != NULL && b->data != NULL)
		fprintf(stderr, "libopendkim:\n%s\n", b->data);
	abort();
}

static char *
fz_key(const char *name, int rsa)
{
	EVP_PKEY	*k;
	FILE		*f;
	char		*path;

	if ((path = malloc(strlen(fz_dir) + strlen(name) + 2)) == NULL)
		fail("out of memory", NULL, NULL);
	sprintf(path, "%s/%s", fz_dir, name);
	k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k == NULL || (f = fopen(path, "wx")) == NULL ||
	    chmod(path, 0600) == -1 ||
	    !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) == EOF)
		fail("cannot make a key", NULL, NULL);
	EVP_PKEY_free(k);
	return path;
}

static void
fz_init(void)
{
	static char		 dom[] = "example.com", sel_r[] = "r",
				 sel_e[] = "e";
	static char		 ldom[254], lsel[64];
	struct conf		 cf;
	struct conf_dkim	 d[2];
	char			 err[512], *kr, *ke;
	size_t			 i;
	int			 h;

	if (mkdtemp(fz_dir) == NULL)
		fail("mkdtemp", NULL, NULL);
	kr = fz_key("rsa.pem", 1);
	ke = fz_key("ed.pem", 0);
	for (i = 0; i < 253; i++)
		ldom[i] = i % 60 == 59 ? '.' : (char)('a' + i % 26);
	memset(lsel, 's', 63);
	for (h = 0; h < 2; h++) {
		memset(&cf, 0, sizeof(cf));
		memset(d, 0, sizeof(d));
		d[0].domain = h ? ldom : dom;
		d[0].selector = h ? lsel : sel_e;
		d[0].alg = CONF_DKIM_ED25519_SHA256;
		d[0].key_file = ke;
		d[1].domain = h ? ldom : dom;
		d[1].selector = h ? lsel : sel_r;
		d[1].alg = CONF_DKIM_RSA_SHA256;
		d[1].key_file = kr;
		cf.dkim = d;
		cf.ndkim = 2;
		if (sign_open(&cf, &fz_sign[h], err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			fail("sign_open", NULL, NULL);
		}
		if (sign_impl(fz_sign[h]) != SIGN_NATIVE)
			fail("the self-test failed", NULL, NULL);
		sign_fixed_time(fz_sign[h], FUZZ_TIME);
	}
	/* The keys are in memory: the files may go. */
	unlink(kr);
	unlink(ke);
	rmdir(fz_dir);
	free(kr);
	free(ke);
}

/* Every line CRLF, at most 998 octets, no control but HTAB; n fields. */
static void
fz_check(const struct buf *a)
{
	const char	*p = a->data, *q;
	size_t		 i, line = 0, n = 0;

	for (i = 0; i < a->len; i++) {
		if (a->data[i] == '\r') {
			if (i + 1 >= a->len || a->data[i + 1] != '\n')
				fail("bare CR in the output", a, NULL);
			i++;
			line = 0;
			continue;
		}
		if ((unsigned char)a->data[i] < 32 && a->data[i] != '\t')
			fail("control in the output", a, NULL);
		if (++line > 998)
			fail("output line over 998 octets", a, NULL);
	}
	if (a->len < 2 || a->data[a->len - 1] != '\n')
		fail("output does not end in CRLF", a, NULL);
	while ((q = strstr(p, "DKIM-Signature: ")) != NULL) {
		if (q != a->data && q[-1] != '\n')
			fail("DKIM-Signature not at a line start", a, NULL);
		if (n == 0 && strncmp(q + 16, "v=1; a=rsa-sha256;", 18) != 0)
			fail("RSA is not first", a, NULL);
		n++;
		p = q + 1;
	}
	if (n != 2)
		fail("not one signature per key", a, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf	 m = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	char		 ea[512], eb[512];
	unsigned int	 fl;
	size_t		 i;
	int		 ra, rb;

	if (fz_sign[0] == NULL)
		fz_init();
	if (size < 1 || size > FUZZ_MAX)
		return 0;
	fl = data[0];
	data++;
	size--;
	if ((fl & FL_FROM) && buf_adds(&m, "From: f@example.com\r\n") == -1)
		fail("out of memory", NULL, NULL);
	for (i = 0; i < size; i++) {
		if (!(fl & FL_RAW) && data[i] == '\n' &&
		    (i == 0 || data[i - 1] != '\r') &&
		    buf_addc(&m, '\r') == -1)
			fail("out of memory", NULL, NULL);
		if (buf_addc(&m, data[i]) == -1)
			fail("out of memory", NULL, NULL);
	}
	if ((fl & FL_CRLF) && (m.len < 2 || m.data[m.len - 2] != '\r' ||
	    m.data[m.len - 1] != '\n') && buf_add(&m, "\r\n", 2) == -1)
		fail("out of memory", NULL, NULL);
	if (m.data == NULL && buf_add(&m, "", 0) == -1)
		fail("out of memory", NULL, NULL);

	ea[0] = eb[0] = '\0';
	ra = sign_message_impl(fz_sign[(fl & FL_LONG) != 0], SIGN_NATIVE,
	    m.data, m.len, &a, ea, sizeof(ea));
	rb = sign_message_impl(fz_sign[(fl & FL_LONG) != 0], SIGN_OPENDKIM,
	    m.data, m.len, &b, eb, sizeof(eb));
	if (ra != rb) {
		fprintf(stderr, "native: %d [%s], libopendkim: %d [%s]\n", ra,
		    ea, rb, eb);
		fail("one signer refused, the other signed", &a, &b);
	}
	if (ra == -1) {
		if (strcmp(ea, eb) != 0) {
			fprintf(stderr, "native [%s]\nlibopendkim [%s]\n", ea,
			    eb);
			fail("refused for different reasons", NULL, NULL);
		}
		if (a.len != 0 || b.len != 0)
			fail("output on refusal", &a, &b);
	} else {
		if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
			fail("the signers differ", &a, &b);
		fz_check(&a);
	}
	buf_free(&m);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
