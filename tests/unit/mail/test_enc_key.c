/* test_enc_key: the recipients' key files of encrypted notifications
 * (mail/enc_key.h), made here by openssl and gpg
 * (make_enc_keys.sh): a table of hostile and good files for both
 * methods, the expiry warning, the set of a config, and one
 * notification of each method encrypted and decrypted again by openssl
 * and gpg (mail/encrypt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "mail/enc_key.h"
#include "mail/encrypt.h"
#include "mail/message.h"
#include "t.h"

static char	 dir[] = "/tmp/f2m-enckey-XXXXXX";

struct row {
	const char		*file;
	enum conf_enc_method	 method;
	int			 ok;	/* 1 loads, 2 loads with a warning */
	const char		*why;	/* a word of the reason when refused */
};

static const struct row rows[] = {
	{ "good.pem", CONF_ENC_SMIME, 1, NULL },
	{ "nokeyusage.pem", CONF_ENC_SMIME, 1, NULL },
	{ "ecgood.pem", CONF_ENC_SMIME, 1, NULL },
	{ "link.pem", CONF_ENC_SMIME, 1, NULL },	/* as the DKIM keys */
	{ "soon.pem", CONF_ENC_SMIME, 2, NULL },
	{ "truncated.pem", CONF_ENC_SMIME, 0, "truncated" },
	{ "private.pem", CONF_ENC_SMIME, 0, "private key" },
	{ "withkey.pem", CONF_ENC_SMIME, 0, "private key" },
	{ "expired.pem", CONF_ENC_SMIME, 0, "expired" },
	{ "future.pem", CONF_ENC_SMIME, 0, "not valid yet" },
	{ "signonly.pem", CONF_ENC_SMIME, 0, "keyEncipherment" },
	{ "ecsign.pem", CONF_ENC_SMIME, 0, "keyAgreement" },
	{ "clientauth.pem", CONF_ENC_SMIME, 0, "emailProtection" },
	{ "small.pem", CONF_ENC_SMIME, 0, "1024 bits" },
	{ "garbage.pem", CONF_ENC_SMIME, 0, "not a PEM" },
	{ "badlink.pem", CONF_ENC_SMIME, 0, "not a PEM" },
	{ "empty.pem", CONF_ENC_SMIME, 0, "empty" },
	{ "adir", CONF_ENC_SMIME, 0, "regular" },
	{ "missing.pem", CONF_ENC_SMIME, 0, "No such file" },
	{ "pgpgood.asc", CONF_ENC_SMIME, 0, "not a PEM" },
	{ "good.pem", CONF_ENC_OPENPGP, 0, "armoured" },
	{ "pgpgood.asc", CONF_ENC_OPENPGP, 1, NULL },
	{ "pgpsoon.asc", CONF_ENC_OPENPGP, 2, NULL },
	{ "pgptrunc.asc", CONF_ENC_OPENPGP, 0, "truncated" },
	{ "pgpgarbage.asc", CONF_ENC_OPENPGP, 0, "damaged" },
	{ "pgpsecret.asc", CONF_ENC_OPENPGP, 0, "secret key" },
	{ "pgpsignonly.asc", CONF_ENC_OPENPGP, 0, "sign-only" },
	{ "pgpexpired.asc", CONF_ENC_OPENPGP, 0, "expired" },
	{ "pgpallexpired.asc", CONF_ENC_OPENPGP, 0, "expired" },
	{ "pgpbinary.gpg", CONF_ENC_OPENPGP, 0, "armoured" },
	{ "pgptwo.asc", CONF_ENC_OPENPGP, 0, "one per file" },
	{ "empty.pem", CONF_ENC_OPENPGP, 0, "empty" },
	{ "adir", CONF_ENC_OPENPGP, 0, "regular" },
};

static void
path_of(char *p, size_t n, const char *file)
{
	snprintf(p, n, "%s/%s", dir, file);
}

