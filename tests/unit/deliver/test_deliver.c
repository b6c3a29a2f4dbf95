/*
 * test_deliver: the delivery runner (deliver.h) against a real SMTP peer
 * (tests/unit/smtp_peer.py, implicit TLS and AUTH): a message the peer
 * takes is removed from queue/ and arrives DKIM-signed; a 4xx at RCPT
 * defers it (still queued, due later, one attempt counted); a 5xx fails
 * it (failed/); an envelope the config does not allow (a recipient or
 * sender not in it, a form that does not exist) is never sent and goes
 * to failed/.  Run from the repository root.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "deliver/deliver.h"
#include "lib/buf.h"
#include "spool/spool.h"
#include "lsan_opendkim.h"
#include "smtp_peer.h"
#include "t.h"

#define USER	"forms@example.test"
#define PASS	"test-only secret"

static char	 dir[] = "/tmp/test_deliver.XXXXXX";

static void
write_file(const char *name, const char *text, mode_t mode)
{
	char	 p[512];
	int	 fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1 ||
	    write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(p);
	if (fd != -1)
		close(fd);
}

static struct conf *
config(void)
{
	char		 text[4096], path[512], cwd[512], cmd[700];
	struct conf	*cf = NULL;

	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ED25519 "
	    "-out %s/dkim.pem 2>/dev/null && chmod 600 %s/dkim.pem", dir, dir);
	if (system(cmd) != 0)
		return NULL;
	write_file("pw", PASS "\n", 0600);
	snprintf(text, sizeof(text),
	    "{ \"listen\": \"unix:%s/sock\", \"spool_dir\": \"%s/spool\",\n"
	    "  \"state_dir\": \"%s/state\", \"templates_dir\": \"%s/templates\",\n"
	    "  \"sender\": { \"from\": \"Forms <forms@example.test>\",\n"
	    "              \"hostname\": \"mail.example.test\" },\n"
	    "  \"smtp\": { \"url\": \"smtps://localhost:%d\",\n"
	    "            \"username\": \"" USER "\", \"password_file\": \"%s/pw\",\n"
	    "            \"ca_file\": \"%s/ca.pem\", \"timeout\": 10 },\n"
	    "  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n"
	    "              \"algorithm\": \"ed25519-sha256\",\n"
	    "              \"key_file\": \"%s/dkim.pem\" } ],\n"
	    "  \"forms\": { \"contact\": {\n"
	    "    \"recipients\": [\"ok@example.test\", \"rcpt451@example.test\",\n"
	    "                   \"rcpt550@example.test\"],\n"
	    "    \"fields\": { \"name\": {} } } } }\n",
	    dir, dir, dir, cwd, port_implicit, dir, dir, dir);
	write_file("form2mail.json", text, 0644);
	snprintf(path, sizeof(path), "%s/form2mail.json", dir);
	if (conf_load(path, &cf) != 0)
		return NULL;
	return cf;
}

/* Commits one message of form `form` from `from` to `rcpt`; its id. */
static void
queue(const struct conf *cf, const char *form, const char *from,
    const char *rcpt, char id[SPOOL_ID_LEN + 1])
{
	struct spool_meta	 m;
	char			 msg[512];

	memset(&m, 0, sizeof(m));
	T_INT(spool_new_id(m.id), 0, "an id");
	snprintf(m.form, sizeof(m.form), "%s", form);
	snprintf(m.from, sizeof(m.from), "%s", from);
	m.rcpt[0] = (char *)(uintptr_t)rcpt;	/* not freed: not parsed */
	m.nrcpt = 1;
	m.created = m.next_try = time(NULL);
	snprintf(msg, sizeof(msg), "From: Forms <forms@example.test>\r\n"
	    "To: %s\r\nSubject: test %s\r\nDate: Mon, 7 Dec 2026 10:00:00 "
	    "+0000\r\nMessage-ID: <%s@example.test>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n", rcpt,
	    rcpt, m.id);
	T_INT(spool_commit(cf->spool_dir, &m, msg, strlen(msg)), 0, "commit");
	memcpy(id, m.id, SPOOL_ID_LEN + 1);
}

