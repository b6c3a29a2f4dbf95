/*
 * doctor_smtp: the relay of `form2mail doctor`: smtp.url's host and
 * addresses, then a login without a message (connect, TLS with
 * verification, EHLO, AUTH, NOOP, QUIT); see doctor.h.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <unbound.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "deliver/smtp.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/log.h"

#define DOCTOR_SMTP_TIMEOUT	30	/* seconds, when the config has none */

/* Host, port and addresses of smtp.url (A and AAAA through d->ub). */
void
doctor_relay(struct doctor *d)
{
	static const int	 types[] = { ns_t_a, ns_t_aaaa };
	CURLU			*u;
	struct ub_result	*res;
	char			*host = NULL, *port = NULL, why[128];
	unsigned char		 bin[16];
	size_t			 n, t;
	int			 i;

	d->naddr = 0;
	if ((u = curl_url()) == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, d->cf->smtp.url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		doctor_say(d, D_FAIL, "fix smtp.url", "SMTP %s: cannot parse "
		    "the url", d->cf->smtp.url);
		goto out;
	}
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->port = strtol(port, NULL, 10);
	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1) {
		d->literal = 1;
		snprintf(d->addr[0], sizeof(d->addr[0]), "%s", host);
		d->naddr = 1;
		goto out;
	}
	for (t = 0; t < 2; t++) {
		if (doctor_query(d, host, types[t], &res, why, sizeof(why)) !=
		    DNS_OK)
			continue;
		for (i = 0; res->data[i] != NULL &&
		    d->naddr < DOCTOR_MAX_ADDR; i++)
			if (res->len[i] == (t ? 16 : 4) && inet_ntop(t ?
			    AF_INET6 : AF_INET, res->data[i],
			    d->addr[d->naddr], INET6_ADDRSTRLEN) != NULL)
				d->naddr++;
		ub_resolve_free(res);
	}
	if (d->naddr == 0)
		doctor_say(d, D_FAIL, "check the host name in smtp.url",
		    "SMTP %s: no address (A or AAAA) for the relay", host);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