/* The first line of dir/file (a subkey fingerprint) into out. */
static void
read_line(const char *file, char *out, size_t n)
{
	char	 p[512];
	FILE	*f;

	out[0] = '\0';
	path_of(p, sizeof(p), file);
	if ((f = fopen(p, "r")) == NULL)
		return;
	if (fgets(out, (int)n, f) == NULL)
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static void
test_table(void)
{
	struct enc_key	*k;
	char		 p[512], err[512], want[128];
	time_t		 now = time(NULL), exp;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		path_of(p, sizeof(p), rows[i].file);
		err[0] = '\0';
		rc = enc_key_load(p, rows[i].method, now, &k, &exp, err,
		    sizeof(err));
		T_INT(rc, rows[i].ok ? 0 : -1, rows[i].file);
		if (rc == 0) {
			T_OK(exp == (time_t)-1 || exp > now, "%s: expiry",
			    rows[i].file);
			T_INT(exp != (time_t)-1 && exp - now <
			    ENC_WARN_DAYS * 86400L, rows[i].ok == 2,
			    rows[i].file);
		} else {
			T_OK(k == NULL, "%s: no key", rows[i].file);
			T_OK(strstr(err, rows[i].why) != NULL,
			    "%s: reason [%s], want [%s]", rows[i].file, err,
			    rows[i].why);
		}
		enc_key_free(k);
	}
	/* The encryption subkey is the one chosen, not the primary. */
	path_of(p, sizeof(p), "pgpgood.asc");
	read_line("pgpgood.subfpr", want, sizeof(want));
	T_INT(enc_key_load(p, CONF_ENC_OPENPGP, now, &k, &exp, err,
	    sizeof(err)), 0, "pgpgood");
	T_OK(want[0] != '\0', "gpg's subkey fingerprint");
	if (k != NULL)
		T_STR(enc_key_name(k), want, "the encryption subkey");
	enc_key_free(k);
	/* At a time past the certificate's end it is expired. */
	path_of(p, sizeof(p), "good.pem");
	T_INT(enc_key_load(p, CONF_ENC_SMIME, now + 400 * 86400L, &k, &exp,
	    err, sizeof(err)), -1, "good.pem in 400 days");
	T_OK(strstr(err, "expired") != NULL, "reason [%s]", err);
}

/* A config of two forms: one refused key refuses the whole set. */
static void
test_set(void)
{
	struct conf		 cf;
	struct conf_form	 f[2];
	struct enc_set		*s;
	char			 a[512], b[512], c[512];
	char			 at0[] = "x.json:3:9", at1[] = "x.json:4:9";
	char			 ids[] = "s", idp[] = "p";
	char			*k1[] = { a, b }, *k2[] = { c };
	char			*at[] = { at0, at1 };

	memset(&cf, 0, sizeof(cf));
	memset(f, 0, sizeof(f));
	path_of(a, sizeof(a), "good.pem");
	path_of(b, sizeof(b), "good2.pem");
	path_of(c, sizeof(c), "pgpgood.asc");
	f[0] = (struct conf_form){ .id = ids, .enc_method = CONF_ENC_SMIME,
	    .enc_keys = k1, .enc_keys_at = at, .nenc_keys = 2 };
	f[1] = (struct conf_form){ .id = idp, .enc_method = CONF_ENC_OPENPGP,
	    .enc_keys = k2, .enc_keys_at = at, .nenc_keys = 1 };
	cf.forms = f;
	cf.nforms = 2;
	T_INT(enc_set_load(&cf, time(NULL), 0, &s), 0, "set");
	T_OK(enc_set_find(s, "s") != NULL && enc_set_find(s, "s")->nkeys == 2,
	    "form s: 2 keys");
	T_OK(enc_set_find(s, "p") != NULL, "form p");
	T_OK(enc_set_find(s, "q") == NULL, "no form q");
	enc_set_free(s);
	path_of(b, sizeof(b), "garbage.pem");
	T_INT(enc_set_load(&cf, time(NULL), 0, &s), -1, "one bad key");
	T_OK(s == NULL, "no set");
}

#define NONCE	"n0nce7q3x"

