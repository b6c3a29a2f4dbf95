/*
 * test_sign: DKIM signing.  Checks key loading and its refusals, the exact
 * output against golden files (fixed signing time), that every signature
 * really verifies (tests/unit/verify_dkim.py, dkimpy, offline DNS from the
 * committed TXT records or from keys made here), that tampering is caught,
 * and that malformed messages are refused.  Both signers (the built-in
 * one and libopendkim, the reference) must give the same octets for every
 * message of the differential table, with keys of several sizes and
 * names, and refuse the same messages; the self-test must catch a broken
 * built-in signer and fall back.  Run from the repository root.
 *
 * F2M_UPDATE_GOLDEN=1 rewrites tests/data/dkim/msg-*.sig (check the diff).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "lsan_opendkim.h"
#include "deliver/sign.h"
#include "t.h"

#define DATA		"tests/data/dkim/"
#define FIXED		1700000000	/* 2023-11-14T22:13:20Z, in the past */
#define VERIFY		"/usr/bin/python3 -W ignore tests/unit/verify_dkim.py"
#define DNS_RSA		"f2m2023r._domainkey.example.com=" DATA "rsa2048.txt"
#define DNS_ED		"f2m2023e._domainkey.example.com=" DATA "ed25519.txt"
#define DNS_FILES	DNS_RSA " " DNS_ED

static char	 tmpdir[] = "/tmp/test_sign.XXXXXX";
static char	 s_domain[] = "example.com";
static char	 s_sel_rsa[] = "f2m2023r";
static char	 s_sel_ed[] = "f2m2023e";
static char	 s_bad_sel[] = "a;b=c";
static char	 s_bad_dom[] = "example..com";

static int
read_all(const char *path, struct buf *b)
{
	char	 chunk[4096];
	size_t	 n;
	FILE	*f;
	int	 rc = 0;

	buf_reset(b);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_add(b, chunk, n) == -1)
			rc = -1;
	if (ferror(f))
		rc = -1;
	fclose(f);
	if (rc == 0 && b->data == NULL && buf_add(b, "", 0) == -1)
		rc = -1;
	return rc;
}

static int
write_all(const char *path, const char *a, size_t alen, const char *b,
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

/* Copies DATA/name into tmpdir with mode (git does not keep 0600). */
static char *
key_copy(const char *name, mode_t mode)
{
	static char	 path[8][256];
	static int	 next;
	struct buf	 b = BUF_INIT;
	char		*p = path[next++ % 8];
	char		 src[256];

	snprintf(src, sizeof(src), DATA "%s", name);
	snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
	unlink(p);
	if (read_all(src, &b) == -1 || write_all(p, b.data, b.len, "", 0) ==
	    -1 || chmod(p, mode) == -1) {
		fprintf(stderr, "cannot copy %s to %s: %s\n", src, p,
		    strerror(errno));
		exit(1);
	}
	buf_free(&b);
	return p;
}

static void
conf_keys(struct conf *cf, struct conf_dkim *d, char *rsa, char *ed)
{
	size_t	 n = 0;

	memset(cf, 0, sizeof(*cf));
	/* Ed25519 first in the config: the output must still put RSA first. */
	if (ed != NULL) {
		d[n].domain = s_domain;
		d[n].selector = s_sel_ed;
		d[n].alg = CONF_DKIM_ED25519_SHA256;
		d[n].key_file = ed;
		n++;
	}
	if (rsa != NULL) {
		d[n].domain = s_domain;
		d[n].selector = s_sel_rsa;
		d[n].alg = CONF_DKIM_RSA_SHA256;
		d[n].key_file = rsa;
		n++;
	}
	cf->dkim = d;
	cf->ndkim = n;
}

/*
 * Runs the verifier on sig+msg with the key records dns ("NAME=FILE ...");
 * returns its exit status (-1: not run).
 */
static int
verify_dns(const char *name, const struct buf *sig, const char *msg,
    size_t len, int expect, const char *dns)
{
	char	 path[256], cmd[4096], out[300];
	int	 st;

	snprintf(path, sizeof(path), "%s/%s.eml", tmpdir, name);
	snprintf(out, sizeof(out), "%s/%s.out", tmpdir, name);
	if (write_all(path, sig->data, sig->len, msg, len) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), VERIFY " --expect %d %s %s >%s 2>&1",
	    expect, path, dns, out);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int
verify(const char *name, const struct buf *sig, const char *msg,
    size_t len, int expect)
{
	return verify_dns(name, sig, msg, len, expect, DNS_FILES);
}

/*
 * Many verifications in one Python process (its start costs more than a
 * verification): batch_add() writes sig+msg and a line of arguments for
 * verify_dkim.main(); batch_run() runs them all and returns how many
 * failed (-1: not run), their output in tmpdir/batch.out.
 */
static FILE	*batch;
static int	 nbatch;

static void
batch_add(const char *name, const struct buf *sig, const char *msg,
    size_t len, int expect, const char *dns)
{
	char	 path[256];

	if (batch == NULL) {
		snprintf(path, sizeof(path), "%s/batch.txt", tmpdir);
		if ((batch = fopen(path, "w")) == NULL) {
			T_OK(0, "cannot write %s", path);
			return;
		}
	}
	snprintf(path, sizeof(path), "%s/%s.eml", tmpdir, name);
	T_INT(write_all(path, sig->data, sig->len, msg, len), 0, path);
	fprintf(batch, "--expect %d %s %s\n", expect, path, dns);
	nbatch++;
}

#define VERIFY_BATCH "/usr/bin/python3 -W ignore -c '"			\
	"import sys, shlex\n"						\
	"sys.path.insert(0, \"tests/unit\")\n"				\
	"import verify_dkim\n"						\
	"bad = 0\n"							\
	"for line in open(sys.argv[1]):\n"				\
	"    if verify_dkim.main([\"verify_dkim\"] + shlex.split(line)):\n" \
	"        print(\"FAILED:\", line.strip())\n"			\
	"        bad += 1\n"						\
	"sys.exit(min(bad, 100))' %s/batch.txt >%s/batch.out 2>&1"

static int
batch_run(void)
{
	char	 cmd[1024];
	int	 st;

	if (batch == NULL)
		return 0;
	if (fclose(batch) == EOF)
		return -1;
	batch = NULL;
	snprintf(cmd, sizeof(cmd), VERIFY_BATCH, tmpdir, tmpdir);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
show(const char *name)
{
	char	 cmd[512];

	snprintf(cmd, sizeof(cmd), "cat %s/%s.out >&2", tmpdir, name);
	if (system(cmd) == -1)
		perror("system");
}

/* Every line CRLF-terminated, at most 998 octets, no bare CR or LF. */
static int
lines_ok(const char *s, size_t len)
{
	size_t	 i, line = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				return 0;
			i++;
			line = 0;
		} else if (s[i] == '\n' || ++line > 998)
			return 0;
	}
	return len > 0 && s[len - 1] == '\n';
}