/* Is <spool>/<state>/<id> there? */
static int
in_state(const struct conf *cf, const char *state, const char *id)
{
	char		 p[600];
	struct stat	 st;

	snprintf(p, sizeof(p), "%s/%s/%s", cf->spool_dir, state, id);
	return stat(p, &st) == 0;
}

int
main(void)
{
	volatile sig_atomic_t	 stop = 0;
	struct conf		*cf;
	struct deliver		*d = NULL;
	struct buf		 last = BUF_INIT;
	char			 ok[SPOOL_ID_LEN + 1], later[SPOOL_ID_LEN + 1];
	char			 bad[SPOOL_ID_LEN + 1], forged[3][SPOOL_ID_LEN + 1];
	char			 err[512], cmd[600];
	time_t			 next = 0;
	int			 n, conns;

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL)
		return 1;
	peer_dir = dir;
	if (peer_start(USER, PASS) == -1 || (cf = config()) == NULL) {
		peer_stop();
		T_OK(0, "could not start %s or write the config", PEER_SCRIPT);
		T_DONE();
	}
	T_INT(spool_init(cf->spool_dir, -1, -1), 0, "spool");
	T_INT(mkdir(cf->state_dir, 0700), 0, "state_dir");
	queue(cf, "contact", cf->envelope_from, "ok@example.test", ok);
	queue(cf, "contact", cf->envelope_from, "rcpt451@example.test", later);
	queue(cf, "contact", cf->envelope_from, "rcpt550@example.test", bad);
	queue(cf, "contact", cf->envelope_from, "evil@attacker.test",
	    forged[0]);
	queue(cf, "contact", "spoof@attacker.test", "ok@example.test",
	    forged[1]);
	queue(cf, "nosuchform", cf->envelope_from, "ok@example.test",
	    forged[2]);
	err[0] = '\0';
	T_OK(deliver_open(cf, &d, err, sizeof(err)) == 0, "deliver_open: %s",
	    err);
	if (d == NULL) {
		conf_free(cf);
		peer_stop();
		T_DONE();
	}
	n = deliver_due(d, &stop, &next);
	T_INT(n, 1, "one message delivered");
	/* A connection per failure at most: curl reconnects after one. */
	conns = peer_count("connect implicit");
	T_OK(conns >= 1 && conns <= 3, "connections: %d", conns);
	T_OK(!in_state(cf, "queue", ok) && !in_state(cf, "failed", ok),
	    "the delivered message is removed");
	T_OK(peer_last(&last) == 0 && last.data != NULL &&
	    strstr(last.data, "DKIM-Signature: v=1; a=ed25519-sha256;") !=
	    NULL && strstr(last.data, "d=example.test") != NULL &&
	    strstr(last.data, "Subject: test ok@example.test") != NULL,
	    "it arrived signed: %.200s", last.data ? last.data : "");
	T_OK(in_state(cf, "queue", later), "a 451 at RCPT: still queued");
	T_OK(in_state(cf, "failed", bad) && !in_state(cf, "queue", bad),
	    "a 550 at RCPT: failed/");
	T_OK(in_state(cf, "failed", forged[0]), "a recipient not in the "
	    "config: failed/, never sent");
	T_OK(in_state(cf, "failed", forged[1]), "an envelope sender not in the "
	    "config: failed/");
	T_OK(in_state(cf, "failed", forged[2]), "a form not in the config: "
	    "failed/");
	T_INT(peer_count("message implicit 2"), 0, "nothing else accepted");
	/* The deferred one is not due yet: a second round sends nothing
	 * and connects to nobody. */
	T_INT(deliver_due(d, &stop, &next), 0, "nothing due");
	T_INT(peer_count("connect implicit"), conns, "no new connection");
	T_OK(in_state(cf, "queue", later), "the deferred one still queued");
	deliver_close(d);
	conf_free(cf);
	buf_free(&last);
	peer_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf -- %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	T_DONE();
}