/* One notification with a Reply-To, a subject and an attachment. */
static void
build(struct buf *b)
{
	struct message_mailbox	 to = { "Sales", "sales@example.org" };
	struct message_mailbox	 rt = { "Visitor " NONCE, "v@example.net" };
	struct message_attachment a = { "f.txt", "text/plain", "att " NONCE,
	    4 + sizeof(NONCE) - 1 };
	struct message		 m;

	memset(&m, 0, sizeof(m));
	m.from = (struct message_mailbox){ "Forms", "forms@example.org" };
	m.reply_to = &rt;
	m.to = &to;
	m.nto = 1;
	m.subject = "Hello " NONCE;
	m.id = "abc123";
	m.hostname = "example.org";
	m.date = 1800000000;
	m.client_ip = "192.0.2.7";
	m.text = "Body " NONCE "\n";
	m.text_len = strlen(m.text);
	m.attachments = &a;
	m.nattachments = 1;
	T_INT(message_build(&m, b), 0, "build");
}

/* Encrypts to the key file, then runs cmd ($MSG: the file of the outer
 * message, $DIR: the keys' dir) and checks what it decrypts. */
static void
round_trip(const char *what, const char *file, enum conf_enc_method m,
    const char *cmd)
{
	struct enc_form	 ef;
	struct enc_key	*k;
	struct buf	 b = BUF_INIT;
	char		 p[512], out[512], err[512], line[1024];
	char		 fid[] = "f";
	time_t		 exp;
	FILE		*f;
	int		 seen = 0, prot = 0;

	path_of(p, sizeof(p), file);
	if (enc_key_load(p, m, time(NULL), &k, &exp, err, sizeof(err)) == -1) {
		T_OK(0, "%s: %s", what, err);
		return;
	}
	ef = (struct enc_form){ fid, m, &k, 1 };
	build(&b);
	T_INT(encrypt_message(&ef, "Form submission", "abc123", &b), 0, what);
	T_OK(b.data != NULL && strstr(b.data, NONCE) == NULL,
	    "%s: the nonce outside", what);
	T_OK(b.data != NULL && strstr(b.data, "Reply-To") == NULL &&
	    strstr(b.data, "\r\nSubject: Form submission\r\n") != NULL,
	    "%s: outer header", what);
	snprintf(out, sizeof(out), "%s/%s.eml", dir, what);
	if ((f = fopen(out, "w")) != NULL) {
		fwrite(b.data, 1, b.len, f);
		fclose(f);
	}
	setenv("MSG", out, 1);
	setenv("DIR", dir, 1);
	if ((f = popen(cmd, "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			seen += strstr(line, "Subject: Hello " NONCE) != NULL;
			prot += strstr(line, "protected-headers=\"v1\"") !=
			    NULL;
		}
		T_INT(pclose(f), 0, cmd);
	}
	T_INT(seen, 1, "decrypted: the inner Subject");
	T_INT(prot, 1, "decrypted: protected-headers=\"v1\"");
	buf_free(&b);
	enc_key_free(k);
}

int
main(void)
{
	char	 cmd[1024];

	if (system("command -v openssl >/dev/null && command -v gpg "
	    ">/dev/null") != 0) {
		T_SKIP("keys", "openssl or gpg missing (scripts/deps)");
		T_DONE();
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(cmd, sizeof(cmd), "sh tests/unit/mail/make_enc_keys.sh %s",
	    dir);
	T_INT(system(cmd), 0, cmd);
	test_table();
	test_set();
	round_trip("smime", "good.pem", CONF_ENC_SMIME,
	    "openssl cms -decrypt -in \"$MSG\" -recip \"$DIR/good.pem\" "
	    "-inkey \"$DIR/good.key\"");
	round_trip("pgp", "pgpgood.asc", CONF_ENC_OPENPGP,
	    "sed -n '/BEGIN PGP MESSAGE/,/END PGP MESSAGE/p' \"$MSG\" | "
	    "gpg --batch --quiet --homedir \"$DIR/gpg\" --decrypt "
	    "2>/dev/null; rc=$?; gpgconf --homedir \"$DIR/gpg\" --kill "
	    "gpg-agent; exit $rc");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	T_DONE();
}
