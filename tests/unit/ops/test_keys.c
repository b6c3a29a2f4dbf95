/*
 * test_keys: `form2mail keygen` and `form2mail dns`.  Generates both kinds
 * of key in a temporary directory (mode 0600, never overwriting), checks
 * the DKIM TXT values against openssl(1) and by parsing them back, the
 * 255-octet split of long TXT values, the records of a config, and that a
 * message signed with the generated keys (sign.h) verifies with dkimpy fed
 * the produced TXT values (tests/unit/verify_dkim.py).  Run from the
 * repository root.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/keys.h"
#include "lsan_opendkim.h"
#include "deliver/sign.h"
#include "t.h"

#define VERIFY	"/usr/bin/python3 -W ignore tests/unit/verify_dkim.py"

static char	 tmpdir[] = "/tmp/test_keys.XXXXXX";
static char	 rsa_path[256], ed_path[256];
static char	 s_domain[] = "example.com";
static char	 s_sel_rsa[] = "k2026r";
static char	 s_sel_ed[] = "k2026e";
static char	 s_from[] = "forms@example.com";
static char	 s_env[] = "bounces@mail.example.net";

/* Runs cmd, returns its output (lines joined by spaces) in dst. */
static int
run(const char *cmd, char *dst, size_t dstsize)
{
	char	 sink[256];
	FILE	*p;
	size_t	 n;
	int	 st;

	dst[0] = '\0';
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	for (n = 0; n + 1 < dstsize && fgets(dst + n, (int)(dstsize - n), p) !=
	    NULL; n += strlen(dst + n))
		if (n > 0)
			dst[n - 1] = ' ';
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == '\r'))
		dst[--n] = '\0';
	while (fgets(sink, sizeof(sink), p) != NULL)
		;
	st = pclose(p);
	return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static int
write_file(const char *path, const char *a, size_t alen, const char *b,
    size_t blen)
{
	FILE	*f;
	int	 rc = 0;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	if (fwrite(a, 1, alen, f) != alen || fwrite(b, 1, blen, f) != blen)
		rc = -1;
	if (fclose(f) == EOF)
		rc = -1;
	return rc;
}

static void
test_generate(void)
{
	static const struct {
		const char	*alg;
		char		*path;
	} t[] = {
		{ "rsa-sha256", rsa_path },
		{ "ed25519-sha256", ed_path },
	};
	struct stat	 st;
	char		 err[512], path[300];
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		T_INT(keys_generate(t[i].alg, t[i].path, err, sizeof(err)), 0,
		    t[i].alg);
		T_OK(err[0] == '\0', "%s: err [%s]", t[i].alg, err);
		T_INT(stat(t[i].path, &st), 0, "stat");
		T_INT(st.st_mode & 07777, 0600, "mode");
		/* A second run must not touch the first key. */
		T_INT(keys_generate(t[i].alg, t[i].path, err, sizeof(err)), -1,
		    "overwrite");
		T_OK(strstr(err, "refusing to overwrite") != NULL, "got [%s]",
		    err);
		T_INT(stat(t[i].path, &st), 0, "still there");
		T_OK(st.st_size > 0, "%s: emptied", t[i].alg);
	}

	/* A symbolic link is not followed, even to a missing target. */
	snprintf(path, sizeof(path), "%s/link.pem", tmpdir);
	T_INT(symlink("/tmp/test_keys-nonexistent-target", path), 0, "symlink");
	T_INT(keys_generate("rsa-sha256", path, err, sizeof(err)), -1,
	    "symlink");
	T_INT(access("/tmp/test_keys-nonexistent-target", F_OK), -1,
	    "symlink target created");

	snprintf(path, sizeof(path), "%s/x.pem", tmpdir);
	T_INT(keys_generate("rsa-sha1", path, err, sizeof(err)), -1, "alg");
	T_OK(strstr(err, "unknown algorithm") != NULL, "got [%s]", err);
	T_INT(access(path, F_OK), -1, "file left by a refused algorithm");
	snprintf(path, sizeof(path), "%s/no/such/dir.pem", tmpdir);
	T_INT(keys_generate("ed25519-sha256", path, err, sizeof(err)), -1,
	    "missing dir");
	T_OK(strstr(err, path) != NULL, "path not named in [%s]", err);
}