static size_t
count(const char *s, const char *needle)
{
	size_t	 n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* The value of tag t= of the nth signature, unfolded, in dst. */
static const char *
tag(const char *sigs, int nth, const char *t, char *dst, size_t dstsize)
{
	const char	*p = sigs, *end;
	char		 key[16];
	size_t		 o = 0;

	while (nth-- > 0 && p != NULL)
		if ((p = strstr(p + 1, "DKIM-Signature:")) == NULL)
			return "";
	if (p == NULL || *p == '\0')
		return "";
	if ((end = strstr(p + 1, "DKIM-Signature:")) == NULL)
		end = p + strlen(p);
	snprintf(key, sizeof(key), " %s=", t);
	for (; p < end; p++)
		if ((*p == ' ' || *p == '\t' || *p == ';') &&
		    strncmp(p + 1, key + 1, strlen(key) - 1) == 0)
			break;
	if (p >= end)
		return "";
	for (p += strlen(key); p < end && *p != ';' && o + 1 < dstsize; p++)
		if (*p != '\r' && *p != '\n' && *p != '\t' && *p != ' ')
			dst[o++] = *p;
	dst[o] = '\0';
	return dst;
}

static void
test_open_errors(void)
{
	static const struct {
		const char	*file;	/* NULL: no such file */
		mode_t		 mode;
		int		 ed;	/* configured as ed25519-sha256 */
		const char	*want;
	} t[] = {
		{ NULL, 0600, 0, "No such file" },
		{ "rsa2048.pem", 0640, 0, "by group or others" },
		{ "rsa2048.pem", 0604, 0, "by group or others" },
		{ "rsa2048.pem", 0620, 0, "by group or others" },
		{ "rsa512.pem", 0600, 0, "RSA key of 512 bits" },
		{ "ec256.pem", 0600, 0, "not an RSA key" },
		{ "ec256.pem", 0600, 1, "not an Ed25519 key" },
		{ "ed25519.pem", 0600, 0, "not an RSA key" },
		{ "rsa2048.pem", 0600, 1, "not an Ed25519 key" },
		{ "rsa2048-pkcs1.pem", 0600, 1, "not an Ed25519 key" },
		{ "rsa2048.txt", 0600, 0, "no unencrypted PEM private key" },
		{ "ed25519-enc.pem", 0600, 1, "no unencrypted PEM private key" },
		{ "empty", 0600, 0, "empty file" },
		{ "dir", 0700, 0, "not a regular file" },
	};
	struct conf		 cf;
	struct conf_dkim	 d[2];
	struct sign		*s;
	char			 err[512], path[256];
	size_t			 i;
	int			 fd;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].file == NULL)
			snprintf(path, sizeof(path), "%s/missing.pem", tmpdir);
		else if (strcmp(t[i].file, "empty") == 0) {
			snprintf(path, sizeof(path), "%s/empty.pem", tmpdir);
			if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC,
			    0600)) == -1 || close(fd) == -1)
				T_OK(0, "create %s", path);
		} else if (strcmp(t[i].file, "dir") == 0) {
			snprintf(path, sizeof(path), "%s/dir.pem", tmpdir);
			if (mkdir(path, 0700) == -1 && errno != EEXIST)
				T_OK(0, "mkdir %s", path);
		} else
			snprintf(path, sizeof(path), "%s",
			    key_copy(t[i].file, t[i].mode));
		conf_keys(&cf, d, t[i].ed ? NULL : path, t[i].ed ? path :
		    NULL);
		err[0] = '\0';
		s = (struct sign *)&cf;	/* must be reset to NULL */
		T_INT(sign_open(&cf, &s, err, sizeof(err)), -1, t[i].want);
		T_OK(s == NULL, "case %zu: *out not NULL on error", i);
		T_OK(strstr(err, t[i].want) != NULL, "case %zu: expected "
		    "[%s] in [%s]", i, t[i].want, err);
		T_OK(strstr(err, path) != NULL, "case %zu: key file not "
		    "named in [%s]", i, err);
		T_OK(strstr(err, "PRIVATE") == NULL && strstr(err, "MII") ==
		    NULL && strstr(err, "MC4") == NULL,
		    "case %zu: key material in [%s]", i, err);
		sign_close(s);
	}

	/* The second key is bad: nothing of the first may leak. */
	conf_keys(&cf, d, key_copy("rsa512.pem", 0600),
	    key_copy("ed25519.pem", 0600));
	T_INT(sign_open(&cf, &s, err, sizeof(err)), -1, "one bad key of two");
	T_OK(strstr(err, "512 bits") != NULL, "got [%s]", err);

	/* Selector and domain become tags of the header: LDH only. */
	conf_keys(&cf, d, key_copy("rsa2048.pem", 0600), NULL);
	d[0].selector = s_bad_sel;
	T_INT(sign_open(&cf, &s, err, sizeof(err)), -1, "bad selector");
	T_OK(strstr(err, "not a domain name") != NULL, "got [%s]", err);
	d[0].selector = s_sel_rsa;
	d[0].domain = s_bad_dom;
	T_INT(sign_open(&cf, &s, err, sizeof(err)), -1, "bad domain");

	cf.ndkim = 0;
	T_INT(sign_open(&cf, &s, err, sizeof(err)), -1, "no keys");
	T_OK(strstr(err, "need 1 to 8") != NULL, "got [%s]", err);
	cf.ndkim = 9;
	T_INT(sign_open(&cf, &s, err, sizeof(err)), -1, "nine keys");

	sign_close(NULL);
}

