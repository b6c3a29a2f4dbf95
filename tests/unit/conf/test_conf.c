/*
 * test_conf: loading the JSON config, and the file:line:column of every
 * kind of problem.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "t.h"

static char	 dir[] = "/tmp/f2m-test-conf-XXXXXX";
static char	 cwd[PATH_MAX];

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	 fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd == -1 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(path);
	fchmod(fd, mode);
	close(fd);
}

/* Expands @DIR@ and @TPL@ in a template of a config. */
static char *
expand(const char *src)
{
	struct buf	 b = BUF_INIT;
	const char	*p;

	for (p = src; *p; p++) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			if (buf_adds(&b, dir) == -1)
				abort();
			p += 4;
		} else if (strncmp(p, "@TPL@", 5) == 0) {
			if (buf_printf(&b, "%s/templates", cwd) == -1)
				abort();
			p += 4;
		} else if (buf_addc(&b, *p) == -1)
			abort();
	}
	return buf_steal(&b);
}

/* Loads a config text; returns the status and what went to stderr. */
static int
load(const char *text, char *errs, size_t errsize)
{
	char		 path[512], epath[512];
	struct conf	*cf = NULL;
	char		*t = expand(text);
	int		 rc, saved, fd;
	ssize_t		 n;

	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	snprintf(epath, sizeof(epath), "%s/stderr", dir);
	write_file(path, t, 0644);
	free(t);
	fflush(stderr);
	saved = dup(2);
	fd = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	rc = conf_load(path, &cf);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fd = open(epath, O_RDONLY);
	n = read(fd, errs, errsize - 1);
	errs[n > 0 ? n : 0] = '\0';
	close(fd);
	if (rc == 0 && cf == NULL)
		rc = 99;
	if (rc != 0 && cf != NULL)
		rc = 98;
	conf_free(cf);
	return rc;
}

#define GOOD_HEAD "{\n" GOOD_BODY
#define GOOD_BODY \
	"  \"listen\": \"unix:@DIR@/sock\",\n" \
	"  \"spool_dir\": \"@DIR@/spool\",\n" \
	"  \"state_dir\": \"@DIR@/state\",\n" \
	"  \"templates_dir\": \"@TPL@\",\n" \
	"  \"sender\": { \"from\": \"Forms <forms@example.test>\",\n" \
	"              \"hostname\": \"www.example.test\" },\n" \
	"  \"smtp\": { \"url\": \"smtps://localhost:4650\",\n" \
	"            \"username\": \"u\",\n" \
	"            \"password_file\": \"@DIR@/pw\" },\n" \
	"  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n" \
	"              \"key_file\": \"@DIR@/key\" } ],\n"

/* GOOD_HEAD with more sender keys on the hostname line (line 7), so the
 * forms start on line 13 as in GOOD_HEAD. */
#define SENDER_HEAD(extra) "{\n" \
	"  \"listen\": \"unix:@DIR@/sock\",\n" \
	"  \"spool_dir\": \"@DIR@/spool\",\n" \
	"  \"state_dir\": \"@DIR@/state\",\n" \
	"  \"templates_dir\": \"@TPL@\",\n" \
	"  \"sender\": { \"from\": \"Forms <forms@example.test>\",\n" \
	"              \"hostname\": \"www.example.test\"" extra " },\n" \
	"  \"smtp\": { \"url\": \"smtps://localhost:4650\",\n" \
	"            \"username\": \"u\",\n" \
	"            \"password_file\": \"@DIR@/pw\" },\n" \
	"  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n" \
	"              \"key_file\": \"@DIR@/key\" } ],\n"

#define GOOD_FORMS \
	"  \"forms\": { \"contact\": {\n" \
	"    \"recipients\": [\"Sales <sales@example.test>\"],\n" \
	"    \"subject\": \"Contact: {{name}}\",\n" \
	"    \"fields\": { \"name\": { \"required\": true },\n" \
	"                \"email\": { \"type\": \"email\", \"reply_to\": true } }\n" \
	"  } }\n}\n"