static void
test_txt(void)
{
	struct buf	 b = BUF_INIT;
	EVP_PKEY	*pk;
	const unsigned char *p;
	unsigned char	 der[2048];
	char		 cmd[600], want[512], err[512];
	size_t		 i;
	int		 n;

	/* Ed25519: the raw key, as FIELD-NOTES.md says openssl gives it. */
	T_INT(keys_dkim_txt(ed_path, "ed25519-sha256", &b, err, sizeof(err)),
	    0, err);
	snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -pubout -outform DER "
	    "| tail -c 32 | base64 -w0", ed_path);
	T_INT(run(cmd, want, sizeof(want)), 0, cmd);
	T_OK(strlen(want) == 44, "openssl gave [%s]", want);
	snprintf(cmd, sizeof(cmd), "v=DKIM1; k=ed25519; p=%s", want);
	T_STR(b.data, cmd, "ed25519 TXT");

	/* RSA: p= parses back as a 2048-bit RSA SubjectPublicKeyInfo. */
	buf_reset(&b);
	T_INT(keys_dkim_txt(rsa_path, "rsa-sha256", &b, err, sizeof(err)), 0,
	    err);
	T_OK(b.data != NULL && strncmp(b.data, "v=DKIM1; k=rsa; p=", 18) ==
	    0, "got [%s]", b.data ? b.data : "");
	if (b.data != NULL && b.len > 18) {
		n = EVP_DecodeBlock(der, (const unsigned char *)b.data + 18,
		    (int)(b.len - 18));
		T_OK(n > 0, "base64 of [%s]", b.data + 18);
		/* EVP_DecodeBlock counts the '=' padding as zero octets. */
		for (i = b.len; i > 18 && b.data[i - 1] == '='; i--)
			n--;
		p = der;
		pk = d2i_PUBKEY(NULL, &p, n);
		T_OK(pk != NULL, "p= is not a SubjectPublicKeyInfo");
		if (pk != NULL) {
			T_INT(EVP_PKEY_get_base_id(pk), EVP_PKEY_RSA, "type");
			T_INT(EVP_PKEY_get_bits(pk), 2048, "bits");
			EVP_PKEY_free(pk);
		}
	}
	snprintf(cmd, sizeof(cmd), "openssl pkey -in %s -pubout -outform DER "
	    "| base64 -w0", rsa_path);
	T_INT(run(cmd, want, sizeof(want)), 0, cmd);
	T_OK(b.data != NULL && strncmp(b.data + 18, want, strlen(want)) == 0,
	    "RSA p= differs from openssl's");

	/* The key must match the algorithm; the file must be private. */
	buf_reset(&b);
	T_INT(keys_dkim_txt(rsa_path, "ed25519-sha256", &b, err, sizeof(err)),
	    -1, "rsa as ed25519");
	T_OK(strstr(err, "not an Ed25519 key") != NULL, "got [%s]", err);
	T_INT(keys_dkim_txt(ed_path, "rsa-sha256", &b, err, sizeof(err)), -1,
	    "ed25519 as rsa");
	T_OK(strstr(err, "not an RSA key") != NULL, "got [%s]", err);
	T_INT(b.len, 0, "out untouched on error");
	T_INT(chmod(rsa_path, 0640), 0, "chmod");
	T_INT(keys_dkim_txt(rsa_path, "rsa-sha256", &b, err, sizeof(err)), -1,
	    "group-readable key");
	T_OK(strstr(err, rsa_path) != NULL, "got [%s]", err);
	T_INT(chmod(rsa_path, 0600), 0, "chmod");
	buf_free(&b);
}

static void
test_record(void)
{
	static const struct {
		size_t		 len;	/* value of len 'a'..'z' cycling */
		int		 strings;
	} t[] = {
		{ 0, 1 }, { 1, 1 }, { 254, 1 }, { 255, 1 }, { 256, 2 },
		{ 510, 2 }, { 511, 3 }, { 1000, 4 },
	};
	struct buf	 b = BUF_INIT, joined = BUF_INIT;
	char		 value[1001], err[256];
	const char	*p, *q;
	size_t		 i, j, k;
	int		 strings;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		for (j = 0; j < t[i].len; j++)
			value[j] = (char)('a' + j % 26);
		value[t[i].len] = '\0';
		buf_reset(&b);
		buf_reset(&joined);
		T_INT(keys_record(&b, "n.example.", "TXT", value, err,
		    sizeof(err)), 0, "keys_record");
		T_OK(b.data != NULL && strncmp(b.data, "n.example. TXT \"",
		    16) == 0 && b.data[b.len - 1] == '\n', "case %zu: [%s]",
		    i, b.data ? b.data : "");
		if (b.data == NULL)
			continue;
		strings = 0;
		for (p = b.data + 15; *p == '"'; p = q + 1) {
			q = strchr(p + 1, '"');
			if (q == NULL)
				break;
			k = (size_t)(q - p - 1);
			T_OK(k <= 255, "case %zu: string of %zu octets", i, k);
			T_OK(k == 255 || q[1] == '\n', "case %zu: short string "
			    "not last", i);
			T_INT(buf_add(&joined, p + 1, k), 0, "buf_add");
			strings++;
			if (q[1] == ' ')
				q++;
		}
		T_INT(strings, t[i].strings, "number of strings");
		T_STR(joined.data ? joined.data : "", value, "rejoined");
	}
	buf_reset(&b);
	T_INT(keys_record(&b, "n.", "TXT", "a\"b", err, sizeof(err)), -1,
	    "quote");
	T_INT(keys_record(&b, "n.", "TXT", "a\nb", err, sizeof(err)), -1,
	    "newline");
	T_INT(b.len, 0, "nothing appended");
	buf_free(&b);
	buf_free(&joined);
}