static void
test_golden(struct sign *s)
{
	/* "built" is message_build()'s own golden output (test_message
	 * keeps it byte-identical), so build + sign is covered end to end. */
	static const char *const names[] = {
		"full", "folded", "minimal", "emptybody", "multipart", "built"
	};
	static const char *const hlist[] = {
		"From:Reply-To:To:Cc:Subject:Date:Message-ID:MIME-Version:"
		    "Content-Type:Content-Transfer-Encoding:from",
		"From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:"
		    "Content-Transfer-Encoding:from",
		"From:To:Subject:Date:Message-ID:from",
		"From:To:Subject:Date:Message-ID:from",
		"From:Reply-To:To:Subject:Date:Message-ID:MIME-Version:"
		    "Content-Type:from",
		"From:To:Subject:Date:Message-ID:MIME-Version:Content-Type:"
		    "Content-Transfer-Encoding:from",
	};
	struct buf	 msg = BUF_INIT, out = BUF_INIT, gold = BUF_INIT;
	char		 path[256], err[512], v[512];
	const char	*update = getenv("F2M_UPDATE_GOLDEN");
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), DATA "msg-%s.eml", names[i]);
		T_INT(read_all(path, &msg), 0, path);
		buf_reset(&out);
		err[0] = '\0';
		rc = sign_message(s, msg.data, msg.len, &out, err, sizeof(err));
		T_INT(rc, 0, names[i]);
		if (rc != 0) {
			fprintf(stderr, "  %s: %s\n", names[i], err);
			continue;
		}
		T_INT(count(out.data, "DKIM-Signature: "), 2, names[i]);
		T_OK(strncmp(out.data, "DKIM-Signature: v=1; a=rsa-sha256; "
		    "c=relaxed/relaxed; d=example.com; s=f2m2023r;", 59) == 0,
		    "%s: RSA signature not first: [%.80s]", names[i],
		    out.data);
		T_STR(tag(out.data, 1, "a", v, sizeof(v)), "ed25519-sha256",
		    names[i]);
		T_STR(tag(out.data, 0, "t", v, sizeof(v)), "1700000000",
		    names[i]);
		T_STR(tag(out.data, 0, "h", v, sizeof(v)), hlist[i], names[i]);
		T_STR(tag(out.data, 1, "h", v, sizeof(v)), hlist[i], names[i]);
		T_OK(lines_ok(out.data, out.len), "%s: a line is not CRLF or "
		    "over 998 octets:\n%s", names[i], out.data);

		snprintf(path, sizeof(path), DATA "msg-%s.sig", names[i]);
		if (update != NULL && strcmp(update, "1") == 0)
			T_INT(write_all(path, out.data, out.len, "", 0), 0,
			    path);
		T_INT(read_all(path, &gold), 0, path);
		T_STR(out.data, gold.data != NULL ? gold.data : "", path);

		rc = verify(names[i], &out, msg.data, msg.len, 2);
		T_INT(rc, 0, names[i]);
		if (rc != 0) {
			fprintf(stderr, "  message %s:\n", names[i]);
			show(names[i]);
		}
	}
	buf_free(&msg);
	buf_free(&out);
	buf_free(&gold);
}

/* Replaces the first occurrence of from by to in src into dst. */
static void
edit(struct buf *dst, const struct buf *src, const char *from,
    const char *to)
{
	const char	*p = strstr(src->data, from);

	buf_reset(dst);
	if (p == NULL) {
		T_OK(0, "edit: [%s] not found", from);
		return;
	}
	if (buf_add(dst, src->data, (size_t)(p - src->data)) == -1 ||
	    buf_adds(dst, to) == -1 || buf_adds(dst, p + strlen(from)) == -1)
		T_OK(0, "edit: out of memory");
}

static void
test_tamper(struct sign *s)
{
	static const struct {
		const char	*from, *to;
		int		 want;	/* verifier exit status */
		const char	*what;
	} t[] = {
		{ "Subject: Contact: Ada", "Subject: Contact: Bob", 1,
		    "changed Subject" },
		{ "From: Example", "From: evil@example.org\r\nFrom: Example", 1,
		    "second From added (oversigned)" },
		{ "Reply-To: Visitor <visitor@", "Reply-To: Visitor <mallory@",
		    1, "changed Reply-To" },
		{ "Cc: archive@", "Cc: leak@example.org, archive@", 1,
		    "changed Cc" },
		{ "Caf=C3=A9", "Tea", 1, "changed body" },
		{ "X-Originating-IP: [192.0.2.7]",
		    "X-Originating-IP: [192.0.2.8]", 0,
		    "unsigned header changed" },
		{ "Subject: Contact: Ada", "Subject:   Contact:  Ada", 0,
		    "whitespace only (relaxed)" },
		{ "Subject: Contact: Ada", "Subject: Contact:\r\n Ada", 0,
		    "refolded (relaxed)" },
		{ "vous pla=C3=AEt.\r\n", "vous pla=C3=AEt.\r\n\r\n\r\n", 0,
		    "trailing empty lines (relaxed)" },
	};
	struct buf	 msg = BUF_INIT, out = BUF_INIT, bad = BUF_INIT;
	char		 err[512];
	size_t		 i;
	int		 rc;

	T_INT(read_all(DATA "msg-full.eml", &msg), 0, "msg-full.eml");
	T_INT(sign_message(s, msg.data, msg.len, &out, err, sizeof(err)), 0,
	    "sign msg-full");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		edit(&bad, &msg, t[i].from, t[i].to);
		rc = verify("tamper", &out, bad.data, bad.len, 2);
		T_INT(rc, t[i].want, t[i].what);
		if (rc != t[i].want)
			show("tamper");
	}
	/* A signature that does not match its key record must fail too. */
	edit(&bad, &out, "s=f2m2023r", "s=f2m2023e");
	T_INT(verify("tamper", &bad, msg.data, msg.len, 2), 1,
	    "RSA signature checked against the Ed25519 record");
	buf_free(&msg);
	buf_free(&out);
	buf_free(&bad);
}

static const enum sign_impl impls[] = { SIGN_NATIVE, SIGN_OPENDKIM };
static const char *const impl_names[] = { "native", "libopendkim" };

