/*
 * dkim_interop: the C half of tests/unit/test_dkim_interop.py.
 *
 *   dkim_interop sign DOMAIN SELECTOR:ALGORITHM:KEYFILE ...
 *	Builds one notification with message_build() (From on DOMAIN, a
 *	UTF-8 Subject, text and HTML parts, the current time) and signs it
 *	with sign_message(), form2mail's own signer, with every key given
 *	(ALGORITHM rsa-sha256 or ed25519-sha256).  Writes the signed
 *	message (the DKIM-Signature headers, then the message) to stdout.
 *
 *   dkim_interop opendkim QUERYFILE MESSAGE
 *	Verifies every DKIM-Signature of MESSAGE with libopendkim's verify
 *	API, keys from QUERYFILE (DKIM_QUERY_FILE: lines
 *	"<selector>._domainkey.<domain> <TXT value>"; no DNS is asked).
 *	Prints one line per signature, in header order:
 *	    signature N: pass|FAIL a=ALG d=DOMAIN s=SELECTOR [(reason)]
 *	Exit status 0 when there is at least one signature and every one
 *	passes, 1 otherwise, 2 on usage or set-up errors.
 *
 * The verifier shares nothing with fcgi/deliver/sign*.c but libopendkim itself:
 * it splits the message into fields here, on its own.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "mail/message.h"
#include "lsan_opendkim.h"
#include "deliver/sign.h"

#define MAX_KEYS	8
#define MAX_MSG		(4 * 1024 * 1024)

static int
usage(void)
{
	fprintf(stderr,
	    "usage: dkim_interop sign DOMAIN SELECTOR:ALGORITHM:KEYFILE ...\n"
	    "       dkim_interop opendkim QUERYFILE MESSAGE\n");
	return 2;
}

/* Reads path into b; its size is checked against MAX_MSG first. */
static int
read_file(const char *path, struct buf *b)
{
	struct stat	 st;
	FILE		*f;
	size_t		 size;
	int		 rc = -1;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) == -1) {
		fprintf(stderr, "dkim_interop: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_MSG) {
		fprintf(stderr, "dkim_interop: %s: not a file of at most %d "
		    "octets\n", path, MAX_MSG);
		goto out;
	}
	size = (size_t)st.st_size;
	if (buf_reserve(b, size + 1) == -1 ||
	    fread(b->data + b->len, 1, size, f) != size) {
		fprintf(stderr, "dkim_interop: %s: cannot read\n", path);
		goto out;
	}
	b->len += size;
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
main_sign(int argc, char **argv)
{
	static const char text[] =
	    "New signup from the website.\n"
	    "Name: Ada Lovelace\n"
	    "Plan: pro \xe2\x82\xac" "49/month\n"
	    "Message: Hello,\n  two spaces, a tab\there, trailing blanks   \n"
	    "\n\n";
	static const char html[] =
	    "<!DOCTYPE html>\n<html><body><p>New signup from the website."
	    "</p>\n<table><tr><th>Name</th><td>Ada Lovelace</td></tr>\n"
	    "<tr><th>Plan</th><td>pro \xe2\x82\xac" "49/month</td></tr>"
	    "</table></body></html>\n";
	struct conf_dkim	 d[MAX_KEYS];
	struct conf		 cf;
	struct message		 m;
	struct message_mailbox	 to[2], reply;
	struct sign		*s = NULL;
	struct buf		 msg = BUF_INIT, sig = BUF_INIT, from = BUF_INIT;
	char			 err[512], *p, *q;
	int			 i, rc = 1;

	if (argc < 2 || argc - 1 > MAX_KEYS)
		return usage();
	memset(&cf, 0, sizeof(cf));
	memset(d, 0, sizeof(d));
	for (i = 1; i < argc; i++) {
		/* SELECTOR:ALGORITHM:KEYFILE; the key path may hold ':'. */
		if ((p = strchr(argv[i], ':')) == NULL ||
		    (q = strchr(p + 1, ':')) == NULL)
			return usage();
		*p++ = '\0';
		*q++ = '\0';
		if (strcmp(p, "rsa-sha256") == 0)
			d[i - 1].alg = CONF_DKIM_RSA_SHA256;
		else if (strcmp(p, "ed25519-sha256") == 0)
			d[i - 1].alg = CONF_DKIM_ED25519_SHA256;
		else
			return usage();
		d[i - 1].domain = argv[0];
		d[i - 1].selector = argv[i];
		d[i - 1].key_file = q;
	}
	cf.dkim = d;
	cf.ndkim = (size_t)(argc - 1);
	if (buf_printf(&from, "forms@%s", argv[0]) == -1)
		goto out;

	memset(&m, 0, sizeof(m));
	m.from.display = "Example Forms";
	m.from.addr = from.data;
	reply.display = "Ada Lovelace";
	reply.addr = "ada@visitor.example";
	m.reply_to = &reply;
	to[0].display = "Signups";
	to[0].addr = "signups@example.net";
	to[1].display = NULL;
	to[1].addr = "archive@example.net";
	m.to = to;
	m.nto = 2;
	m.subject = "New signup \xf0\x9f\x8e\x89 from the website";
	m.id = "Interop0123456789";
	m.hostname = argv[0];
	m.date = time(NULL);
	m.client_ip = "192.0.2.7";
	m.text = text;
	m.text_len = sizeof(text) - 1;
	m.html = html;
	m.html_len = sizeof(html) - 1;
	if (message_build(&m, &msg) == -1) {
		fprintf(stderr, "dkim_interop: message_build failed\n");
		goto out;
	}
	if (sign_open(&cf, &s, err, sizeof(err)) == -1 ||
	    sign_message(s, msg.data, msg.len, &sig, err, sizeof(err)) == -1) {
		fprintf(stderr, "dkim_interop: %s\n", err);
		goto out;
	}
	if (fwrite(sig.data, 1, sig.len, stdout) != sig.len ||
	    fwrite(msg.data, 1, msg.len, stdout) != msg.len ||
	    fflush(stdout) == EOF) {
		fprintf(stderr, "dkim_interop: stdout: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	sign_close(s);
	buf_free(&msg);
	buf_free(&sig);
	buf_free(&from);
	return rc;
}

/*
 * Feeds the header fields of msg[0..len) to d, one field each (folded
 * lines kept, the final CRLF not), then the body.  Returns the offset of
 * the body, or -1 when there is no empty line (the message is refused).
 */
static long
opendkim_feed(DKIM *d, char *msg, size_t len)
{
	size_t	 start = 0, i;
	DKIM_STAT st;

	for (i = 0; i + 1 < len; i++) {
		if (msg[i] != '\r' || msg[i + 1] != '\n')
			continue;
		if (i == start) {		/* the empty line */
			if ((st = dkim_eoh(d)) != DKIM_STAT_OK)
				fprintf(stderr, "dkim_eoh: %s\n",
				    dkim_getresultstr(st));
			i += 2;
			if (i < len && (st = dkim_body(d, (u_char *)msg + i,
			    len - i)) != DKIM_STAT_OK)
				fprintf(stderr, "dkim_body: %s\n",
				    dkim_getresultstr(st));
			return (long)i;
		}
		if (i + 2 < len && (msg[i + 2] == ' ' || msg[i + 2] == '\t'))
			continue;		/* folded: same field */
		if ((st = dkim_header(d, (u_char *)msg + start, i - start)) !=
		    DKIM_STAT_OK)
			fprintf(stderr, "dkim_header: %s\n",
			    dkim_getresultstr(st));
		start = i + 2;
		i++;
	}
	return -1;
}

static const char *
opendkim_alg(DKIM_SIGINFO *sig)
{
	dkim_alg_t	 alg;

	if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
		return "?";
	switch (alg) {
	case DKIM_SIGN_RSASHA256:
		return "rsa-sha256";
	case DKIM_SIGN_ED25519SHA256:
		return "ed25519-sha256";
	case DKIM_SIGN_RSASHA1:
		return "rsa-sha1";
	default:
		return "?";
	}
}

static int
main_opendkim(char *queryfile, const char *path)
{
	struct buf	 msg = BUF_INIT;
	DKIM_LIB	*lib = NULL;
	DKIM		*d = NULL;
	DKIM_SIGINFO	**sigs = NULL;
	DKIM_STAT	 st;
	dkim_query_t	 qtype = DKIM_QUERY_FILE;
	int		 nsigs = 0, i, flags, bh, rc = 2;
	const char	*why;

	if (read_file(path, &msg) == -1 || msg.len == 0)
		goto out;
	if ((lib = dkim_init(NULL, NULL)) == NULL ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qtype,
	    sizeof(qtype)) != DKIM_STAT_OK ||
	    dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
	    queryfile, strlen(queryfile)) != DKIM_STAT_OK) {
		fprintf(stderr, "dkim_interop: libopendkim set-up failed\n");
		goto out;
	}
	if ((d = dkim_verify(lib, (const u_char *)"interop", NULL, &st)) ==
	    NULL) {
		fprintf(stderr, "dkim_verify: %s\n", dkim_getresultstr(st));
		goto out;
	}
	rc = 1;
	if (opendkim_feed(d, msg.data, msg.len) == -1) {
		printf("message: FAIL (no end of the header section)\n");
		goto out;
	}
	/* BADSIG, NOSIG and the like are verdicts, read per signature. */
	st = dkim_eom(d, NULL);
	if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
		printf("message: FAIL (no signature: %s)\n",
		    dkim_getresultstr(st));
		goto out;
	}
	rc = 0;
	for (i = 0; i < nsigs; i++) {
		flags = (int)dkim_sig_getflags(sigs[i]);
		bh = dkim_sig_getbh(sigs[i]);
		why = NULL;
		if (!(flags & DKIM_SIGFLAG_PROCESSED))
			why = "not processed";
		else if (!(flags & DKIM_SIGFLAG_PASSED))
			why = dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i]));
		else if (bh != DKIM_SIGBH_MATCH)
			why = "body hash mismatch";
		printf("signature %d: %s a=%s d=%s s=%s%s%s%s\n", i,
		    why == NULL ? "pass" : "FAIL", opendkim_alg(sigs[i]),
		    (const char *)dkim_sig_getdomain(sigs[i]),
		    (const char *)dkim_sig_getselector(sigs[i]),
		    why == NULL ? "" : " (", why == NULL ? "" : why,
		    why == NULL ? "" : ")");
		if (why != NULL)
			rc = 1;
	}
out:
	fflush(stdout);
	if (d != NULL)
		dkim_free(d);
	if (lib != NULL)
		dkim_close(lib);
	buf_free(&msg);
	return rc;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "sign") == 0)
		return main_sign(argc - 2, argv + 2);
	if (argc == 4 && strcmp(argv[1], "opendkim") == 0)
		return main_opendkim(argv[2], argv[3]);
	return usage();
}