static void
conf_keys(struct conf *cf, struct conf_dkim *d)
{
	memset(cf, 0, sizeof(*cf));
	d[0].domain = s_domain;
	d[0].selector = s_sel_rsa;
	d[0].alg = CONF_DKIM_RSA_SHA256;
	d[0].key_file = rsa_path;
	d[1].domain = s_domain;
	d[1].selector = s_sel_ed;
	d[1].alg = CONF_DKIM_ED25519_SHA256;
	d[1].key_file = ed_path;
	cf->dkim = d;
	cf->ndkim = 2;
	cf->from.addr = s_from;
	cf->envelope_from = s_env;
}

static void
test_dns(void)
{
	static const struct {
		const char	*spf;
		const char	*rua;
		const char	*want_spf;	/* NULL: a comment line */
		const char	*want_dmarc;
	} t[] = {
		{ "include:_spf.example.net", "dmarc@example.com",
		  "mail.example.net. TXT \"v=spf1 include:_spf.example.net "
		  "-all\"\n",
		  "_dmarc.example.com. TXT \"v=DMARC1; p=quarantine; "
		  "rua=mailto:dmarc@example.com\"\n" },
		{ "  ip4:192.0.2.1 ip6:2001:db8::1  ", NULL,
		  "mail.example.net. TXT \"v=spf1 ip4:192.0.2.1 "
		  "ip6:2001:db8::1 -all\"\n",
		  "_dmarc.example.com. TXT \"v=DMARC1; p=quarantine\"\n" },
		{ NULL, NULL, NULL,
		  "_dmarc.example.com. TXT \"v=DMARC1; p=quarantine\"\n" },
		{ "", NULL, NULL,
		  "_dmarc.example.com. TXT \"v=DMARC1; p=quarantine\"\n" },
	};
	static const struct {
		const char	*spf;
		const char	*rua;
	} bad[] = {
		{ "include:x ~all", NULL }, { "-all", NULL },
		{ "v=spf1 mx", NULL }, { "a\"b", NULL }, { "mx; x", NULL },
		{ "mx", "a@b,c@d" }, { "mx", "nobody" },
		{ "mx", "a@b; p=none" },
	};
	struct conf		 cf;
	struct conf_dkim	 d[2];
	struct buf		 b = BUF_INIT, txt = BUF_INIT;
	char			 err[512], line[1024];
	size_t			 i;

	conf_keys(&cf, d);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&b);
		err[0] = '\0';
		T_INT(keys_dns_records(&cf, t[i].spf, t[i].rua, &b, err,
		    sizeof(err)), 0, err);
		if (b.data == NULL)
			continue;
		if (t[i].want_spf != NULL)
			T_OK(strncmp(b.data, t[i].want_spf,
			    strlen(t[i].want_spf)) == 0, "case %zu:\n  "
			    "expected [%s]\n  got      [%.*s]", i,
			    t[i].want_spf, (int)strcspn(b.data, "\n") + 1,
			    b.data);
		else
			T_OK(b.data[0] == ';' && strstr(b.data, "v=spf1") ==
			    NULL, "case %zu: got [%s]", i, b.data);
		T_OK(b.len >= strlen(t[i].want_dmarc) && strcmp(b.data +
		    b.len - strlen(t[i].want_dmarc), t[i].want_dmarc) == 0,
		    "case %zu: expected DMARC [%s] at the end of [%s]", i,
		    t[i].want_dmarc, b.data);
		T_OK(strstr(b.data, "k2026r._domainkey.example.com. TXT "
		    "\"v=DKIM1; k=rsa; p=") != NULL, "case %zu: no RSA "
		    "record in [%s]", i, b.data);
		/* RSA 2048: 18 + 392 octets, two strings. */
		T_OK(strstr(b.data, "\" \"") != NULL, "case %zu: RSA value not "
		    "split", i);
		buf_reset(&txt);
		T_INT(keys_dkim_txt(ed_path, "ed25519-sha256", &txt, err,
		    sizeof(err)), 0, err);
		snprintf(line, sizeof(line), "k2026e._domainkey.example.com. "
		    "TXT \"%s\"\n", txt.data ? txt.data : "");
		T_OK(strstr(b.data, line) != NULL, "case %zu: expected [%s] "
		    "in [%s]", i, line, b.data);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		err[0] = '\0';
		T_INT(keys_dns_records(&cf, bad[i].spf, bad[i].rua, &b, err,
		    sizeof(err)), -1, bad[i].rua ? bad[i].rua : bad[i].spf);
		T_OK(err[0] != '\0', "bad case %zu: no reason", i);
	}
	/* No envelope_from: SPF goes on the From domain. */
	cf.envelope_from = NULL;
	buf_reset(&b);
	T_INT(keys_dns_records(&cf, "mx", NULL, &b, err, sizeof(err)), 0, err);
	T_OK(b.data != NULL && strncmp(b.data, "example.com. TXT \"v=spf1 mx "
	    "-all\"\n", 34) == 0, "got [%s]", b.data ? b.data : "");
	d[1].selector = s_from;		/* '@' is not LDH */
	T_INT(keys_dns_records(&cf, "mx", NULL, &b, err, sizeof(err)), -1,
	    "bad selector");
	buf_free(&b);
	buf_free(&txt);
}

