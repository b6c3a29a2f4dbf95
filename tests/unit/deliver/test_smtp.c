/*
 * test_smtp: submission and reply classification against a real SMTP peer
 * (tests/unit/smtp_peer.py, aiosmtpd, started here on free loopback ports
 * with a throwaway CA): implicit TLS, STARTTLS, clear text on loopback,
 * one connection and one AUTH for several messages, certificate and login
 * errors, 4xx/5xx at each step, dropped and stalled connections, a server
 * that is down, envelope checks; smtp_probe()'s phases (the doctor's
 * login).  Run from the repository root.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "deliver/smtp.h"
#include "smtp_peer.h"
#include "t.h"

#define USER		"forms@example.com"
#define PASS		"test-only secret"
#define BADPASS		"not-the-password"
#define HELO		"www.example.com"
#define FROM		"bounces@example.com"
#define GOOD		"sales@example.com"

static char	 dir[] = "/tmp/test_smtp.XXXXXX";

static char	 plain_url[] = "smtp://127.0.0.1:25";

static const char msg[] =
    "From: Example Forms <forms@example.com>\r\n"
    "To: Sales <sales@example.com>\r\n"
    "Subject: test\r\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Message-ID: <t1@www.example.com>\r\n"
    "\r\n"
    ".\r\n"
    "..two dots\r\n"
    ". dot space\r\n"
    "line\r\n";

enum server { S_IMPLICIT, S_STARTTLS, S_PLAIN, S_CLOSED };

struct peer_conf {
	struct conf_smtp	 cfg;
	char			 url[128];
	char			 ca[256];
	char			 user[64];
};

static void
peer_conf(struct peer_conf *pc, enum server srv, const char *host,
    enum conf_smtp_tls tls, const char *ca, int auth, long timeout)
{
	int	 port = srv == S_IMPLICIT ? port_implicit : srv == S_STARTTLS ?
		    port_starttls : srv == S_PLAIN ? port_plain : port_closed;

	memset(pc, 0, sizeof(*pc));
	snprintf(pc->url, sizeof(pc->url), "%s://%s:%d",
	    tls == CONF_SMTP_IMPLICIT ? "smtps" : "smtp", host, port);
	pc->cfg.url = pc->url;
	pc->cfg.tls = tls;
	pc->cfg.insecure_plaintext = tls == CONF_SMTP_PLAIN;
	pc->cfg.timeout = timeout;
	if (ca != NULL) {
		snprintf(pc->ca, sizeof(pc->ca), "%s/%s", dir, ca);
		pc->cfg.ca_file = pc->ca;
	}
	if (auth) {
		snprintf(pc->user, sizeof(pc->user), "%s", USER);
		pc->cfg.username = pc->user;
	}
}

static enum smtp_result
send1(struct smtp *s, const char *from, const char *rcpt, char *err,
    size_t errsize)
{
	const char	*to[1];

	to[0] = rcpt;
	err[0] = '\0';
	return smtp_send(s, from, to, 1, msg, sizeof(msg) - 1, err, errsize);
}

static void
test_cases(void)
{
	static const struct {
		const char		*what;
		enum server		 srv;
		const char		*host;
		enum conf_smtp_tls	 tls;
		const char		*ca;
		const char		*password;	/* NULL: no AUTH */
		const char		*from, *rcpt;
		long			 timeout;
		enum smtp_result	 want;
		const char		*errhas;
		int			 then_ok;
	} t[] = {
		{ "implicit TLS delivery", S_IMPLICIT, "localhost",
		    CONF_SMTP_IMPLICIT, "ca.pem", PASS, FROM, GOOD, 10,
		    SMTP_SENT, NULL, 1 },
		{ "STARTTLS delivery", S_STARTTLS, "localhost",
		    CONF_SMTP_STARTTLS, "ca.pem", PASS, FROM, GOOD, 10,
		    SMTP_SENT, NULL, 1 },
		{ "clear text on loopback", S_PLAIN, "127.0.0.1",
		    CONF_SMTP_PLAIN, NULL, NULL, FROM, GOOD, 10, SMTP_SENT,
		    NULL, 1 },
		{ "wrong password, implicit", S_IMPLICIT, "localhost",
		    CONF_SMTP_IMPLICIT, "ca.pem", BADPASS, FROM, GOOD, 10,
		    SMTP_CONFIG, "server reply 535 after AUTH", 0 },
		{ "wrong password, STARTTLS", S_STARTTLS, "localhost",
		    CONF_SMTP_STARTTLS, "ca.pem", BADPASS, FROM, GOOD, 10,
		    SMTP_CONFIG, "(code 67)", 0 },
		{ "no AUTH configured, server requires it", S_STARTTLS,
		    "localhost", CONF_SMTP_STARTTLS, "ca.pem", NULL, FROM, GOOD,
		    10, SMTP_CONFIG, "server reply 530 after MAIL", 0 },
		{ "certificate for another host, implicit", S_IMPLICIT,
		    "127.0.0.1", CONF_SMTP_IMPLICIT, "ca.pem", PASS, FROM, GOOD,
		    10, SMTP_CONFIG, "(code 60)", 0 },
		{ "certificate for another host, STARTTLS", S_STARTTLS,
		    "127.0.0.1", CONF_SMTP_STARTTLS, "ca.pem", PASS, FROM, GOOD,
		    10, SMTP_CONFIG, "(code 60)", 0 },
		{ "untrusted CA (ca_file pins another)", S_IMPLICIT,
		    "localhost", CONF_SMTP_IMPLICIT, "other-ca.pem", PASS, FROM,
		    GOOD, 10, SMTP_CONFIG, "(code 60)", 0 },
		{ "untrusted CA (system store)", S_STARTTLS, "localhost",
		    CONF_SMTP_STARTTLS, NULL, PASS, FROM, GOOD, 10, SMTP_CONFIG,
		    "(code 60)", 0 },
		{ "no STARTTLS offered", S_PLAIN, "localhost",
		    CONF_SMTP_STARTTLS, "ca.pem", PASS, FROM, GOOD, 10,
		    SMTP_CONFIG, "(code 64)", 0 },
		{ "smtps:// to a clear-text port", S_STARTTLS, "localhost",
		    CONF_SMTP_IMPLICIT, "ca.pem", PASS, FROM, GOOD, 10,
		    SMTP_DEFER, "(code 35)", 0 },
		{ "451 at MAIL", S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT,
		    "ca.pem", PASS, "mail451@example.com", GOOD, 10, SMTP_DEFER,
		    "server reply 451 after MAIL", 1 },
		{ "550 at MAIL", S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT,
		    "ca.pem", PASS, "mail550@example.com", GOOD, 10, SMTP_FAIL,
		    "server reply 550 after MAIL", 1 },
		{ "451 at RCPT", S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT,
		    "ca.pem", PASS, FROM, "rcpt451@example.com", 10, SMTP_DEFER,
		    "server reply 451 after RCPT", 1 },
		{ "550 at RCPT", S_STARTTLS, "localhost", CONF_SMTP_STARTTLS,
		    "ca.pem", PASS, FROM, "rcpt550@example.com", 10, SMTP_FAIL,
		    "server reply 550 after RCPT", 1 },
		{ "452 after DATA", S_IMPLICIT, "localhost",
		    CONF_SMTP_IMPLICIT, "ca.pem", PASS, FROM,
		    "data452@example.com", 10, SMTP_DEFER,
		    "server reply 452 after .", 1 },
		{ "554 after DATA", S_STARTTLS, "localhost",
		    CONF_SMTP_STARTTLS, "ca.pem", PASS, FROM,
		    "data554@example.com", 10, SMTP_FAIL,
		    "server reply 554 after .", 1 },
		{ "connection reset at RCPT", S_IMPLICIT, "localhost",
		    CONF_SMTP_IMPLICIT, "ca.pem", PASS, FROM,
		    "drop@example.com", 10, SMTP_DEFER, "(code", 1 },
		{ "no reply after the data (timeout)", S_STARTTLS, "localhost",
		    CONF_SMTP_STARTTLS, "ca.pem", PASS, FROM,
		    "stall@example.com", 2, SMTP_DEFER, "(code 28)", 1 },
		{ "server down", S_CLOSED, "127.0.0.1", CONF_SMTP_IMPLICIT,
		    "ca.pem", PASS, FROM, GOOD, 10, SMTP_DEFER, "(code 7)", 0 },
	};
	struct peer_conf	 pc;
	struct smtp		*s;
	struct buf		 got = BUF_INIT;
	struct timespec		 t0, t1;
	enum smtp_result	 r;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		peer_conf(&pc, t[i].srv, t[i].host, t[i].tls, t[i].ca,
		    t[i].password != NULL, t[i].timeout);
		s = NULL;
		T_INT(smtp_open(&pc.cfg, t[i].password, HELO, &s), 0,
		    t[i].what);
		if (s == NULL)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = send1(s, t[i].from, t[i].rcpt, err, sizeof(err));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%-40s %-8s %5ld ms  %s\n", t[i].what,
		    smtp_result_name(r), (long)((t1.tv_sec - t0.tv_sec) * 1000 +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000),
		    r == SMTP_SENT ? "" : err);
		T_STR(smtp_result_name(r), smtp_result_name(t[i].want),
		    t[i].what);
		if (t[i].errhas != NULL)
			T_OK(strstr(err, t[i].errhas) != NULL, "%s: expected "
			    "[%s] in [%s]", t[i].what, t[i].errhas, err);
		T_OK(strstr(err, PASS) == NULL && strstr(err, BADPASS) ==
		    NULL, "%s: password in [%s]", t[i].what, err);
		if (r == SMTP_SENT) {
			T_INT(peer_last(&got), 0, "peer received");
			T_STR(got.data, msg, "message byte for byte");
		}
		if (t[i].then_ok) {
			r = send1(s, FROM, GOOD, err, sizeof(err));
			T_STR(smtp_result_name(r), "sent", t[i].what);
			if (r != SMTP_SENT)
				fprintf(stderr, "  next send after [%s]: %s\n",
				    t[i].what, err);
		}
		smtp_close(s);
	}
	buf_free(&got);
}