static int
doctor_tls_error(int rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/* "host:port:addr,[addr6]": the connection goes to the addresses checked
 * above (CURLOPT_RESOLVE), not to a second lookup.  0, or -1 on ENOMEM. */
static int
doctor_smtp_pin(const struct doctor *d, struct buf *b)
{
	size_t	 i;

	if (buf_printf(b, "%s:%ld:", d->host, d->port) == -1)
		return -1;
	for (i = 0; i < d->naddr; i++)
		if (buf_printf(b, strchr(d->addr[i], ':') ? "%s[%s]" : "%s%s",
		    i ? "," : "", d->addr[i]) == -1)
			return -1;
	return 0;
}

/* The connect phase: 0 when it went on to TLS, -1 (reported). */
static int
doctor_smtp_connect(struct doctor *d, const struct smtp_probe *p)
{
	const char	*ip = p->ip[0] ? p->ip : "?";

	if (p->greeting == 0 && !p->tls) {
		doctor_say(d, D_FAIL, "check smtp.url (host and port) and that "
		    "this host may reach the relay", "SMTP connect %s:%ld: %s",
		    d->host, d->port, p->err);
		return -1;
	}
	if (p->greeting != 0 && p->greeting != 220) {
		doctor_say(d, D_FAIL, "ask the provider; the relay turns this "
		    "host away", "SMTP connect %s:%ld (%s): greeting \"%s\"",
		    d->host, d->port, ip, p->greet_text);
		return -1;
	}
	if (p->greeting != 0)
		doctor_say(d, D_OK, NULL, "SMTP connect %s:%ld (%s): greeting "
		    "%d", d->host, d->port, ip, p->greeting);
	else
		doctor_say(d, D_OK, NULL, "SMTP connect %s:%ld (%s): connected",
		    d->host, d->port, ip);
	return 0;
}

/* The TLS phase: 0 when AUTH may follow, -1 (reported). */
static int
doctor_smtp_tls(struct doctor *d, const struct smtp_probe *p)
{
	const struct conf_smtp	*c = &d->cf->smtp;
	const char		*mode;
	int			 tls_ok;

	mode = c->tls == CONF_SMTP_IMPLICIT ? "implicit TLS" :
	    c->tls == CONF_SMTP_STARTTLS ? "STARTTLS" : "clear text";
	tls_ok = !doctor_tls_error(p->rc) && (p->greeting != 0 ||
	    p->rc == CURLE_OK);
	if (c->tls == CONF_SMTP_PLAIN)
		doctor_say(d, D_WARN, NULL, "SMTP TLS %s: clear text "
		    "(insecure_plaintext, loopback only)", d->host);
	else if (!tls_ok) {
		doctor_say(d, D_FAIL, p->rc == CURLE_USE_SSL_FAILED ? "the "
		    "relay offers no STARTTLS here: use smtps://HOST:465 or "
		    "the provider's submission port" : "the certificate must be "
		    "valid for the host in smtp.url; set smtp.ca_file to the "
		    "CA that issued it, or leave it unset for the system "
		    "store", "SMTP TLS %s (%s): %s", d->host, mode, p->err);
		return -1;
	} else if (!p->tls) {
		doctor_say(d, D_FAIL, "use smtps:// or STARTTLS", "SMTP TLS %s "
		    "(%s): no TLS seen", d->host, mode);
		return -1;
	} else
		doctor_say(d, D_OK, NULL, "SMTP TLS %s: %s%s%s%s, certificate "
		    "verified%s", d->host, mode, p->tlsver[0] ? " (" : "",
		    p->tlsver, p->tlsver[0] ? ")" : "", c->ca_file ?
		    " against smtp.ca_file" : "");
	return 0;
}

/* The AUTH phase: 0 when NOOP is judged next, -1 (reported). */
static int
doctor_smtp_auth(struct doctor *d, const struct smtp_probe *p)
{
	const struct conf_smtp	*c = &d->cf->smtp;

	if (c->username == NULL)
		doctor_say(d, D_SKIP, NULL, "SMTP AUTH: no smtp.username in the "
		    "config");
	else if (d->password == NULL)
		doctor_say(d, D_FAIL, "run doctor as root (the file stays "
		    "0600)", "SMTP AUTH %s: cannot read the password: %s",
		    c->username, d->pw_err);
	else if (p->auth == 235 && p->rc != CURLE_LOGIN_DENIED &&
	    p->rc != CURLE_AUTH_ERROR)
		doctor_say(d, D_OK, NULL, "SMTP AUTH %s: accepted (%s)",
		    c->username, p->auth_text);
	else if (p->auth == 0 && p->rc == CURLE_OK) {
		doctor_say(d, D_FAIL, "use the provider's submission port, "
		    "where AUTH is offered after TLS", "SMTP AUTH %s: the relay "
		    "offers no AUTH here (none after EHLO)", c->username);
		return -1;
	} else {
		doctor_say(d, D_FAIL, "check smtp.username and the password in "
		    "smtp.password_file", "SMTP AUTH %s: refused (%s)",
		    c->username, p->auth ? p->auth_text : p->err);
		return -1;
	}
	return 0;
}

static void
doctor_smtp_forbidden(struct doctor *d, const struct smtp_probe *p)
{
	if (p->forbidden)
		doctor_say(d, D_FAIL, "report this as a bug", "SMTP: a MAIL, "
		    "RCPT or DATA command went out");
}

/*
 * The login of deliver/smtp.c's smtp_probe() (the deliverer's own options:
 * connect, TLS with verification, EHLO, AUTH, NOOP, QUIT, never MAIL) to
 * the addresses checked above, reported phase by phase.
 */
void
doctor_smtp(struct doctor *d)
{
	const struct conf_smtp	*c = &d->cf->smtp;
	struct smtp_probe	 p;
	struct buf		 pin = BUF_INIT;
	long			 t = c->timeout > 0 ? c->timeout :
				    DOCTOR_SMTP_TIMEOUT;

	if (d->naddr == 0) {
		doctor_say(d, D_SKIP, NULL, "SMTP %s: not tried (no address)",
		    d->host);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.total = t * 3;
	if (!d->literal && doctor_smtp_pin(d, &pin) == -1)
		goto nomem;
	p.resolve = pin.data;
	if (smtp_probe(c, d->password, d->cf->hostname, &p) == -1)
		goto nomem;
	if (doctor_smtp_connect(d, &p) == -1)
		doctor_say(d, D_SKIP, NULL, "SMTP TLS and AUTH: not tried");
	else if (doctor_smtp_tls(d, &p) == -1)
		doctor_say(d, D_SKIP, NULL, "SMTP AUTH: not tried (no verified "
		    "TLS)");
	else if (doctor_smtp_auth(d, &p) == -1)
		doctor_smtp_forbidden(d, &p);
	else if (p.forbidden)
		doctor_smtp_forbidden(d, &p);
	else if (p.rc == CURLE_OK && p.noop / 100 == 2)
		doctor_say(d, D_OK, NULL, "SMTP no mail sent: NOOP answered "
		    "%d, then QUIT", p.noop);
	else
		doctor_say(d, D_FAIL, "see the relay's reply", "SMTP NOOP: %s",
		    p.err);
	goto out;
nomem:
	doctor_say(d, D_FAIL, "retry", "SMTP: cannot set up libcurl");
out:
	buf_free(&pin);
}