/* The generated keys sign, and the produced TXT values verify them. */
static void
test_sign_verify(void)
{
	static const char msg[] =
	    "From: Forms <forms@example.com>\r\n"
	    "To: office@example.com\r\n"
	    "Subject: key rotation test\r\n"
	    "Date: Sat, 28 Nov 2026 02:00:00 +0000\r\n"
	    "Message-ID: <k1@example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "Hello.\r\n";
	struct conf		 cf;
	struct conf_dkim	 d[2];
	struct sign		*s = NULL;
	struct buf		 sig = BUF_INIT, txt = BUF_INIT;
	char			 err[512], path[300], rtxt[300], etxt[300];
	char			 cmd[1400], out[1024];
	int			 st;

	conf_keys(&cf, d);
	snprintf(rtxt, sizeof(rtxt), "%s/r.txt", tmpdir);
	snprintf(etxt, sizeof(etxt), "%s/e.txt", tmpdir);
	snprintf(path, sizeof(path), "%s/m.eml", tmpdir);
	T_INT(keys_dkim_txt(rsa_path, "rsa-sha256", &txt, err, sizeof(err)), 0,
	    err);
	T_INT(write_file(rtxt, txt.data, txt.len, "", 0), 0, rtxt);
	buf_reset(&txt);
	T_INT(keys_dkim_txt(ed_path, "ed25519-sha256", &txt, err, sizeof(err)),
	    0, err);
	T_INT(write_file(etxt, txt.data, txt.len, "", 0), 0, etxt);

	T_INT(sign_open(&cf, &s, err, sizeof(err)), 0, err);
	if (s == NULL)
		goto out;
	T_INT(sign_message(s, msg, sizeof(msg) - 1, &sig, err, sizeof(err)), 0,
	    err);
	T_INT(write_file(path, sig.data ? sig.data : "", sig.len, msg,
	    sizeof(msg) - 1), 0, path);
	snprintf(cmd, sizeof(cmd), VERIFY " --expect 2 %s "
	    "k2026r._domainkey.example.com=%s "
	    "k2026e._domainkey.example.com=%s 2>&1", path, rtxt, etxt);
	st = run(cmd, out, sizeof(out));
	T_INT(st, 0, out);

	/* A TXT of another key must fail (the verifier is not a no-op). */
	snprintf(cmd, sizeof(cmd), VERIFY " --expect 2 %s "
	    "k2026r._domainkey.example.com=%s "
	    "k2026e._domainkey.example.com=%s >/dev/null 2>&1", path,
	    "tests/data/dkim/rsa2048.txt", etxt);
	st = run(cmd, out, sizeof(out));
	T_INT(st, 1, "verify with a foreign RSA key");
out:
	sign_close(s);
	buf_free(&sig);
	buf_free(&txt);
}

int
main(void)
{
	char	 cmd[300];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(rsa_path, sizeof(rsa_path), "%s/rsa.pem", tmpdir);
	snprintf(ed_path, sizeof(ed_path), "%s/ed.pem", tmpdir);
	test_generate();
	test_txt();
	test_record();
	test_dns();
	test_sign_verify();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) == -1)
		perror("system");
	T_DONE();
}