/* Several messages: one connection, one TLS handshake, one AUTH. */
static void
test_reuse(enum server srv, enum conf_smtp_tls tls, const char *name)
{
	struct peer_conf	 pc;
	struct smtp		*s = NULL;
	char			 ev_conn[64], ev_auth[64], err[512];
	int			 c0, a0, i;

	snprintf(ev_conn, sizeof(ev_conn), "connect %s", name);
	snprintf(ev_auth, sizeof(ev_auth), "auth %s ok", name);
	c0 = peer_count(ev_conn);
	a0 = peer_count(ev_auth);
	peer_conf(&pc, srv, "localhost", tls, "ca.pem", 1, 10);
	T_INT(smtp_open(&pc.cfg, PASS, HELO, &s), 0, "open");
	if (s == NULL)
		return;
	for (i = 0; i < 5; i++)
		T_STR(smtp_result_name(send1(s, FROM, GOOD, err,
		    sizeof(err))), "sent", name);
	T_INT(peer_count(ev_conn) - c0, 1, "connections for 5 messages");
	T_INT(peer_count(ev_auth) - a0, 1, "AUTHs for 5 messages");

	/* After a refusal the next message goes over a new connection. */
	T_STR(smtp_result_name(send1(s, FROM, "rcpt550@example.com", err,
	    sizeof(err))), "failed", "550 at RCPT");
	T_STR(smtp_result_name(send1(s, FROM, GOOD, err, sizeof(err))),
	    "sent", "after 550");
	T_INT(peer_count(ev_conn) - c0, 2, "new connection after a failure");

	/* The server closes an idle connection: the next send still works. */
	T_STR(smtp_result_name(send1(s, FROM, "close@example.com", err,
	    sizeof(err))), "sent", "then closed by the server");
	usleep(600000);
	T_STR(smtp_result_name(send1(s, FROM, GOOD, err, sizeof(err))),
	    "sent", "after the server closed the connection");
	T_INT(peer_count(ev_conn) - c0, 3, "reconnected after server close");

	/* The same after an unasked 421 (Postfix at its idle timeout). */
	T_STR(smtp_result_name(send1(s, FROM, "idle421@example.com", err,
	    sizeof(err))), "sent", "then 421 and closed by the server");
	usleep(600000);
	T_STR(smtp_result_name(send1(s, FROM, GOOD, err, sizeof(err))),
	    "sent", "after the server's 421");
	T_INT(peer_count(ev_conn) - c0, 4, "reconnected after 421");
	T_INT(peer_count(ev_auth) - a0, 4, "one AUTH per connection");
	smtp_close(s);
}