/* Both signers refuse exactly these, with the same reason. */
static void
test_malformed(struct sign *s)
{
	static const char	 hdr[] = "From: forms@example.com\r\n"
	    "To: sales@example.com\r\nSubject: x\r\n"
	    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n";
	static const struct {
		const char	*msg;
		size_t		 len;	/* 0: strlen */
		const char	*want;
	} t[] = {
		{ "From: a@example.com\r\nTo: b@example.com\r\n", 0,
		    "no empty line" },
		{ "", 0, "no empty line" },
		{ "From: a@example.com\nTo: b@example.com\r\n\r\nx\r\n", 0,
		    "bare CR or LF in the header" },
		{ "From: a@example.com\rTo: b@example.com\r\n\r\nx\r\n", 0,
		    "bare CR or LF in the header" },
		{ "From: a@example.com\r\nTo: b@ex\0ample.com\r\n\r\nx\r\n",
		    46, "NUL in the header" },
		{ " From: a@example.com\r\n\r\nx\r\n", 0,
		    "continuation line without" },
		{ "From a@example.com\r\n\r\nx\r\n", 0, "field name and colon" },
		{ ": a@example.com\r\n\r\nx\r\n", 0, "field name and colon" },
		{ "Fr\xc3\xb6m: a@example.com\r\n\r\nx\r\n", 0,
		    "field name and colon" },
		{ "From: a@example.com\r\nX;Y: z\r\n\r\nx\r\n", 0,
		    "field name and colon" },
		{ "From: a@example.com\r\nX Y: z\r\n\r\nx\r\n", 0,
		    "field name and colon" },
		{ "To: b@example.com\r\n\r\nx\r\n", 0, "no From header field" },
		{ "FROMX: a@example.com\r\n\r\nx\r\n", 0,
		    "no From header field" },
		{ "From: a@example.com\r\nSubject: a\vb\r\n\r\nx\r\n", 0,
		    "control character in the header" },
		{ "From: a@example.com\r\nSubject: a\x01" "b\r\n\r\nx\r\n", 0,
		    "control character in the header" },
		{ "From: a@example.com\r\nSubject: a\x7f" "b\r\n\r\nx\r\n", 0,
		    "control character in the header" },
		{ "From: a@example.com\r\nSubject: a\x1b[31m\r\n\r\nx\r\n", 0,
		    "control character in the header" },
		{ "From: a@example.com\r\nDKIM-Signature: v=1; a=rsa-sha256; "
		    "d=example.com; s=x; h=from; bh=; b=\r\n\r\nx\r\n", 0,
		    "already has a DKIM-Signature" },
		{ "From: a@example.com\r\ndkim-signature: x\r\n\r\nx\r\n", 0,
		    "already has a DKIM-Signature" },
	};
	static const struct {
		const char	*body;
		const char	*want;
	} tb[] = {
		{ "line\nline\r\n", "bare CR or LF in the body" },
		{ "line\r\rline\r\n", "bare CR or LF in the body" },
		{ "last line without CRLF\r", "bare CR or LF in the body" },
		{ "last line without CRLF", "does not end in CRLF" },
		{ "last line, WSP, no CRLF \t", "does not end in CRLF" },
		{ "x\r\n\r\n ", "does not end in CRLF" },
	};
	struct buf	 out = BUF_INIT, m = BUF_INIT;
	char		 err[512], what[128];
	size_t		 i, len, k;
	int		 j;

	for (k = 0; k < 2; k++) {
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			buf_reset(&out);
			T_INT(buf_adds(&out, "keep"), 0, "buf");
			len = t[i].len ? t[i].len : strlen(t[i].msg);
			err[0] = '\0';
			snprintf(what, sizeof(what), "%s: %s", impl_names[k],
			    t[i].want);
			T_INT(sign_message_impl(s, impls[k], t[i].msg, len,
			    &out, err, sizeof(err)), -1, what);
			T_OK(strstr(err, t[i].want) != NULL, "%s case %zu: "
			    "expected [%s] in [%s]", impl_names[k], i,
			    t[i].want, err);
			T_STR(out.data, "keep", "out untouched on error");
		}
		for (i = 0; i < sizeof(tb) / sizeof(tb[0]); i++) {
			buf_reset(&m);
			T_INT(buf_printf(&m, "%s\r\n%s", hdr, tb[i].body), 0,
			    "buf");
			buf_reset(&out);
			err[0] = '\0';
			snprintf(what, sizeof(what), "%s: %s", impl_names[k],
			    tb[i].want);
			T_INT(sign_message_impl(s, impls[k], m.data, m.len,
			    &out, err, sizeof(err)), -1, what);
			T_OK(strstr(err, tb[i].want) != NULL, "%s body %zu: "
			    "expected [%s] in [%s]", impl_names[k], i,
			    tb[i].want, err);
			T_INT(out.len, 0, "out untouched on error");
		}
	}

	/* NUL in the body. */
	buf_reset(&m);
	T_INT(buf_printf(&m, "%s\r\nab\r\n", hdr), 0, "buf");
	m.data[m.len - 3] = '\0';
	T_INT(sign_message(s, m.data, m.len, &out, err, sizeof(err)), -1,
	    "NUL in body");
	T_OK(strstr(err, "NUL in the body") != NULL, "got [%s]", err);

	/* Lines of exactly 998 octets pass, 999 do not. */
	for (j = 0; j < 2; j++) {
		buf_reset(&m);
		T_INT(buf_printf(&m, "%sX-Long: %0*d\r\n\r\nx\r\n", hdr,
		    998 - 8 + j, 0), 0, "buf");
		buf_reset(&out);
		T_INT(sign_message(s, m.data, m.len, &out, err, sizeof(err)),
		    j ? -1 : 0, j ? "header line of 999" : "header line of 998");
		buf_reset(&m);
		T_INT(buf_printf(&m, "%s\r\n%0*d\r\n", hdr, 998 + j, 0), 0,
		    "buf");
		buf_reset(&out);
		T_INT(sign_message(s, m.data, m.len, &out, err, sizeof(err)),
		    j ? -1 : 0, j ? "body line of 999" : "body line of 998");
	}
	T_OK(strstr(err, "body line over 998") != NULL, "got [%s]", err);

	/* Too many header fields. */
	buf_reset(&m);
	T_INT(buf_adds(&m, hdr), 0, "buf");
	for (i = 0; i < 300; i++)
		T_INT(buf_adds(&m, "X-A: b\r\n"), 0, "buf");
	T_INT(buf_adds(&m, "\r\nx\r\n"), 0, "buf");
	T_INT(sign_message(s, m.data, m.len, &out, err, sizeof(err)), -1,
	    "300 header fields");
	T_OK(strstr(err, "header fields") != NULL, "got [%s]", err);

	/* 64 fields to sign pass (hdr holds 4), 65 do not, with both. */
	for (k = 0; k < 2; k++) {
		for (j = 0; j < 2; j++) {
			buf_reset(&m);
			T_INT(buf_adds(&m, hdr), 0, "buf");
			for (i = 0; i < (size_t)(60 + j); i++)
				T_INT(buf_adds(&m, "Cc: c@example.com\r\n"), 0,
				    "buf");
			T_INT(buf_adds(&m, "\r\nx\r\n"), 0, "buf");
			buf_reset(&out);
			snprintf(what, sizeof(what), "%s: %d fields to sign",
			    impl_names[k], 64 + j);
			T_INT(sign_message_impl(s, impls[k], m.data, m.len,
			    &out, err, sizeof(err)), j ? -1 : 0, what);
		}
		T_OK(strstr(err, "over 64 header fields to sign") != NULL,
		    "got [%s]", err);
	}

	buf_free(&out);
	buf_free(&m);
}

static void
test_now(struct sign *s)
{
	struct buf	 msg = BUF_INIT, out = BUF_INIT;
	char		 err[512], v[64];
	long		 t, now;
	size_t		 k;

	sign_fixed_time(s, 0);
	T_INT(read_all(DATA "msg-minimal.eml", &msg), 0, "msg-minimal.eml");
	for (k = 0; k < 2; k++) {
		buf_reset(&out);
		now = (long)time(NULL);
		T_INT(sign_message_impl(s, impls[k], msg.data, msg.len, &out,
		    err, sizeof(err)), 0, impl_names[k]);
		t = strtol(tag(out.data, 0, "t", v, sizeof(v)), NULL, 10);
		T_OK(t >= now && t <= now + 5, "%s: t=%ld, now %ld",
		    impl_names[k], t, now);
		t = strtol(tag(out.data, 1, "t", v, sizeof(v)), NULL, 10);
		T_OK(t >= now && t <= now + 5, "%s: t=%ld, now %ld",
		    impl_names[k], t, now);
		T_INT(verify("now", &out, msg.data, msg.len, 2), 0,
		    "verify t=now");
	}
	sign_fixed_time(s, FIXED);
	buf_free(&msg);
	buf_free(&out);
}

