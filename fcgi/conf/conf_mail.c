/*
 * conf_mail: "sender", "smtp" and "dkim" of the config, From's alignment
 * with the DKIM domains, and the deliverability warnings (what a
 * receiving rspamd would score).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/spf.h"
#include "lib/url.h"

static const char *const conf_sender_keys[] = {
	"from", "envelope_from", "hostname", "message_id_domain",
	"same_domain_from", "spf", NULL
};

static const char *const conf_smtp_keys[] = {
	"url", "username", "password_file", "ca_file", "max_per_hour",
	"pacing_period", "timeout", "insecure_plaintext", "connections", NULL
};

static const char *const conf_dkim_keys[] = {
	"domain", "selector", "algorithm", "key_file", NULL
};

void
conf_sender(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*o = conf_obj(c, "", root, "sender", 1);
	char		*s, *disp = NULL, esc[512];

	if (o == NULL)
		return;
	conf_known(c, "/sender", o, conf_sender_keys);
	if ((s = conf_str(c, "/sender", o, "from", NULL, 1)) != NULL) {
		conf_mailbox(c, "/sender/from", s, &cf->from);
		free(s);
	}
	if ((s = conf_str(c, "/sender", o, "envelope_from", NULL, 0)) != NULL) {
		if (addr_mailbox_parse(s, &disp, &cf->envelope_from) == -1 ||
		    disp[0] != '\0')
			conf_err(c, "/sender/envelope_from", 0, "\"%s\" is not "
			    "a bare address (local@domain)",
			    log_escape(esc, sizeof(esc), s, strlen(s)));
		free(disp);
		free(s);
	} else if (cf->from.addr != NULL)
		cf->envelope_from = strdup(cf->from.addr);
	cf->hostname = conf_str(c, "/sender", o, "hostname", NULL, 1);
	if (cf->hostname != NULL && (!addr_ldh_ok(cf->hostname,
	    strlen(cf->hostname), ADDR_MAX_DOMAIN) ||
	    strchr(cf->hostname, '.') == NULL))
		conf_err(c, "/sender/hostname", 0, "\"hostname\" must be a "
		    "fully qualified host name");
	cf->message_id_domain = conf_str(c, "/sender", o, "message_id_domain",
	    NULL, 0);
	if (cf->message_id_domain != NULL &&
	    (!addr_ldh_ok(cf->message_id_domain,
	    strlen(cf->message_id_domain), ADDR_MAX_DOMAIN) ||
	    strchr(cf->message_id_domain, '.') == NULL))
		conf_err(c, "/sender/message_id_domain", 0, "\"message_id_domain"
		    "\" must be a fully qualified domain name");
	else if (cf->message_id_domain == NULL && cf->from.addr != NULL &&
	    (cf->message_id_domain = strdup(addr_domain(cf->from.addr))) ==
	    NULL)
		conf_err(c, "/sender", 0, "out of memory");
	cf->from_recipient = 1;
	if ((s = conf_str(c, "/sender", o, "same_domain_from", NULL, 0)) !=
	    NULL) {
		if (strcmp(s, "recipient") == 0)
			cf->from_recipient = 1;
		else if (strcmp(s, "sender") == 0)
			cf->from_recipient = 0;
		else
			conf_err(c, "/sender/same_domain_from", 0,
			    "\"same_domain_from\" must be \"recipient\" or "
			    "\"sender\"");
		free(s);
	}
	cf->sender_spf = conf_str(c, "/sender", o, "spf", NULL, 0);
	if (cf->sender_spf != NULL && spf_terms_check(cf->sender_spf, esc,
	    sizeof(esc)) == -1)
		conf_err(c, "/sender/spf", 0, "\"spf\": %s", esc);
}

/* Accepts "smtps://host[:port]" and "smtp://host[:port]" only. */
void
conf_smtp(struct conf_ctx *c, json_t *root)
{
	struct conf_smtp	*sm = &c->conf->smtp;
	json_t			*o = conf_obj(c, "", root, "smtp", 1);
	const char		*h;
	char			 host[256];
	size_t			 n;
	int			 loopback;

	if (o == NULL)
		return;
	conf_known(c, "/smtp", o, conf_smtp_keys);
	sm->url = conf_str(c, "/smtp", o, "url", NULL, 1);
	sm->username = conf_str(c, "/smtp", o, "username", NULL, 0);
	sm->password_file = conf_str(c, "/smtp", o, "password_file", NULL, 0);
	sm->ca_file = conf_str(c, "/smtp", o, "ca_file", NULL, 0);
	sm->max_per_hour = (long)conf_int(c, "/smtp", o, "max_per_hour", 0,
	    0, 1000000);
	sm->pacing_period = conf_dur(c, "/smtp", o, "pacing_period", 3600);
	sm->timeout = (long)conf_int(c, "/smtp", o, "timeout", 30, 1, 600);
	sm->connections = (int)conf_int(c, "/smtp", o, "connections", 2, 1,
	    CONF_MAX_SMTP_CONNECTIONS);
	sm->insecure_plaintext = conf_bool(c, "/smtp", o,
	    "insecure_plaintext", 0);
	if (sm->username != NULL && sm->password_file == NULL)
		conf_err(c, "/smtp", 0, "\"username\" needs \"password_file\"");
	conf_check_secret(c, "/smtp/password_file", sm->password_file);
	if (sm->ca_file != NULL && access(sm->ca_file, R_OK) == -1)
		conf_err(c, "/smtp/ca_file", 0, "%s: %s", sm->ca_file,
		    strerror(errno));
	if (sm->url == NULL)
		return;
	if (strncmp(sm->url, "smtps://", 8) == 0) {
		sm->tls = CONF_SMTP_IMPLICIT;
		h = sm->url + 8;
	} else if (strncmp(sm->url, "smtp://", 7) == 0) {
		sm->tls = CONF_SMTP_STARTTLS;
		h = sm->url + 7;
	} else {
		conf_err(c, "/smtp/url", 0, "\"url\" must start with smtps:// "
		    "(port 465) or smtp:// (port 587, STARTTLS)");
		return;
	}
	if (h[0] == '[') {
		n = strcspn(h, "]");
		if (h[n] == ']')
			n++;
	} else
		n = strcspn(h, ":/");
	if (n == 0 || n >= sizeof(host) || !url_chars_ok(h) ||
	    strpbrk(h, "/?#@") != NULL) {
		conf_err(c, "/smtp/url", 0, "\"url\" must be scheme://host[:port]"
		    " with nothing after the port");
		return;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (h[n] == ':' && (strspn(h + n + 1, "0123456789") !=
	    strlen(h + n + 1) || h[n + 1] == '\0' || atoi(h + n + 1) > 65535))
		conf_err(c, "/smtp/url", 0, "bad port in \"url\"");
	loopback = addr_is_loopback(host, strlen(host), 1);
	if (sm->insecure_plaintext) {
		if (sm->tls != CONF_SMTP_STARTTLS || !loopback)
			conf_err(c, "/smtp/insecure_plaintext", 0,
			    "\"insecure_plaintext\" is allowed only with an "
			    "smtp:// url on a loopback host");
		else
			sm->tls = CONF_SMTP_PLAIN;
	}
}

void
conf_dkim(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*a = json_object_get(root, "dkim"), *o;
	char		 p[CONF_MAX_PATH];
	char		*alg;
	size_t		 i, n;

	if (a == NULL) {
		conf_err(c, "", 0, "missing \"dkim\": every message is signed; "
		    "see form2mail keygen");
		return;
	}
	if (!json_is_array(a) || (n = json_array_size(a)) == 0 || n > 8) {
		conf_err(c, "/dkim", 0, "\"dkim\" must be an array of 1 to 8 "
		    "keys");
		return;
	}
	if ((cf->dkim = calloc(n, sizeof(*cf->dkim))) == NULL)
		return;
	json_array_foreach(a, i, o) {
		struct conf_dkim *d = &cf->dkim[cf->ndkim];

		conf_path(p, "/dkim/%zu", i);
		if (!json_is_object(o)) {
			conf_err(c, p, 0, "must be an object");
			continue;
		}
		cf->ndkim++;
		conf_known(c, p, o, conf_dkim_keys);
		d->domain = conf_str(c, p, o, "domain", NULL, 1);
		d->selector = conf_str(c, p, o, "selector", NULL, 1);
		d->key_file = conf_str(c, p, o, "key_file", NULL, 1);
		alg = conf_str(c, p, o, "algorithm", "rsa-sha256", 0);
		if (d->domain != NULL && (!addr_ldh_ok(d->domain,
		    strlen(d->domain), ADDR_MAX_DOMAIN) ||
		    strchr(d->domain, '.') == NULL))
			conf_err(c, p, 0, "\"domain\" must be a domain name");
		if (d->selector != NULL && !addr_ldh_ok(d->selector,
		    strlen(d->selector), ADDR_MAX_DOMAIN))
			conf_err(c, p, 0, "\"selector\" must be letters, "
			    "digits, '-' and '.'");
		if (alg != NULL && strcmp(alg, "ed25519-sha256") == 0)
			d->alg = CONF_DKIM_ED25519_SHA256;
		else if (alg != NULL && strcmp(alg, "rsa-sha256") != 0) {
			char q[CONF_MAX_PATH];
			conf_path(q, "%s/algorithm", p);
			conf_err(c, q, 0, "\"algorithm\" must be \"rsa-sha256\" "
			    "or \"ed25519-sha256\"");
		}
		free(alg);
		conf_path(p, "/dkim/%zu/key_file", i);
		conf_check_secret(c, p, d->key_file);
	}
}

int
conf_same_domain(const char *a, const char *b)
{
	const char	*x, *y;

	return (x = addr_domain(a)) != NULL && (y = addr_domain(b)) != NULL &&
	    strcasecmp(x, y) == 0;
}

int
conf_related_domain(const char *a, const char *b)
{
	return addr_domain_below(a, b) || addr_domain_below(b, a);
}

/* DMARC alignment (RFC 7489 section 3.1.1, relaxed): From's domain is a
 * signing domain or below one. */
void
conf_alignment(struct conf_ctx *c)
{
	struct conf	*cf = c->conf;
	const char	*fd;
	size_t		 i;

	if (cf->from.addr == NULL || cf->ndkim == 0)
		return;
	fd = addr_domain(cf->from.addr);
	for (i = 0; i < cf->ndkim; i++)
		if (addr_domain_below(fd, cf->dkim[i].domain))
			return;
	conf_err(c, "/sender/from", 0, "From domain \"%s\" is not a DKIM "
	    "signing domain (nor below one): DMARC would fail", fd);
}

/*
 * Header choices a receiving rspamd scores (docs/DESIGN.md "Deliverability"),
 * named with the fix; warnings only, the mail still goes.  Measured with
 * rspamd 3.4 (tests/integration/test_inbox.py): SPOOF_REPLYTO +6.0
 * (rules/misc.lua: Reply-To on another domain than From while an SMTP
 * recipient has From's domain exactly, unless From is the first To),
 * MID_RHS_WWW +0.5.  With sender.same_domain_from "recipient" (the
 * default) a notification whose first To is on From's domain goes out
 * From that address, which rspamd exempts; a recipient on From's domain
 * behind a first To elsewhere is still caught.
 */
static void
conf_rcpt_warn(struct conf_ctx *c, const char *path, const char *key,
    const struct conf_mailbox *to, size_t n, const struct conf_mailbox *first)
{
	const struct conf	*cf = c->conf;
	const char		*fd;
	char			 p[CONF_MAX_PATH];
	size_t			 i;

	fd = addr_domain(cf->from.addr);
	if (first != NULL && strcasecmp(first->addr, cf->from.addr) == 0)
		return;
	if (cf->from_recipient && first != NULL &&
	    conf_same_domain(first->addr, cf->from.addr))
		return;
	for (i = 0; i < n; i++) {
		if (!conf_same_domain(to[i].addr, cf->from.addr))
			continue;
		conf_path(p, "%s/%s/%zu", path, key, i);
		if (cf->from_recipient)
			conf_warn(c, p, "recipient %s shares sender.from's "
			    "domain %s exactly but the first recipient does "
			    "not: with the visitor in Reply-To, a receiving "
			    "rspamd adds SPOOF_REPLYTO (+6.0); list a recipient "
			    "on %s first, or put sender.from on a sub-domain "
			    "(e.g. forms@notify.%s)", to[i].addr, fd, fd, fd);
		else
			conf_warn(c, p, "recipient %s shares sender.from's "
			    "domain %s exactly: with the visitor in Reply-To, "
			    "a receiving rspamd adds SPOOF_REPLYTO (+6.0); "
			    "remove sender.same_domain_from (the default "
			    "\"recipient\" sends such mail From the first "
			    "recipient) or put sender.from on a sub-domain "
			    "(e.g. forms@notify.%s)", to[i].addr, fd, fd);
		return;
	}
}

void
conf_deliverability(struct conf_ctx *c)
{
	const struct conf	*cf = c->conf;
	const struct conf_form	*f;
	const char		*fd, *ed;
	char			 p[CONF_MAX_PATH], q[CONF_MAX_PATH];
	size_t			 i, j;

	if (cf->from.addr == NULL)
		return;
	fd = addr_domain(cf->from.addr);
	if (cf->message_id_domain != NULL &&
	    strncasecmp(cf->message_id_domain, "www.", 4) == 0)
		conf_warn(c, "/sender/message_id_domain", "Message-ID "
		    "<id@%s> is on a www. host: a receiving rspamd adds "
		    "MID_RHS_WWW (+0.5); use the From domain (%s, the "
		    "default: remove the key)", cf->message_id_domain, fd);
	if (cf->envelope_from != NULL &&
	    (ed = addr_domain(cf->envelope_from)) != NULL &&
	    !conf_related_domain(ed, fd))
		conf_warn(c, "/sender/envelope_from", "envelope sender %s is "
		    "not on From's domain %s: SPF then does not align for "
		    "DMARC, and a receiving rspamd adds FORGED_SENDER (+0.3); "
		    "use an address on %s (the default, %s: remove the key)",
		    cf->envelope_from, fd, fd, cf->from.addr);
	for (i = 0; i < cf->nforms; i++) {
		f = &cf->forms[i];
		if (f->id == NULL)
			continue;
		conf_path(p, "/forms/%s", f->id);
		conf_rcpt_warn(c, p, "recipients", f->to, f->nto,
		    f->nto > 0 ? &f->to[0] : NULL);
		conf_rcpt_warn(c, p, "cc", f->cc, f->ncc,
		    f->nto > 0 ? &f->to[0] : NULL);
		conf_rcpt_warn(c, p, "bcc", f->bcc, f->nbcc,
		    f->nto > 0 ? &f->to[0] : NULL);
		for (j = 0; j < f->nchoices; j++) {
			if (f->choices[j].value == NULL)
				continue;
			conf_path(q, "%s/route/choices", p);
			conf_rcpt_warn(c, q, f->choices[j].value,
			    f->choices[j].to, f->choices[j].nto,
			    f->choices[j].nto > 0 ? &f->choices[j].to[0] : NULL);
		}
	}
}

void
conf_mail_free(struct conf *cf)
{
	size_t	 i;

	for (i = 0; i < cf->ndkim; i++) {
		free(cf->dkim[i].domain);
		free(cf->dkim[i].selector);
		free(cf->dkim[i].key_file);
	}
	free(cf->dkim);
	free(cf->smtp.url);
	free(cf->smtp.username);
	free(cf->smtp.password_file);
	free(cf->smtp.ca_file);
	free(cf->from.display);
	free(cf->from.addr);
	free(cf->envelope_from);
	free(cf->hostname);
	free(cf->message_id_domain);
	free(cf->sender_spf);
}