static void
test_envelope(void)
{
	static const char *const bad[] = {
		"a@example.com>\r\nRSET",
		"a@example.com\r\n",
		"<a@example.com>",
		"a b@example.com",
		"a@example.com SIZE=1",
		"a@[127.0.0.1]",
		"",
	};
	struct peer_conf	 pc;
	struct smtp		*s = NULL;
	const char		*rcpt[101];
	char			 err[512];
	size_t			 i;
	int			 c0 = peer_count("connect implicit");

	peer_conf(&pc, S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT, "ca.pem",
	    1, 10);
	T_INT(smtp_open(&pc.cfg, PASS, HELO, &s), 0, "open");
	if (s == NULL)
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_STR(smtp_result_name(send1(s, bad[i], GOOD, err,
		    sizeof(err))), "failed", "bad sender");
		T_STR(smtp_result_name(send1(s, FROM, bad[i], err,
		    sizeof(err))), "failed", "bad recipient");
		T_OK(strstr(err, "address check") != NULL, "got [%s]", err);
	}
	T_STR(smtp_result_name(send1(s, NULL, GOOD, err, sizeof(err))),
	    "failed", "NULL sender");
	T_STR(smtp_result_name(smtp_send(s, FROM, rcpt, 0, msg,
	    sizeof(msg) - 1, err, sizeof(err))), "failed", "no recipient");
	for (i = 0; i < 101; i++)
		rcpt[i] = GOOD;
	T_STR(smtp_result_name(smtp_send(s, FROM, rcpt, 101, msg,
	    sizeof(msg) - 1, err, sizeof(err))), "failed", "101 recipients");
	T_INT(peer_count("connect implicit") - c0, 0,
	    "no connection for refused envelopes");

	/* One refused recipient fails the whole message. */
	rcpt[0] = GOOD;
	rcpt[1] = "rcpt550@example.com";
	T_STR(smtp_result_name(smtp_send(s, FROM, rcpt, 2, msg,
	    sizeof(msg) - 1, err, sizeof(err))), "failed", "one of two 550");
	rcpt[1] = GOOD;
	T_STR(smtp_result_name(smtp_send(s, FROM, rcpt, 2, msg,
	    sizeof(msg) - 1, err, sizeof(err))), "sent", "two recipients");
	smtp_close(s);
}