/* PKCS#1 and PKCS#8 files of one RSA key sign identically. */
static void
test_pkcs1(const struct buf *want)
{
	struct conf		 cf;
	struct conf_dkim	 d[2];
	struct sign		*s = NULL;
	struct buf		 msg = BUF_INIT, out = BUF_INIT;
	char			 err[512];

	conf_keys(&cf, d, key_copy("rsa2048-pkcs1.pem", 0400),
	    key_copy("ed25519.pem", 0600));
	T_INT(sign_open(&cf, &s, err, sizeof(err)), 0, err);
	if (s == NULL)
		return;
	sign_fixed_time(s, FIXED);
	T_INT(read_all(DATA "msg-full.eml", &msg), 0, "msg-full.eml");
	T_INT(sign_message(s, msg.data, msg.len, &out, err, sizeof(err)), 0,
	    "sign with PKCS#1 key");
	T_STR(out.data, want->data != NULL ? want->data : "",
	    "PKCS#1 key gives the golden output");
	sign_close(s);
	buf_free(&msg);
	buf_free(&out);
}

/* One key only: one signature. */
static void
test_single(void)
{
	struct conf		 cf;
	struct conf_dkim	 d[2];
	struct sign		*s = NULL;
	struct buf		 msg = BUF_INIT, out = BUF_INIT;
	char			 err[512], v[64];

	conf_keys(&cf, d, NULL, key_copy("ed25519.pem", 0600));
	T_INT(sign_open(&cf, &s, err, sizeof(err)), 0, err);
	if (s == NULL)
		return;
	sign_fixed_time(s, FIXED);
	T_INT(read_all(DATA "msg-folded.eml", &msg), 0, "msg-folded.eml");
	T_INT(sign_message(s, msg.data, msg.len, &out, err, sizeof(err)), 0,
	    "sign Ed25519 only");
	T_INT(count(out.data, "DKIM-Signature: "), 1, "one signature");
	T_STR(tag(out.data, 0, "a", v, sizeof(v)), "ed25519-sha256", "alg");
	T_INT(verify("single", &out, msg.data, msg.len, 1), 0,
	    "verify Ed25519 only");
	sign_close(s);
	buf_free(&msg);
	buf_free(&out);
}

/*
 * Makes a key (RSA of bits, or Ed25519 for bits 0) in tmpdir/name.pem,
 * mode 0600, and its DNS TXT value (RFC 6376 section 3.6.1; RFC 8463
 * section 4: the raw Ed25519 key) in tmpdir/name.txt.  Returns the key
 * path (static storage, one per call site use).
 */
static char *
key_gen(const char *name, unsigned int bits)
{
	static char	 path[16][256];
	static int	 next;
	EVP_PKEY	*k;
	unsigned char	 der[2048], *p = der, b64[4096];
	size_t		 rawlen = 32;
	char		 txt[256], rec[4200], *kp = path[next++ % 16];
	FILE		*f;
	int		 n;

	k = bits ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k == NULL) {
		fprintf(stderr, "key_gen %s: keygen failed\n", name);
		exit(1);
	}
	if (bits)
		n = i2d_PUBKEY(k, &p);
	else
		n = EVP_PKEY_get_raw_public_key(k, der, &rawlen) == 1 ?
		    (int)rawlen : -1;
	if (n <= 0 || n > (int)sizeof(der)) {
		fprintf(stderr, "key_gen %s: no public key\n", name);
		exit(1);
	}
	EVP_EncodeBlock(b64, der, n);
	snprintf(rec, sizeof(rec), "v=DKIM1; k=%s; p=%s\n",
	    bits ? "rsa" : "ed25519", (char *)b64);
	snprintf(kp, sizeof(path[0]), "%s/%s.pem", tmpdir, name);
	snprintf(txt, sizeof(txt), "%s/%s.txt", tmpdir, name);
	unlink(kp);
	if (write_all(txt, rec, strlen(rec), "", 0) == -1 ||
	    (f = fopen(kp, "wx")) == NULL) {
		fprintf(stderr, "key_gen %s: cannot write\n", name);
		exit(1);
	}
	if (chmod(kp, 0600) == -1 ||
	    !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) ||
	    fclose(f) == EOF) {
		fprintf(stderr, "key_gen %s: cannot write the key\n", name);
		exit(1);
	}
	EVP_PKEY_free(k);
	return kp;
}

/* Appends "sel._domainkey.dom=tmpdir/name.txt " to dns. */
static void
dns_add(struct buf *dns, const char *sel, const char *dom, const char *name)
{
	T_INT(buf_printf(dns, "%s._domainkey.%s=%s/%s.txt ", sel, dom, tmpdir,
	    name), 0, "buf");
}

/* The messages of the differential table that are easier made than
 * written down. */
static void
diff_gen(const char *name, struct buf *m)
{
	size_t	 i;

	buf_reset(m);
	if (strcmp(name, "long-folded") == 0) {
		T_INT(buf_adds(m, "From: \"A rather long display name, "
		    "with a comma\" <forms@example.com>\r\nTo: "), 0, "buf");
		for (i = 0; i < 60; i++)
			T_INT(buf_printf(m, "%s\"Person %zu\" <p%zu@example.com>"
			    "%s", i ? " " : "", i, i, i == 59 ? "\r\n" :
			    i % 3 == 2 ? ",\r\n" : ","), 0, "buf");
		T_INT(buf_printf(m, "Subject: %0*d\r\n", 998 - 9, 7), 0,
		    "buf");
		T_INT(buf_adds(m, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
		    "Message-ID: <long@example.com>\r\nContent-Type: "
		    "multipart/alternative;\r\n boundary=\"=_b\";\r\n\t\r\n"
		    "\tcharset=\"utf-8\"\r\n\r\nbody\r\n"), 0, "buf");
	} else if (strcmp(name, "long-body") == 0) {
		T_INT(buf_adds(m, "From: a@example.com\r\nSubject: big\r\n\r\n"),
		    0, "buf");
		for (i = 0; i < 3000; i++)
			T_INT(buf_printf(m, "%s%zu%s\r\n", i % 7 == 0 ? "  " :
			    "", i * 7919, i % 5 == 0 ? " \t  word\t\t" :
			    i % 11 == 0 ? "" : " x  y "), 0, "buf");
		T_INT(buf_printf(m, "%0*d\r\n\r\n \r\n\t\r\n", 998, 1), 0,
		    "buf");
	} else if (strcmp(name, "many-fields") == 0) {
		/* 256 fields, 64 of them to sign: both limits exactly. */
		T_INT(buf_adds(m, "From: a@example.com\r\n"), 0, "buf");
		for (i = 1; i < 256; i++)
			T_INT(buf_printf(m, i % 4 == 0 ? "To: t%zu@example.com"
			    "\r\n" : "X-Field-%zu: v\r\n", i), 0, "buf");
		T_INT(buf_adds(m, "\r\nx\r\n"), 0, "buf");
	} else if (strcmp(name, "h-wrap") == 0) {
		/* A long h=: its fold is part of what is signed. */
		T_INT(buf_adds(m, "From: a@example.com\r\n"), 0, "buf");
		for (i = 0; i < 21; i++)
			T_INT(buf_printf(m, "%s: x%zu\r\n", i % 3 == 0 ?
			    "Content-Transfer-Encoding" : i % 3 == 1 ?
			    "reply-to" : "CC", i), 0, "buf");
		T_INT(buf_adds(m, "\r\n"), 0, "buf");
	} else if (strcmp(name, "long-header-line") == 0) {
		T_INT(buf_printf(m, "From: a@example.com\r\nSubject: %0*d\r\n"
		    "\t%0*d\r\nTo: %0*d\r\n\r\n%0*d\r\n", 998 - 9, 1, 997, 2,
		    998 - 4, 3, 998, 4), 0, "buf");
	}
}

