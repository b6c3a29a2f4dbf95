/*
 * test_sign: DKIM signing.  Checks key loading and its refusals, the exact
 * output against golden files (fixed signing time), that every signature
 * really verifies (tests/unit/verify_dkim.py, dkimpy, offline DNS from the
 * committed TXT records), that tampering is caught, and that malformed
 * messages are refused.  Run from the repository root.
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

#include "buf.h"
#include "conf.h"
#include "sign.h"
#include "t.h"

#define DATA		"tests/data/dkim/"
#define FIXED		1700000000	/* 2023-11-14T22:13:20Z, in the past */
#define VERIFY		"/usr/bin/python3 -W ignore tests/unit/verify_dkim.py"
#define DNS_RSA		"f2m2023r._domainkey.example.com=" DATA "rsa2048.txt"
#define DNS_ED		"f2m2023e._domainkey.example.com=" DATA "ed25519.txt"

/*
 * Debian's libopendkim 2.11 never frees the Ed25519 private key it parses
 * in dkim_privkey_load() (about 0.5 KiB per Ed25519 signature; RSA is
 * freed).  Suppress exactly that under LeakSanitizer; the full unwinder is
 * needed to see the frame through libcrypto.
 */
const char	*__asan_default_options(void);
const char	*__lsan_default_suppressions(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

const char *
__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\n";
}

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
	static char	 path[4][256];
	static int	 next;
	struct buf	 b = BUF_INIT;
	char		*p = path[next++ % 4];
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

/* Runs the verifier on sig+msg; returns its exit status (-1: not run). */
static int
verify(const char *name, const struct buf *sig, const char *msg,
    size_t len, int expect)
{
	char	 path[256], cmd[1024], out[300];
	int	 st;

	snprintf(path, sizeof(path), "%s/%s.eml", tmpdir, name);
	snprintf(out, sizeof(out), "%s/%s.out", tmpdir, name);
	if (write_all(path, sig->data, sig->len, msg, len) == -1)
		return -1;
	snprintf(cmd, sizeof(cmd), VERIFY " --expect %d %s " DNS_RSA " "
	    DNS_ED " >%s 2>&1", expect, path, out);
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
		{ "To: b@example.com\r\n\r\nx\r\n", 0, "DKIM: end of header" },
	};
	static const struct {
		const char	*body;
		const char	*want;
	} tb[] = {
		{ "line\nline\r\n", "bare CR or LF in the body" },
		{ "line\r\rline\r\n", "bare CR or LF in the body" },
		{ "last line without CRLF\r", "bare CR or LF in the body" },
	};
	struct buf	 out = BUF_INIT, m = BUF_INIT;
	char		 err[512];
	size_t		 i, len;
	int		 j;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&out);
		T_INT(buf_adds(&out, "keep"), 0, "buf");
		len = t[i].len ? t[i].len : strlen(t[i].msg);
		err[0] = '\0';
		T_INT(sign_message(s, t[i].msg, len, &out, err, sizeof(err)),
		    -1, t[i].want);
		T_OK(strstr(err, t[i].want) != NULL, "case %zu: expected [%s] "
		    "in [%s]", i, t[i].want, err);
		T_STR(out.data, "keep", "out untouched on error");
	}
	for (i = 0; i < sizeof(tb) / sizeof(tb[0]); i++) {
		buf_reset(&m);
		T_INT(buf_printf(&m, "%s\r\n%s", hdr, tb[i].body), 0, "buf");
		buf_reset(&out);
		err[0] = '\0';
		T_INT(sign_message(s, m.data, m.len, &out, err, sizeof(err)),
		    -1, tb[i].want);
		T_OK(strstr(err, tb[i].want) != NULL, "body %zu: expected "
		    "[%s] in [%s]", i, tb[i].want, err);
		T_INT(out.len, 0, "out untouched on error");
	}

	/* NUL in the body. */
	buf_reset(&m);
	T_INT(buf_printf(&m, "%s\r\nab", hdr), 0, "buf");
	m.data[m.len - 1] = '\0';
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

	buf_free(&out);
	buf_free(&m);
}

static void
test_now(struct sign *s)
{
	struct buf	 msg = BUF_INIT, out = BUF_INIT;
	char		 err[512], v[64];
	long		 t, now;

	sign_fixed_time(s, 0);
	T_INT(read_all(DATA "msg-minimal.eml", &msg), 0, "msg-minimal.eml");
	now = (long)time(NULL);
	T_INT(sign_message(s, msg.data, msg.len, &out, err, sizeof(err)), 0,
	    "sign with the clock");
	t = strtol(tag(out.data, 0, "t", v, sizeof(v)), NULL, 10);
	T_OK(t >= now && t <= now + 5, "t=%ld, now %ld", t, now);
	T_INT(verify("now", &out, msg.data, msg.len, 2), 0, "verify t=now");
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
	test_tamper(s);
	test_malformed(s);
	test_now(s);
	sign_close(s);

	T_INT(read_all(DATA "msg-full.sig", &gold), 0, "msg-full.sig");
	test_pkcs1(&gold);
	test_single();
	buf_free(&gold);

	snprintf(cmd, sizeof(cmd), "rm -rf -- %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	T_DONE();
}