static void
test_open(void)
{
	struct peer_conf	 pc;
	struct smtp		*s;

	peer_conf(&pc, S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT, "ca.pem",
	    1, 10);
	s = (struct smtp *)&pc;
	T_INT(smtp_open(&pc.cfg, PASS, "bad helo", &s), -1, "bad EHLO name");
	T_OK(s == NULL, "*out not NULL on error");
	T_INT(smtp_open(&pc.cfg, PASS, "", &s), -1, "empty EHLO name");
	T_INT(smtp_open(&pc.cfg, PASS, "a..example.com", &s), -1,
	    "EHLO name with an empty label");
	T_INT(smtp_open(&pc.cfg, PASS, "x.example.com\r\nRSET", &s), -1,
	    "EHLO name with CRLF");
	T_INT(smtp_open(&pc.cfg, NULL, HELO, &s), -1, "user, no password");
	pc.cfg.tls = CONF_SMTP_STARTTLS;
	T_INT(smtp_open(&pc.cfg, PASS, HELO, &s), -1, "smtps url, STARTTLS");
	peer_conf(&pc, S_PLAIN, "mail.example.com", CONF_SMTP_PLAIN, NULL,
	    0, 10);
	T_INT(smtp_open(&pc.cfg, NULL, HELO, &s), -1, "clear text, remote");
	pc.cfg.insecure_plaintext = 0;
	pc.cfg.url = plain_url;
	T_INT(smtp_open(&pc.cfg, NULL, HELO, &s), -1,
	    "clear text without insecure_plaintext");
	smtp_close(NULL);

	T_STR(smtp_result_name(SMTP_SENT), "sent", "name");
	T_STR(smtp_result_name(SMTP_DEFER), "deferred", "name");
	T_STR(smtp_result_name(SMTP_FAIL), "failed", "name");
	T_STR(smtp_result_name(SMTP_CONFIG), "config", "name");
}