/* {name, message (NULL: diff_gen()), "all": with every key set too} */
static const char	*diff_cases[][3] = {
	{ "only-from", "From: a@example.com\r\n\r\n", "all" },
	{ "only-from-body", "From: a@example.com\r\n\r\nx\r\n" },
	{ "empty-body", "From: Forms <forms@example.com>\r\nTo: sales@"
	    "example.com\r\nSubject: Hello\r\nDate: Tue, 14 Nov 2023 "
	    "22:13:20 +0000\r\nMessage-ID: <1@example.com>\r\n\r\n", "all" },
	{ "body-one-crlf", "From: a@example.com\r\n\r\n\r\n" },
	{ "body-blank-lines", "From: a@example.com\r\n\r\n\r\n\r\n \t \r\n"
	    "\r\n\t\r\n" },
	{ "trailing-blank-lines", "From: a@example.com\r\n\r\nline\r\n\r\n"
	    "\r\n\r\n" },
	{ "trailing-wsp-lines", "From: a@example.com\r\n\r\nline\r\n \r\n"
	    "\t\t\r\n  \t \r\n" },
	{ "body-wsp", "From: a@example.com\r\n\r\n  lead\r\nin  \t ner\r\n"
	    "trail \t \r\n\t\r\nmid\r\n \r\n\t x \t y\t\r\nend\r\n", "all" },
	{ "blank-mid", "From: a@example.com\r\n\r\na\r\n\r\n \r\n\r\nb\r\n" },
	{ "body-ctl", "From: a@example.com\r\n\r\nform\x0c" "feed\x0b vt"
	    "\r\n\x7f" "del \x01 \x1b[0m\r\n" },
	{ "dot-lines", "From: a@example.com\r\n\r\n.\r\n..leading dot\r\n"
	    "From the start\r\n>From\r\n.\r\n" },
	{ "wsp-headers", "From:   a@example.com  \r\nTo:\tb@example.com\t\r\n"
	    "Subject:  many   spaces \t\tand\ttabs  \r\nDate:\t \t\r\n\r\n"
	    "x\r\n" },
	{ "no-space-after-colon", "From:a@example.com\r\nSubject:x\r\n"
	    "To:\r\n b@example.com\r\nCc:\r\n\tc@example.com\r\n\r\nx\r\n" },
	{ "empty-values", "From: a@example.com\r\nCc:\r\nSubject: \t \r\n"
	    "Reply-To:\r\n \r\nTo:\r\n\t\r\n \t\r\n\r\nx\r\n" },
	{ "folded", "From: \"A long display name\"\r\n <a@example.com>\r\n"
	    "To: one@example.com,\r\n\ttwo@example.com,\r\n   three@"
	    "example.com\r\nSubject: folded\r\n \t \r\n  subject  \r\n \r\n"
	    "\r\nbody\r\n" },
	{ "utf8", "From: Zo\xc3\xab <z@example.com>\r\nSubject: caf\xc3\xa9 "
	    "\xe2\x98\x95\r\nTo: \xe4\xb8\xad\xe6\x96\x87 <c@example.com>\r\n"
	    "Reply-To: \xc2\xa0nbsp\xc2\xa0 <r@example.com>\r\n\r\nna\xc3\xafve"
	    " \xf0\x9f\x98\x80\r\n\xc2\xa0nbsp\xc2\xa0 \r\n\xe3\x80\x80\r\n", "all" },
	{ "latin1-raw", "From: a@example.com\r\nSubject: \xe9t\xe9 \xff\xfe"
	    "\r\n\r\n\xe9t\xe9\r\n" },
	{ "repeated", "From: a@example.com\r\nTo: 1@example.com\r\nSubject: "
	    "s1\r\nTo: 2@example.com\r\nCc: c1@example.com\r\nSubject: s2\r\n"
	    "Cc: c2@example.com\r\nTo: 3@example.com\r\nCc: c3@example.com"
	    "\r\nDate: d1\r\nDate: d2\r\n\r\nx\r\n", "all" },
	{ "two-from", "From: a@example.com\r\nTo: b@example.com\r\nFrom: "
	    "evil@example.org\r\nfrom: third@example.net\r\n\r\nx\r\n", "all" },
	{ "odd-case", "FROM: a@example.com\r\nsUbJeCt: Odd\r\nmessage-id: "
	    "<x@y>\r\nCONTENT-TYPE: text/plain\r\nMime-Version: 1.0\r\n"
	    "content-transfer-encoding: 7bit\r\nREPLY-TO: r@example.com\r\n"
	    "cC: c@example.com\r\nto: t@example.com\r\nDATE: Tue, 14 Nov 2023"
	    " 22:13:20 +0000\r\nSubject: second\r\n\r\nx\r\n", "all" },
	{ "unsigned-extra", "Received: from x\r\n\tby y\r\nX-Mailer: y\r\n"
	    "From: a@example.com\r\nX-Weird!#$%&'*+^_`{|}~.\"<>,=?@[]\\/: z"
	    "\r\nReturn-Path: <r@example.com>\r\nFromage: no\r\nTo-: no\r\n"
	    "\r\nx\r\n" },
	{ "all-signed", "From: \"Example Forms\" <forms@example.com>\r\n"
	    "Reply-To: Visitor <visitor@example.org>\r\nTo: Sales <sales@"
	    "example.com>\r\nCc: archive@example.com\r\nSubject: =?UTF-8?Q?"
	    "Caf=C3=A9?=\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
	    "Message-ID: <20231114T221320Z.77e1b0@www.example.com>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\nAuto-Submitted: "
	    "auto-generated\r\nX-Originating-IP: [192.0.2.7]\r\n\r\nCaf=C3="
	    "A9\r\n", "all" },
	{ "semicolon-value", "From: a@example.com\r\nSubject: b=; h=x; "
	    "bh=y;\r\n\r\nb=\r\n" },
	{ "long-folded", NULL, "all" },
	{ "long-body", NULL },
	{ "many-fields", NULL, "all" },
	{ "h-wrap", NULL, "all" },
	{ "long-header-line", NULL },
};