/* A form with line 16 given (the forms start on line 13). */
#define ENC_FORM(line16) \
	"  \"forms\": { \"contact\": {\n" \
	"    \"recipients\": [\"a@example.test\"],\n" \
	"    \"fields\": { \"email\": { \"type\": \"email\" } },\n" \
	line16 "\n" \
	"  } }\n}\n"
#define ENC_SMIME	"    \"encrypt\": { \"method\": \"smime\", "

static const struct {
	const char	*name;
	const char	*text;
	int		 rc;
	const char	*want;	/* substring of stderr, NULL: empty */
} cases[] = {
	{ "good", GOOD_HEAD GOOD_FORMS, 0, NULL },
	/* limits.min_free (issue 16, F11): octets or "N%", 0 to 99. */
	{ "limits.min_free '1%'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"1%\" },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free '99%'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"99%\" },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free '64M'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"64M\" },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free '1T'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"1T\" },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free 65536", GOOD_HEAD
	  "  \"limits\": { \"min_free\": 65536 },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free 0", GOOD_HEAD
	  "  \"limits\": { \"min_free\": 0 },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free '0'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"0\" },\n" GOOD_FORMS, 0, NULL },
	{ "limits.min_free '100%'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"100%\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '1.5%'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"1.5%\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free -1", GOOD_HEAD
	  "  \"limits\": { \"min_free\": -1 },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '-1'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"-1\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '12X'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"12X\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '1KB'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"1KB\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free ''", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '2000T'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"2000T\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '99999999999999999999'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"99999999999999999999\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free true", GOOD_HEAD
	  "  \"limits\": { \"min_free\": true },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free 1.5", GOOD_HEAD
	  "  \"limits\": { \"min_free\": 1.5 },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free ' 1M'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \" 1M\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	{ "limits.min_free '%'", GOOD_HEAD
	  "  \"limits\": { \"min_free\": \"%\" },\n" GOOD_FORMS, 1,
	  "form2mail.json:13:27: \"min_free\" must be octets" },
	/* Deliverability traps (docs/DESIGN.md "Deliverability"): warnings at
	 * the key, status 0. */
	{ "same_domain_from sender: SPOOF_REPLYTO",
	  SENDER_HEAD(", \"same_domain_from\": \"sender\"") GOOD_FORMS, 0,
	  "form2mail.json:14:20: warning: recipient sales@example.test shares "
	  "sender.from's domain example.test exactly: with the visitor in "
	  "Reply-To, a receiving rspamd adds SPOOF_REPLYTO (+6.0)" },
	{ "own-domain recipient behind another first", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@partner.test\", \"b@example.test\"],\n"
	  "    \"fields\": { \"email\": { \"type\": \"email\",\n"
	  "      \"reply_to\": true } } } }\n}\n", 0,
	  "form2mail.json:14:38: warning: recipient b@example.test shares "
	  "sender.from's domain example.test exactly but the first recipient "
	  "does not" },
	{ "own-domain bcc behind another first", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@partner.test\"],\n"
	  "    \"bcc\": [\"audit@EXAMPLE.test\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 0,
	  "form2mail.json:15:13: warning: recipient audit@EXAMPLE.test shares" },
	{ "route choice on the From domain first: no warning", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"route\": { \"field\": \"dept\", \"choices\": {\n"
	  "      \"sales\": [\"sales@example.test\", \"x@partner.test\"] } },\n"
	  "    \"fields\": { \"dept\": {} } } }\n}\n", 0, NULL },
	{ "route choice behind another first", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"route\": { \"field\": \"dept\", \"choices\": {\n"
	  "      \"sales\": [\"x@partner.test\", \"sales@example.test\"] } },\n"
	  "    \"fields\": { \"dept\": {} } } }\n}\n", 0,
	  "form2mail.json:15:35: warning: recipient sales@example.test" },
	{ "recipients elsewhere only: no warning", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@partner.test\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 0, NULL },
	{ "Message-ID on www.: MID_RHS_WWW",
	  SENDER_HEAD(", \"message_id_domain\": \"www.example.test\"")
	  GOOD_FORMS, 0, "form2mail.json:7:68: warning: Message-ID "
	  "<id@www.example.test> is on a www. host: a receiving rspamd adds "
	  "MID_RHS_WWW (+0.5)" },
	{ "Message-ID domain not a name",
	  SENDER_HEAD(", \"message_id_domain\": \"example\"") GOOD_FORMS, 1,
	  "form2mail.json:7:68: \"message_id_domain\" must be a fully "
	  "qualified domain name" },
	{ "unaligned envelope sender",
	  SENDER_HEAD(", \"envelope_from\": \"b@mailer.test\"") GOOD_FORMS,
	  0, "form2mail.json:7:64: warning: envelope sender b@mailer.test is "
	  "not on From's domain example.test: SPF then does not align" },
	{ "envelope sender on the From domain: no warning",
	  SENDER_HEAD(", \"envelope_from\": \"bounces@example.test\"")
	  GOOD_FORMS, 0, NULL },
	{ "envelope sender below the From domain: no warning",
	  SENDER_HEAD(", \"envelope_from\": \"b@bounce.example.test\"")
	  GOOD_FORMS, 0, NULL },
	{ "same_domain_from: bad value",
	  SENDER_HEAD(", \"same_domain_from\": \"first\"") GOOD_FORMS, 1,
	  "\"same_domain_from\" must be \"recipient\" or \"sender\"" },
	{ "syntax error", "{\n  \"listen\": \"x\",\n  \"workers\": 4,,\n}\n", 2,
	  "form2mail.json:3:" },
	{ "not an object", "[1, 2]\n", 2, "form2mail.json:1:1: the config "
	  "must be a JSON object" },
	{ "duplicate key", "{ \"workers\": 1, \"workers\": 2 }", 2,
	  "duplicate" },
	{ "unknown key with suggestion", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipents\": [\"a@example.test\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:14:5: unknown key \"recipents\" (did you mean "
	  "\"recipients\"?)" },
	{ "unknown top key", "{ \"wrokers\": 2,\n" GOOD_BODY GOOD_FORMS, 1,
	  "form2mail.json:1:3: unknown key \"wrokers\" (did you mean "
	  "\"workers\"?)" },
	{ "bad recipient", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"ok@example.test\", \"bad@@example.test\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:14:39: \"bad@@example.test\" is not a valid "
	  "mailbox" },
	{ "recipient with CRLF", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\\r\\nBcc: x@evil.test\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:14:20: \"a@example.test\\x0d\\x0aBcc: x@evil.test\" is not" },
	{ "workers out of range", "{ \"workers\": 0,\n" GOOD_BODY
	  GOOD_FORMS, 1, "form2mail.json:1:14: \"workers\" must be between 1 "
	  "and 256" },
	{ "plaintext to a remote host", GOOD_HEAD
	  "  \"forms\": {}\n}\n", 1, "\"forms\" must name 1 to" },
	{ "unaligned From", "{\n"
	  "  \"listen\": \"unix:@DIR@/sock\",\n"
	  "  \"templates_dir\": \"@TPL@\",\n"
	  "  \"sender\": { \"from\": \"forms@other.test\",\n"
	  "              \"hostname\": \"www.example.test\" },\n"
	  "  \"smtp\": { \"url\": \"smtps://localhost\" },\n"
	  "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	  "              \"key_file\": \"@DIR@/key\" } ],\n"
	  GOOD_FORMS, 1, "form2mail.json:4:23: From domain \"other.test\" is "
	  "not a DKIM signing domain" },
	{ "subdomain From is aligned", "{\n"
	  "  \"listen\": \"unix:@DIR@/sock\",\n"
	  "  \"templates_dir\": \"@TPL@\",\n"
	  "  \"sender\": { \"from\": \"forms@mail.example.test\",\n"
	  "              \"hostname\": \"www.example.test\" },\n"
	  "  \"smtp\": { \"url\": \"smtps://localhost\" },\n"
	  "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	  "              \"key_file\": \"@DIR@/key\" } ],\n"
	  GOOD_FORMS, 0, NULL },
	{ "insecure plaintext remote", "{\n"
	  "  \"listen\": \"unix:@DIR@/sock\",\n"
	  "  \"templates_dir\": \"@TPL@\",\n"
	  "  \"sender\": { \"from\": \"forms@example.test\",\n"
	  "              \"hostname\": \"www.example.test\" },\n"
	  "  \"smtp\": { \"url\": \"smtp://mail.example.test:587\",\n"
	  "            \"insecure_plaintext\": true },\n"
	  "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	  "              \"key_file\": \"@DIR@/key\" } ],\n"
	  GOOD_FORMS, 1, "form2mail.json:7:35: \"insecure_plaintext\" is "
	  "allowed only with an smtp:// url on a loopback host" },
	{ "bad smtp scheme", "{\n"
	  "  \"listen\": \"unix:@DIR@/sock\",\n"
	  "  \"templates_dir\": \"@TPL@\",\n"
	  "  \"sender\": { \"from\": \"forms@example.test\",\n"
	  "              \"hostname\": \"www.example.test\" },\n"
	  "  \"smtp\": { \"url\": \"http://mail.example.test\" },\n"
	  "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	  "              \"key_file\": \"@DIR@/key\" } ],\n"
	  GOOD_FORMS, 1, "form2mail.json:6:20: \"url\" must start with "
	  "smtps://" },
	{ "secret readable by others", "{\n"
	  "  \"listen\": \"unix:@DIR@/sock\",\n"
	  "  \"templates_dir\": \"@TPL@\",\n"
	  "  \"sender\": { \"from\": \"forms@example.test\",\n"
	  "              \"hostname\": \"www.example.test\" },\n"
	  "  \"smtp\": { \"url\": \"smtps://localhost\" },\n"
	  "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	  "              \"key_file\": \"@DIR@/openkey\" } ],\n"
	  GOOD_FORMS, 1, "form2mail.json:8:27: " },
	{ "subject uses an unknown field", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"subject\": \"Hi {{nmae}}\",\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:15:16: subject uses \"nmae\", which is not a field" },
	{ "reply_to must be email", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"fields\": { \"name\": { \"reply_to\": true } } } }\n}\n", 1,
	  "a \"reply_to\" field must have \"type\": \"email\"" },
	{ "redirect not https", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"success_url\": \"http://example.test/thanks\",\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:15:20: \"success_url\" must be an https:// URL" },
	{ "template missing", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"template\": \"nosuch\",\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "nosuch.txt: No such file" },
	{ "template name with a path", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"template\": \"../../etc/passwd\",\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:15:17: \"template\" must be a name" },
	{ "bad origin", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"allowed_origins\": [\"https://example.test/path\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:15:25: must be an origin" },
	{ "form id with a slash", GOOD_HEAD
	  "  \"forms\": { \"a/b\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "form2mail.json:13:14: form id \"a/b\" must be" },
	{ "missing sender", "{ \"forms\": {} }", 1, "missing \"sender\"" },
	{ "string where a number goes", "{ \"workers\": \"4\",\n"
	  GOOD_BODY GOOD_FORMS, 1,
	  "form2mail.json:1:14: \"workers\" must be an integer" },
	{ "throttle rates", "{ \"throttle\": { \"per_ip\": \"5/10m\", "
	  "\"per_form\": \"60/1h\", \"global\": \"250/1h\" },\n" GOOD_BODY
	  GOOD_FORMS, 0, NULL },
	{ "bad rate", "{ \"throttle\": { \"per_ip\": \"5 per minute\" },\n"
	  GOOD_BODY GOOD_FORMS, 1, "form2mail.json:1:27: \"per_ip\" must be a "
	  "rate COUNT/PERIOD" },
	{ "zero rate", "{ \"throttle\": { \"global\": \"0/1h\" },\n"
	  GOOD_BODY GOOD_FORMS, 1, "\"global\" must be a rate" },
	/* Issue 16 F10: the network budgets; F4: client_ip_header. */
	{ "network rates", "{ \"throttle\": { \"per_ip\": \"5/10m\", "
	  "\"per_net\": \"100/1h\", \"per_net_v4\": \"20/1h\" },\n" GOOD_BODY
	  GOOD_FORMS, 0, NULL },
	{ "network rates off", "{ \"throttle\": { \"per_ip\": \"5/10m\", "
	  "\"per_net\": \"off\", \"per_net_v4\": \"off\" },\n" GOOD_BODY
	  GOOD_FORMS, 0, NULL },
	{ "bad per_net", "{ \"throttle\": { \"per_net\": \"lots\" },\n"
	  GOOD_BODY GOOD_FORMS, 1, "form2mail.json:1:28: \"per_net\" must be a "
	  "rate COUNT/PERIOD" },
	{ "per_net_v4 a number", "{ \"throttle\": { \"per_net_v4\": 5 },\n"
	  GOOD_BODY GOOD_FORMS, 1, "form2mail.json:1:31: \"per_net_v4\" must "
	  "be a rate" },
	{ "per_net Off", "{ \"throttle\": { \"per_net\": \"Off\" },\n"
	  GOOD_BODY GOOD_FORMS, 1, "\"per_net\" must be a rate" },
	{ "client_ip_header", "{ \"throttle\": { \"client_ip_header\": "
	  "\"X-Forwarded-For\" },\n" GOOD_BODY GOOD_FORMS, 0,
	  "form2mail.json:1:37: warning: \"client_ip_header\" X-Forwarded-For "
	  "is read only when REMOTE_ADDR is not an IP address" },
	{ "client_ip_header with a space", "{ \"throttle\": { "
	  "\"client_ip_header\": \"X Real IP\" },\n" GOOD_BODY GOOD_FORMS, 1,
	  "form2mail.json:1:37: \"client_ip_header\" must be a header name" },
	{ "client_ip_header empty", "{ \"throttle\": { "
	  "\"client_ip_header\": \"\" },\n" GOOD_BODY GOOD_FORMS, 1,
	  "\"client_ip_header\" must be a header name" },
	{ "client_ip_header with a colon", "{ \"throttle\": { "
	  "\"client_ip_header\": \"X-Real-IP:\" },\n" GOOD_BODY GOOD_FORMS, 1,
	  "\"client_ip_header\" must be a header name" },
	{ "client_ip_header Forwarded", "{ \"throttle\": { "
	  "\"client_ip_header\": \"forwarded\" },\n" GOOD_BODY GOOD_FORMS, 1,
	  "\"Forwarded\" (RFC 7239) is not read" },
	{ "unknown backend", "{ \"throttle\": { \"backend\": \"memcached\" },\n"
	  GOOD_BODY GOOD_FORMS, 1, "\"backend\" must be \"shm\" or \"redis\"" },
	{ "rspamd over plain http to a remote host", "{ \"spam\": { "
	  "\"rspamd_url\": \"http://rspamd.example.test:11333\" },\n"
	  GOOD_BODY GOOD_FORMS, 1, "\"rspamd_url\" must be an https:// URL, or "
	  "http:// to a loopback address" },
	{ "hold above reject", "{ \"spam\": { \"rspamd_url\": "
	  "\"http://127.0.0.1:11333\", \"hold_score\": 20 },\n"
	  GOOD_BODY GOOD_FORMS, 1, "\"hold_score\" is above" },
	{ "altcha challenge", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\", \"max_number\": 50000,"
	  " \"min_seconds\": 2 },\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 0, NULL },
	{ "challenge of another type", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"puzzle\" },\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "challenge \"type\" must be \"altcha\"" },
	{ "captcha with an open secret", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"captcha\": { \"provider\": \"turnstile\", "
	  "\"secret_file\": \"@DIR@/openkey\" },\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "readable or writable by group or others" },
	{ "captcha ok", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"captcha\": { \"provider\": \"recaptcha_v3\", "
	  "\"secret_file\": \"@DIR@/pw\", \"action\": \"contact\", "
	  "\"min_score\": 0.7, \"verify_url\": \"http://127.0.0.1:9/v\" },\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 0, NULL },
	{ "captcha provider unknown", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"captcha\": { \"provider\": \"recaptcha\", "
	  "\"secret_file\": \"@DIR@/pw\" },\n"
	  "    \"fields\": { \"name\": {} } } }\n}\n", 1,
	  "\"provider\" must be" },
	{ "autoresponder without a challenge", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"autoresponder\": { \"field\": \"email\" },\n"
	  "    \"fields\": { \"name\": {}, \"email\": { \"type\": \"email\" }"
	  " } } }\n}\n", 1, "an autoresponder needs a \"challenge\" or a "
	  "\"captcha\"" },
	{ "autoresponder echoing the message", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"subject\": \"Re: {{message}}\" },\n"
	  "    \"fields\": { \"message\": { \"multiline\": true }, "
	  "\"email\": { \"type\": \"email\" } } } }\n}\n", 1,
	  "subject may not use \"message\"" },
	{ "autoresponder ok", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"per_address\": \"1d\", "
	  "\"max_per_day\": 50 },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 0, NULL },
	{ "autoresponder subject with visitor text", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"subject\": \"Hi {{name}}\" },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1,
	  "subject may not use \"name\"" },
	{ "autoresponder showing a long field", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": {},\n"
	  "    \"fields\": { \"name\": {}, \"email\": { \"type\": \"email\" } "
	  "} } }\n}\n", 1, "may show only single-line fields" },
	{ "autoresponder showing an email field", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": {},\n"
	  "    \"fields\": { \"name\": { \"type\": \"email\", \"max_length\": "
	  "60 }, \"email\": { \"type\": \"email\" } } } }\n}\n", 1,
	  "not of type email (a name), not \"name\"" },
	{ "autoresponder confirm ok", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm\": true, \"confirm_url\": "
	  "\"https://www.example.test/f2m/contact/confirm\" },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 0, NULL },
	{ "autoresponder confirm without confirm_url", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm\": true },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1, "confirm_url" },
	{ "autoresponder confirm_url of another form", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm\": true, \"confirm_url\": "
	  "\"https://www.example.test/f2m/other/confirm\" },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1,
	  "followed by \"/contact/confirm\"" },
	{ "autoresponder confirm_url over plain http", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm\": true, \"confirm_url\": "
	  "\"http://www.example.test/f2m/contact/confirm\" },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1, "must be the https URL" },
	{ "autoresponder confirm_url with a query", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm\": true, \"confirm_url\": "
	  "\"https://www.example.test/f2m/contact/confirm?x=/contact/confirm\""
	  " },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1, "must be the https URL" },
	{ "autoresponder confirm_subject with visitor text", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm\": true, \"confirm_url\": "
	  "\"https://www.example.test/f2m/contact/confirm\", "
	  "\"confirm_subject\": \"Hi {{name}}\" },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1,
	  "subject may not use \"name\"" },
	{ "autoresponder confirm_url without confirm", GOOD_HEAD
	  "  \"forms\": { \"contact\": {\n"
	  "    \"recipients\": [\"a@example.test\"],\n"
	  "    \"challenge\": { \"type\": \"altcha\" },\n"
	  "    \"autoresponder\": { \"confirm_url\": "
	  "\"https://www.example.test/f2m/contact/confirm\" },\n"
	  "    \"fields\": { \"name\": { \"max_length\": 60 }, \"email\": { "
	  "\"type\": \"email\" } } } }\n}\n", 1,
	  "\"confirm_url\" is for \"confirm\": true" },
	/* "encrypt" (docs/DESIGN.md "Encrypted notifications"): conf
	 * checks the shape; mail/enc_key.h reads the files. */
	{ "encrypt smime", GOOD_HEAD ENC_FORM(ENC_SMIME
	  "\"keys\": [\"/nonexistent/x.pem\"] }"), 0, NULL },
	{ "encrypt openpgp + subject", GOOD_HEAD ENC_FORM(
	  "    \"encrypt\": { \"method\": \"openpgp\", \"keys\": "
	  "[\"/k.asc\"] }, \"encrypted_subject\": \"Neue Anfrage\""), 0,
	  NULL },
	{ "encrypt bad method", GOOD_HEAD ENC_FORM(
	  "    \"encrypt\": { \"method\": \"gpg\", \"keys\": [\"/k\"] }"), 1,
	  "form2mail.json:16:28: \"method\" must be \"smime\" or "
	  "\"openpgp\"" },
	{ "encrypt no method", GOOD_HEAD ENC_FORM(
	  "    \"encrypt\": { \"keys\": [\"/k\"] }"), 1, "method" },
	{ "encrypt relative key", GOOD_HEAD ENC_FORM(ENC_SMIME
	  "\"keys\": [\"x.pem\"] }"), 1,
	  "form2mail.json:16:46: a key file must be an absolute path" },
	{ "encrypt key not a string", GOOD_HEAD ENC_FORM(ENC_SMIME
	  "\"keys\": [\"/a\", 7] }"), 1,
	  "form2mail.json:16:52: a key file must be an absolute path" },
	{ "encrypt no keys", GOOD_HEAD ENC_FORM(ENC_SMIME "\"keys\": [] }"),
	  1, "form2mail.json:16:45: \"keys\" must be an array of 1 to 32" },
	{ "encrypt keys missing", GOOD_HEAD ENC_FORM(ENC_SMIME
	  "\"kyes\": [\"/k\"] }"), 1, "did you mean \"keys\"" },
	{ "encrypted_subject alone", GOOD_HEAD ENC_FORM(
	  "    \"encrypted_subject\": \"x\""), 1,
	  "form2mail.json:16:5: \"encrypted_subject\" needs \"encrypt\"" },
	{ "encrypted_subject control", GOOD_HEAD ENC_FORM(ENC_SMIME
	  "\"keys\": [\"/k\"] }, \"encrypted_subject\": \"a\\u0007b\""), 1,
	  "form2mail.json:16:76: \"encrypted_subject\" holds a control character" },
	{ "bad duration", "{ \"max_age\": \"5 days\",\n" GOOD_BODY
	  GOOD_FORMS, 1, "form2mail.json:1:14: \"max_age\" must be a "
	  "duration" },
};

int
main(void)
{
	char		 errs[8192], path[600];
	struct conf	*cf;
	size_t		 i;
	int		 rc;

	if (getcwd(cwd, sizeof(cwd)) == NULL || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pw", dir);
	write_file(path, "secret\n", 0600);
	snprintf(path, sizeof(path), "%s/key", dir);
	write_file(path, "not read by conf\n", 0600);
	snprintf(path, sizeof(path), "%s/openkey", dir);
	write_file(path, "not read by conf\n", 0644);

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rc = load(cases[i].text, errs, sizeof(errs));
		T_OK(rc == cases[i].rc, "%s: expected status %d, got %d; "
		    "stderr:\n%s", cases[i].name, cases[i].rc, rc, errs);
		if (cases[i].want == NULL)
			T_OK(errs[0] == '\0', "%s: expected no message, got:\n%s",
			    cases[i].name, errs);
		else
			T_OK(strstr(errs, cases[i].want) != NULL,
			    "%s: expected a message with\n  [%s]\ngot:\n%s",
			    cases[i].name, cases[i].want, errs);
	}

	/* The key files and their places, for mail/enc_key.h's messages. */
	rc = load(GOOD_HEAD ENC_FORM(ENC_SMIME "\"keys\": [\"/a.pem\", "
	    "\"/b.pem\"] }"), errs, sizeof(errs));
	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	T_INT(conf_load(path, &cf), 0, "encrypt loads");
	if (cf != NULL) {
		T_INT(cf->forms[0].enc_method, CONF_ENC_SMIME, "method");
		T_INT(cf->forms[0].nenc_keys, 2, "two keys");
		T_STR(cf->forms[0].enc_keys[1], "/b.pem", "the second");
		T_OK(strlen(cf->forms[0].enc_keys_at[1]) > 6 && strcmp(
		    cf->forms[0].enc_keys_at[1] + strlen(
		    cf->forms[0].enc_keys_at[1]) - 6, ":16:56") == 0,
		    "its place: %s", cf->forms[0].enc_keys_at[1]);
		T_STR(cf->forms[0].enc_subject, "Form submission",
		    "encrypted_subject's default");
		conf_free(cf);
	}

	/* The network budgets' defaults (docs/DESIGN.md "Throttle"). */
	rc = load("{ \"throttle\": { \"per_ip\": \"5/10m\", "
	    "\"client_ip_header\": \"X-Real-IP\" },\n" GOOD_BODY GOOD_FORMS,
	    errs, sizeof(errs));
	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	T_INT(conf_load(path, &cf), 0, "per_ip only loads");
	if (cf != NULL) {
		T_INT(cf->throttle.per_net.count, 40, "per_net: 8 per_ip");
		T_INT(cf->throttle.per_net.period, 600, "per_net: its period");
		T_INT(cf->throttle.per_net_v4.count, 0, "per_net_v4: off");
		T_STR(cf->throttle.client_ip_param, "HTTP_X_REAL_IP",
		    "the header's param");
		T_INT(cf->throttle.client_ip_last, 0, "X-Real-IP: whole");
		conf_free(cf);
	}
	rc = load("{ \"throttle\": { \"per_ip\": \"200000/1d\", "
	    "\"client_ip_header\": \"x-forwarded-for\" },\n" GOOD_BODY
	    GOOD_FORMS, errs, sizeof(errs));
	T_INT(conf_load(path, &cf), 0, "a high per_ip loads");
	if (cf != NULL) {
		T_INT(cf->throttle.per_net.count, RATE_COUNT_MAX, "per_net: "
		    "capped");
		T_INT(cf->throttle.client_ip_last, 1, "X-Forwarded-For: the "
		    "rightmost entry");
		T_STR(cf->throttle.client_ip_param, "HTTP_X_FORWARDED_FOR",
		    "any case");
		conf_free(cf);
	}
	rc = load("{ \"throttle\": { \"per_net_v4\": \"10/1h\" },\n"
	    GOOD_BODY GOOD_FORMS, errs, sizeof(errs));
	T_INT(conf_load(path, &cf), 0, "per_net_v4 alone loads");
	if (cf != NULL) {
		T_INT(cf->throttle.per_net.count, 0, "no per_ip: no per_net");
		T_INT(cf->throttle.per_net_v4.count, 10, "per_net_v4 count");
		T_INT(cf->throttle.per_net_v4.period, 3600, "per_net_v4 period");
		conf_free(cf);
	}

	T_INT(conf_load("/nonexistent/form2mail.json", &cf), 2, "missing file");
	T_OK(cf == NULL, "no config on error");

	/* The good config's values. */
	rc = load(GOOD_HEAD GOOD_FORMS, errs, sizeof(errs));
	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	T_INT(conf_load(path, &cf), 0, "good config loads");
	if (cf != NULL) {
		const struct conf_form *f = conf_form_find(cf, "contact", 7);

		T_OK(f != NULL, "form found");
		T_OK(conf_form_find(cf, "contac", 6) == NULL, "prefix not found");
		T_INT(cf->workers, 4, "default workers");
		T_INT(cf->require_https, 1, "require_https default");
		T_INT(cf->listen_mode, 0660, "listen_mode default");
		T_INT(cf->max_age, 5 * 86400, "max_age default");
		T_STR(cf->envelope_from, "forms@example.test", "envelope_from "
		    "defaults to From");
		T_INT(cf->smtp.tls, CONF_SMTP_IMPLICIT, "smtps is implicit TLS");
		if (f != NULL) {
			T_STR(f->to[0].display, "Sales", "recipient display");
			T_STR(f->to[0].addr, "sales@example.test", "recipient");
			T_INT(f->nfields, 2, "field count");
			T_STR(f->fields[0].name, "name", "field order kept");
			T_INT(f->fields[0].header, 1, "subject field is header");
			T_INT(f->fields[1].header, 1, "reply_to is header");
			T_OK(f->text != NULL && f->html != NULL, "default "
			    "templates loaded");
		}
		conf_free(cf);
	}

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	T_DONE();
}