/* smtp_probe(): the phases the doctor reports, on smtp_open()'s options. */
static void
test_probe(void)
{
	struct peer_conf	 pc;
	struct smtp_probe	 p;
	char			 pin[128];

	peer_conf(&pc, S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT, "ca.pem",
	    1, 5);
	memset(&p, 0, sizeof(p));
	p.total = 15;
	T_INT(smtp_probe(&pc.cfg, PASS, HELO, &p), 0, "probe");
	T_INT(p.rc, 0, p.err);
	T_INT(p.greeting, 220, "greeting");
	T_OK(p.tls, "TLS seen");
	T_OK(strncmp(p.tlsver, "TLSv1.", 6) == 0, "TLS version [%s]",
	    p.tlsver);
	T_INT(p.auth, 235, "AUTH accepted");
	T_INT(p.noop / 100, 2, "NOOP answered");
	T_INT(p.forbidden, 0, "no MAIL, RCPT or DATA");
	T_STR(p.ip, "127.0.0.1", "the address connected to");

	/* The addresses of resolve are the ones used (a name no lookup
	 * knows), for the port it names only. */
	snprintf(pc.url, sizeof(pc.url), "smtps://relay.invalid:%d",
	    port_implicit);
	snprintf(pin, sizeof(pin), "relay.invalid:%d:127.0.0.1",
	    port_implicit);
	memset(&p, 0, sizeof(p));
	p.total = 15;
	p.resolve = pin;
	T_INT(smtp_probe(&pc.cfg, PASS, HELO, &p), 0, "probe, resolve");
	T_STR(p.ip, "127.0.0.1", "connected to the pinned address");
	T_INT(p.rc, 60, "and the name is verified: not the certificate's");
	p.resolve = "relay.invalid:1:127.0.0.1";
	T_INT(smtp_probe(&pc.cfg, PASS, HELO, &p), 0, "probe, other port");
	T_INT(p.rc, 6, "a port the entry does not name: not pinned");

	peer_conf(&pc, S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT, "ca.pem",
	    1, 5);
	memset(&p, 0, sizeof(p));
	p.total = 15;
	T_INT(smtp_probe(&pc.cfg, BADPASS, HELO, &p), 0, "probe, bad pass");
	T_INT(p.auth, 535, "AUTH refused");
	T_OK(strstr(p.auth_text, "535") != NULL, "[%s]", p.auth_text);

	memset(&p, 0, sizeof(p));
	p.total = 15;
	T_INT(smtp_probe(&pc.cfg, NULL, HELO, &p), 0, "probe, no password");
	T_INT(p.auth, 0, "no AUTH without a password");

	peer_conf(&pc, S_IMPLICIT, "localhost", CONF_SMTP_IMPLICIT,
	    "other-ca.pem", 1, 5);
	memset(&p, 0, sizeof(p));
	p.total = 15;
	T_INT(smtp_probe(&pc.cfg, PASS, HELO, &p), 0, "probe, other CA");
	T_INT(p.rc, 60, "CURLE_PEER_FAILED_VERIFICATION");
	T_INT(p.greeting, 0, "no greeting before TLS");
	T_INT(p.auth, 0, "no AUTH");

	peer_conf(&pc, S_PLAIN, "localhost", CONF_SMTP_STARTTLS, "ca.pem", 0,
	    5);
	memset(&p, 0, sizeof(p));
	p.total = 15;
	T_INT(smtp_probe(&pc.cfg, NULL, HELO, &p), 0, "probe, no STARTTLS");
	T_INT(p.rc, 64, "CURLE_USE_SSL_FAILED");
	T_INT(p.greeting, 220, "greeting in clear text");
	T_INT(p.tls, 0, "no TLS");

	peer_conf(&pc, S_CLOSED, "localhost", CONF_SMTP_IMPLICIT, "ca.pem", 1,
	    5);
	memset(&p, 0, sizeof(p));
	p.total = 15;
	T_INT(smtp_probe(&pc.cfg, PASS, HELO, &p), 0, "probe, closed");
	T_INT(p.rc, 7, "CURLE_COULDNT_CONNECT");
	T_OK(p.err[0] != '\0', "a reason");
	T_INT(p.greeting, 0, "no greeting");
}

int
main(void)
{
	char	 cmd[300];

	signal(SIGPIPE, SIG_IGN);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	peer_dir = dir;
	if (peer_start(USER, PASS) == -1) {
		peer_stop();
		T_OK(0, "could not start %s", PEER_SCRIPT);
		T_DONE();
	}
	test_open();
	test_cases();
	test_reuse(S_IMPLICIT, CONF_SMTP_IMPLICIT, "implicit");
	test_reuse(S_STARTTLS, CONF_SMTP_STARTTLS, "starttls");
	test_envelope();
	test_probe();
	peer_stop();
	snprintf(cmd, sizeof(cmd), "rm -rf -- %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	T_DONE();
}