struct keyset {
	const char		*name;
	struct conf_dkim	 d[4];
	size_t			 n;
	struct buf		 dns;	/* verify_dns() records */
	int			 verify;	/* check with dkimpy */
};

static char	 ks_dom_short[] = "a.b";
static char	 ks_dom_long[] = "mail-notifications.departement-des-"
    "ventes.example-long-domain.org";
static char	 ks_dom_upper[] = "Example.COM";
static char	 ks_sel_s[] = "s";
static char	 ks_sel_long[] = "selector-with-a-rather-long-name-2023-11";
static char	 ks_sel_odd[] = "S_1";
static char	 ks_sel_e2[] = "e2";
static char	 ks_dom_max[254];
static char	 ks_sel_max[64];

static void
keyset_add(struct keyset *ks, char *dom, char *sel,
    enum conf_dkim_alg alg, char *path, const char *txt)
{
	struct conf_dkim	*d = &ks->d[ks->n++];

	d->domain = dom;
	d->selector = sel;
	d->alg = alg;
	d->key_file = path;
	if (txt != NULL)
		dns_add(&ks->dns, sel, dom, txt);
}

/* Key sets: sizes and names that move the folding around. */
static size_t
keysets(struct keyset *ks)
{
	size_t	 i;

	memset(ks, 0, 6 * sizeof(*ks));
	memset(ks_dom_max, 0, sizeof(ks_dom_max));
	for (i = 0; i < 253; i++)
		ks_dom_max[i] = i % 50 == 49 ? '.' : (char)('a' + i % 26);
	memset(ks_sel_max, 'q', 63);

	ks[0].name = "rsa2048+ed25519 (files)";
	keyset_add(&ks[0], s_domain, s_sel_ed, CONF_DKIM_ED25519_SHA256,
	    key_copy("ed25519.pem", 0600), NULL);
	keyset_add(&ks[0], s_domain, s_sel_rsa, CONF_DKIM_RSA_SHA256,
	    key_copy("rsa2048.pem", 0600), NULL);
	T_INT(buf_adds(&ks[0].dns, DNS_FILES), 0, "buf");
	ks[0].verify = 1;

	ks[1].name = "rsa1024+ed25519, short names";
	keyset_add(&ks[1], ks_dom_short, ks_sel_s, CONF_DKIM_RSA_SHA256,
	    key_gen("k1r", 1024), "k1r");
	keyset_add(&ks[1], ks_dom_short, ks_sel_e2, CONF_DKIM_ED25519_SHA256,
	    key_gen("k1e", 0), "k1e");
	ks[1].verify = 1;

	ks[2].name = "rsa1536+ed25519, long names";
	keyset_add(&ks[2], ks_dom_long, ks_sel_long, CONF_DKIM_RSA_SHA256,
	    key_gen("k2r", 1536), "k2r");
	keyset_add(&ks[2], ks_dom_long, ks_sel_s, CONF_DKIM_ED25519_SHA256,
	    key_gen("k2e", 0), "k2e");
	ks[2].verify = 1;

	ks[3].name = "rsa4096 alone, mixed-case names";
	keyset_add(&ks[3], ks_dom_upper, ks_sel_odd, CONF_DKIM_RSA_SHA256,
	    key_gen("k3r", 4096), "k3r");
	ks[3].verify = 1;

	ks[4].name = "four keys";
	keyset_add(&ks[4], s_domain, s_sel_rsa, CONF_DKIM_RSA_SHA256,
	    key_copy("rsa2048-pkcs1.pem", 0600), NULL);
	keyset_add(&ks[4], ks_dom_short, ks_sel_e2, CONF_DKIM_ED25519_SHA256,
	    key_gen("k4e", 0), "k4e");
	keyset_add(&ks[4], ks_dom_short, ks_sel_s, CONF_DKIM_RSA_SHA256,
	    key_gen("k4r", 1032), "k4r");
	keyset_add(&ks[4], s_domain, s_sel_ed, CONF_DKIM_ED25519_SHA256,
	    key_copy("ed25519.pem", 0600), NULL);
	T_INT(buf_adds(&ks[4].dns, DNS_FILES), 0, "buf");
	ks[4].verify = 1;

	/* Names of the largest size the config takes: no dkimpy here. */
	ks[5].name = "rsa2048+ed25519, 253-octet domain";
	keyset_add(&ks[5], ks_dom_max, ks_sel_max, CONF_DKIM_RSA_SHA256,
	    key_copy("rsa2048.pem", 0600), NULL);
	keyset_add(&ks[5], ks_dom_max, ks_sel_max, CONF_DKIM_ED25519_SHA256,
	    key_gen("k5e", 0), NULL);
	ks[5].verify = 0;
	return 6;
}

/*
 * The differential table: every message with the main key set, the
 * messages marked "all" with every key set, signed by both signers; the
 * octets must be the same, every line CRLF within 998 octets, and dkimpy
 * must accept every signature (but those of the 253-octet domain).
 */
static void
test_diff(void)
{
	struct keyset	 ks[6];
	struct conf	 cf;
	struct sign	*s;
	struct buf	 m = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	char		 err[512], name[64], cmd[300];
	size_t		 nks, i, j, ncase = sizeof(diff_cases) /
			    sizeof(diff_cases[0]);
	int		 same = 0, runs = 0, rc;

	nks = keysets(ks);
	for (i = 0; i < nks; i++) {
		memset(&cf, 0, sizeof(cf));
		cf.dkim = ks[i].d;
		cf.ndkim = ks[i].n;
		s = NULL;
		T_INT(sign_open(&cf, &s, err, sizeof(err)), 0, err);
		if (s == NULL) {
			buf_free(&ks[i].dns);
			continue;
		}
		T_INT(sign_impl(s), SIGN_NATIVE, ks[i].name);
		sign_fixed_time(s, FIXED);
		for (j = 0; j < ncase; j++) {
			if (i > 0 && diff_cases[j][2] == NULL)
				continue;
			if (diff_cases[j][1] != NULL) {
				buf_reset(&m);
				T_INT(buf_adds(&m, diff_cases[j][1]), 0, "buf");
			} else
				diff_gen(diff_cases[j][0], &m);
			buf_reset(&a);
			buf_reset(&b);
			runs++;
			rc = sign_message_impl(s, SIGN_NATIVE, m.data, m.len,
			    &a, err, sizeof(err));
			T_OK(rc == 0, "%s / %s: native: %s", ks[i].name,
			    diff_cases[j][0], err);
			rc = sign_message_impl(s, SIGN_OPENDKIM, m.data, m.len,
			    &b, err, sizeof(err));
			T_OK(rc == 0, "%s / %s: libopendkim: %s", ks[i].name,
			    diff_cases[j][0], err);
			if (a.data == NULL || b.data == NULL)
				continue;
			T_OK(a.len == b.len && memcmp(a.data, b.data, a.len) ==
			    0, "%s / %s: the signers differ:\n  libopendkim "
			    "[%s]\n  native      [%s]", ks[i].name,
			    diff_cases[j][0], b.data, a.data);
			same += a.len == b.len && memcmp(a.data, b.data,
			    a.len) == 0;
			T_INT(count(a.data, "DKIM-Signature: "), ks[i].n,
			    diff_cases[j][0]);
			T_OK(lines_ok(a.data, a.len), "%s / %s: a line is not "
			    "CRLF or over 998 octets:\n%s", ks[i].name,
			    diff_cases[j][0], a.data);
			buf_reset(&b);
			T_INT(sign_message(s, m.data, m.len, &b, err,
			    sizeof(err)), 0, "sign_message");
			T_OK(b.len == a.len && memcmp(a.data, b.data, a.len) ==
			    0, "%s / %s: sign_message is not the native signer",
			    ks[i].name, diff_cases[j][0]);
			if (!ks[i].verify)
				continue;
			snprintf(name, sizeof(name), "diff%zu-%zu", i, j);
			batch_add(name, &a, m.data, m.len, (int)ks[i].n,
			    ks[i].dns.data);
		}
		sign_close(s);
		buf_free(&ks[i].dns);
	}
	rc = batch_run();
	T_INT(rc, 0, "signatures of the differential table dkimpy refused "
	    "(see FAILED below)");
	if (rc != 0) {
		snprintf(cmd, sizeof(cmd), "grep -B3 FAILED %s/batch.out >&2",
		    tmpdir);
		if (system(cmd) == -1)
			perror("system");
	}
	printf("differential: %zu messages, %zu key sets, %d signings by "
	    "both, %d identical, %d verified with dkimpy\n", ncase, nks,
	    runs, same, nbatch);
	buf_free(&m);
	buf_free(&a);
	buf_free(&b);
}

/*
 * The self-test: it passes with working signers, and a built-in signer
 * that makes bad signatures is caught and replaced by libopendkim, whose
 * output is then the golden one.
 */
static void
test_selftest(struct sign *s)
{
	struct buf	 msg = BUF_INIT, out = BUF_INIT, gold = BUF_INIT;
	char		 err[512];

	T_INT(sign_impl(s), SIGN_NATIVE, "the built-in signer after open");
	T_INT(sign_selftest(s, err, sizeof(err)), 0, err);
	T_INT(read_all(DATA "msg-full.eml", &msg), 0, "msg-full.eml");
	T_INT(read_all(DATA "msg-full.sig", &gold), 0, "msg-full.sig");

	sign_test_break_native(s, 1);
	T_INT(sign_message_impl(s, SIGN_NATIVE, msg.data, msg.len, &out, err,
	    sizeof(err)), 0, "broken native signer");
	T_OK(out.data != NULL && strcmp(out.data, gold.data) != 0,
	    "the break did not break");
	T_INT(verify("broken", &out, msg.data, msg.len, 2), 1,
	    "dkimpy refuses the broken signatures");
	err[0] = '\0';
	T_INT(sign_selftest(s, err, sizeof(err)), -1, "self-test of a broken "
	    "signer");
	T_OK(strstr(err, "differs from libopendkim") != NULL, "got [%s]", err);
	T_INT(sign_impl(s), SIGN_OPENDKIM, "fell back to libopendkim");
	buf_reset(&out);
	T_INT(sign_message(s, msg.data, msg.len, &out, err, sizeof(err)), 0,
	    "sign after the fall-back");
	T_STR(out.data, gold.data, "the fall-back signs as libopendkim");

	sign_test_break_native(s, 0);
	T_INT(sign_selftest(s, err, sizeof(err)), 0, "self-test repaired");
	T_INT(sign_impl(s), SIGN_NATIVE, "back to the built-in signer");
	buf_free(&msg);
	buf_free(&out);
	buf_free(&gold);
}

/* The golden messages: both signers, octet for octet. */
static void
test_golden_both(struct sign *s)
{
	static const char *const names[] = {
		"full", "folded", "minimal", "emptybody", "multipart", "built"
	};
	struct buf	 msg = BUF_INIT, a = BUF_INIT, b = BUF_INIT;
	char		 path[256], err[512];
	size_t		 i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), DATA "msg-%s.eml", names[i]);
		T_INT(read_all(path, &msg), 0, path);
		buf_reset(&a);
		buf_reset(&b);
		T_INT(sign_message_impl(s, SIGN_NATIVE, msg.data, msg.len, &a,
		    err, sizeof(err)), 0, err);
		T_INT(sign_message_impl(s, SIGN_OPENDKIM, msg.data, msg.len,
		    &b, err, sizeof(err)), 0, err);
		T_STR(a.data, b.data != NULL ? b.data : "", names[i]);
	}
	buf_free(&msg);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	struct conf		 cf;
	struct conf_dkim	 d[2];
	struct sign		*s = NULL;
	struct buf		 gold = BUF_INIT;
	char			 err[512], cmd[300];

	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_open_errors();

	conf_keys(&cf, d, key_copy("rsa2048.pem", 0600),
	    key_copy("ed25519.pem", 0600));
	T_INT(sign_open(&cf, &s, err, sizeof(err)), 0, err);
	if (s == NULL)
		T_DONE();
	/* The keys are read once: the files may go away afterwards. */
	unlink(d[0].key_file);
	unlink(d[1].key_file);
	sign_fixed_time(s, FIXED);
	test_golden(s);
	test_golden_both(s);
	test_tamper(s);
	test_malformed(s);
	test_now(s);
	test_selftest(s);
	sign_close(s);

	T_INT(read_all(DATA "msg-full.sig", &gold), 0, "msg-full.sig");
	test_pkcs1(&gold);
	test_single();
	buf_free(&gold);
	test_diff();

	snprintf(cmd, sizeof(cmd), "rm -rf -- %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	T_DONE();
}
