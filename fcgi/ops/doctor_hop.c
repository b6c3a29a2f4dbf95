/*
 * doctor_hop: the parts of `form2mail doctor` past the site's own records
 * (issue 14 parts 2 and 6); see doctor.h.
 *
 * The traps: config choices that make rspamd score every notification
 * up (rules/misc.lua SPOOF_REPLYTO, regexp/compromised_hosts.lua
 * MID_RHS_WWW, plugins/forged_recipients.lua FORGED_SENDER).
 *
 * The next hop: form2mail secures the first hop only (to smtp.url).  From
 * the relay on, whether a recipient domain's MX is reached over verified
 * TLS is up to that domain: MTA-STS (RFC 8461), DANE (RFC 7672), and
 * whether it hears of failures, TLS-RPT (RFC 8460).  Every lookup that
 * does not answer leaves "unknown", which is reported, never counted as
 * protected; DANE counts only answers libunbound validated itself from a
 * trust anchor (doctor_vub()).
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <unbound.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/log.h"
#include "ops/sts.h"

#define HOP_DOMAINS	16	/* recipient domains looked at */
#define HOP_MX		8	/* MX hosts of one domain looked at */
#define HOP_ADDR	4	/* addresses of mta-sts.<domain> */
#define HOP_TIMEOUT	15L	/* seconds for the policy fetch */
#define HOP_WHY		200

/* ---- the traps ----------------------------------------------------- */

/* One set of SMTP recipients of a form (a choice of its route, or its
 * recipients), with the form's cc and bcc. */
struct hop_rcpts {
	const struct conf_mailbox	*to;
	size_t				 nto;
	const struct conf_form		*f;
};

static int
hop_same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/*
 * SPOOF_REPLYTO fires when Reply-To is on another domain than From, an
 * SMTP recipient is on From's exact domain, From is not the first To,
 * and the mail is not for From alone.  Every form may carry the
 * visitor's address in Reply-To (a reply_to field, or _replyto, replyto,
 * email).  Returns the address on From's domain, or NULL.
 */
static const char *
hop_spoof_replyto(const struct conf *cf, const struct hop_rcpts *r)
{
	const char	*fromdom = doctor_domain_of(cf->from.addr);
	const char	*hit = NULL;
	size_t		 i, n = r->nto + r->f->ncc + r->f->nbcc;

	if (r->nto > 0 && hop_same(r->to[0].addr, cf->from.addr))
		return NULL;
	/* sender.same_domain_from "recipient": such mail goes out From its
	 * first To (request.c), which rspamd exempts. */
	if (cf->from_recipient && r->nto > 0 &&
	    conf_same_domain(r->to[0].addr, cf->from.addr))
		return NULL;
	if (n == 1 && r->nto == 1 && hop_same(r->to[0].addr, cf->from.addr))
		return NULL;
	for (i = 0; i < r->nto && hit == NULL; i++)
		if (hop_same(doctor_domain_of(r->to[i].addr), fromdom))
			hit = r->to[i].addr;
	for (i = 0; i < r->f->ncc && hit == NULL; i++)
		if (hop_same(doctor_domain_of(r->f->cc[i].addr), fromdom))
			hit = r->f->cc[i].addr;
	for (i = 0; i < r->f->nbcc && hit == NULL; i++)
		if (hop_same(doctor_domain_of(r->f->bcc[i].addr), fromdom))
			hit = r->f->bcc[i].addr;
	return hit;
}

void
doctor_traps(struct doctor *d)
{
	const struct conf	*cf = d->cf;
	const struct conf_form	*f;
	struct hop_rcpts	 r;
	struct buf		 fix = BUF_INIT;
	const char		*hit, *mid, *what, *ed;
	size_t			 i, j, nhit = 0;

	for (i = 0; i < cf->nforms; i++) {
		f = &cf->forms[i];
		hit = NULL;
		what = "";
		r.f = f;
		if (f->route_field != NULL) {
			for (j = 0; j < f->nchoices && hit == NULL; j++) {
				r.to = f->choices[j].to;
				r.nto = f->choices[j].nto;
				hit = hop_spoof_replyto(cf, &r);
				what = f->choices[j].value;
			}
		} else {
			r.to = f->to;
			r.nto = f->nto;
			hit = hop_spoof_replyto(cf, &r);
		}
		if (hit == NULL)
			continue;
		nhit++;
		buf_reset(&fix);
		if (buf_printf(&fix, "%s; or send from a sub-domain: "
		    "sender.from forms@notify.%s (DKIM for %s still aligns)",
		    cf->from_recipient ? "list a recipient on From's domain "
		    "first (it then becomes From)" : "remove "
		    "sender.same_domain_from (the default \"recipient\" sends "
		    "such mail From its first recipient)", d->fromdom,
		    d->fromdom) == -1)
			buf_reset(&fix);
		doctor_say(d, D_WARN, fix.data ? fix.data : "send from a "
		    "sub-domain of the recipients' domain", "rspamd "
		    "SPOOF_REPLYTO (+6): form \"%s\"%s%s%s mails %s, on From's "
		    "domain %s, while Reply-To carries the visitor's address",
		    f->id, *what ? " (choice \"" : "", what, *what ? "\")" : "",
		    hit, d->fromdom);
	}
	if (nhit == 0 && cf->nforms > 0)
		doctor_say(d, D_OK, NULL, "rspamd SPOOF_REPLYTO: no form mails "
		    "From's exact domain %s with a visitor's Reply-To",
		    d->fromdom);

	mid = cf->message_id_domain;
	if (mid != NULL && strncasecmp(mid, "www.", 4) == 0) {
		buf_reset(&fix);
		if (buf_printf(&fix, "remove sender.message_id_domain (it "
		    "defaults to From's domain %s)", d->fromdom) == -1)
			buf_reset(&fix);
		doctor_say(d, D_WARN, fix.data ? fix.data : "drop www. from the "
		    "Message-ID domain", "rspamd MID_RHS_WWW (+0.5): "
		    "Message-ID <...@%s> starts with www.", mid);
	} else if (mid != NULL)
		doctor_say(d, D_OK, NULL, "rspamd MID_RHS_WWW: Message-ID "
		    "<...@%s> is not on a www. host", mid);

	ed = doctor_domain_of(cf->envelope_from);
	if (ed != NULL && d->fromdom != NULL &&
	    !conf_related_domain(ed, d->fromdom)) {
		buf_reset(&fix);
		if (buf_printf(&fix, "use an envelope sender on %s (unset, it "
		    "is %s)", d->fromdom, cf->from.addr) == -1)
			buf_reset(&fix);
		doctor_say(d, D_WARN, fix.data ? fix.data : "put "
		    "sender.envelope_from on From's domain", "SPF alignment: "
		    "envelope MAIL FROM %s is not on From's domain %s: DMARC "
		    "rests on DKIM alone, and rspamd adds FORGED_SENDER (+0.3)",
		    cf->envelope_from, d->fromdom);
	} else if (ed != NULL)
		doctor_say(d, D_OK, NULL, "SPF alignment: envelope MAIL FROM "
		    "%s is on From's domain %s", cf->envelope_from,
		    d->fromdom);
	buf_free(&fix);
}

/* ---- the next hop: one recipient domain --------------------------- */

enum hop_v { HOP_UNKNOWN, HOP_NO, HOP_YES };

struct hop {
	struct doctor	*d;
	const char	*dom;
	char		 mx[HOP_MX][DOCTOR_NAME_MAX + 1];
	size_t		 nmx;
	int		 mx_known;	/* the MX lookup answered */
	int		 mx_implicit;	/* no MX: the domain itself (RFC 5321
					   5.1) */
	char		 mx_why[HOP_WHY];
	enum hop_v	 sts;		/* MTA-STS enforced for every MX */
	enum hop_v	 dane;		/* usable DNSSEC TLSA for every MX */
};

/* MX (through ub), sorted as found; an empty list and mx_implicit when
 * the domain has none. */
static enum doctor_dns
hop_mx(struct hop *h, struct ub_ctx *ub, char mx[][DOCTOR_NAME_MAX + 1],
    size_t *nmx, int *secure, char *why, size_t whysize)
{
	struct ub_result	*res;
	enum doctor_dns		 r;
	size_t			 plen;
	int			 i;

	*nmx = 0;
	r = doctor_query_ub(h->d, ub, h->dom, ns_t_mx, &res, secure, why,
	    whysize);
	if (r != DNS_OK)
		return r;
	for (i = 0; res->data[i] != NULL && *nmx < HOP_MX; i++) {
		plen = res->len[i] < 0 ? 0 : (size_t)res->len[i];
		if (plen <= 2 || doctor_name_text((unsigned char *)
		    res->data[i] + 2, plen - 2, mx[*nmx],
		    DOCTOR_NAME_MAX + 1) == -1)
			continue;	/* a null MX (RFC 7505) or a bad name */
		(*nmx)++;
	}
	ub_resolve_free(res);
	return r;
}

struct hop_body {
	struct buf	 b;
	int		 over;
};

static size_t
hop_body_cb(char *p, size_t size, size_t n, void *arg)
{
	struct hop_body	*hb = arg;

	if (hb->b.len + size * n > STS_POLICY_MAX) {
		hb->over = 1;
		return 0;
	}
	if (buf_add(&hb->b, p, size * n) == -1)
		return 0;
	return size * n;
}

/*
 * GET https://mta-sts.<dom>/.well-known/mta-sts.txt (RFC 8461 3.3): the
 * addresses come from d->ub (CURLOPT_RESOLVE), the certificate must be
 * valid for that name, no redirect is followed, only 200 with
 * text/plain counts, at most STS_POLICY_MAX octets.  Returns 0 with
 * body set, or -1 with why.
 */
static int
hop_fetch(struct hop *h, struct buf *body, char *url, size_t urlsize,
    char *why, size_t whysize)
{
	struct doctor		*d = h->d;
	static const int	 types[] = { ns_t_a, ns_t_aaaa };
	struct ub_result	*res;
	struct curl_slist	*pin = NULL;
	struct curl_blob	 ca;
	struct hop_body		 hb = { BUF_INIT, 0 };
	struct buf		 r = BUF_INIT;
	char			 host[DOCTOR_NAME_MAX + 16], a[INET6_ADDRSTRLEN];
	char			 w[HOP_WHY], errbuf[CURL_ERROR_SIZE];
	char			 esc[CURL_ERROR_SIZE * 4];
	char			*ct = NULL;
	long			 port = d->opts->sts_port ? d->opts->sts_port :
				    443, code = 0;
	size_t			 t, naddr = 0;
	int			 i, bad = 0, failed = 0, rc = -1;
	CURLcode		 cr;
	CURL			*c = NULL;

	snprintf(host, sizeof(host), "mta-sts.%s", h->dom);
	if (port == 443)
		snprintf(url, urlsize, "https://%s/.well-known/mta-sts.txt",
		    host);
	else
		snprintf(url, urlsize, "https://%s:%ld/.well-known/"
		    "mta-sts.txt", host, port);
	if (buf_printf(&r, "%s:%ld:", host, port) == -1)
		goto nomem;
	for (t = 0; t < 2; t++) {
		enum doctor_dns q = doctor_query_ub(d, d->ub, host, types[t],
		    &res, NULL, w, sizeof(w));

		if (q == DNS_FAIL) {
			failed = 1;
			continue;
		}
		if (q != DNS_OK)
			continue;
		for (i = 0; res->data[i] != NULL && naddr < HOP_ADDR; i++)
			if (res->len[i] == (t ? 16 : 4) && inet_ntop(t ?
			    AF_INET6 : AF_INET, res->data[i], a, sizeof(a)) !=
			    NULL && buf_printf(&r, t ? "%s[%s]" : "%s%s",
			    naddr ? "," : "", a) != -1)
				naddr++;
		ub_resolve_free(res);
	}
	if (naddr == 0) {
		snprintf(why, whysize, failed ? "no address for %s: %s" :
		    "%s has no address%s", host, failed ? w : "");
		goto out;
	}
	if ((pin = curl_slist_append(NULL, r.data)) == NULL ||
	    (c = curl_easy_init()) == NULL)
		goto nomem;
	errbuf[0] = '\0';
	bad |= curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_RESOLVE, pin) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (d->sts_ca != NULL) {
		ca.data = d->sts_ca;
		ca.len = d->sts_ca_len;
		ca.flags = CURL_BLOB_COPY;
		bad |= curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(c, CURLOPT_CAPATH, NULL) != CURLE_OK;
	}
	bad |= curl_easy_setopt(c, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, HOP_TIMEOUT) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT, HOP_TIMEOUT) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "form2mail-doctor/"
	    F2M_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hop_body_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &hb) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	if (bad)
		goto nomem;
	cr = curl_easy_perform(c);
	if (hb.over) {
		snprintf(why, whysize, "the policy is over %d KiB",
		    STS_POLICY_MAX / 1024);
		goto out;
	}
	if (cr != CURLE_OK) {
		log_escape(esc, sizeof(esc), errbuf, strlen(errbuf));
		snprintf(why, whysize, "HTTPS: %.300s", esc[0] ? esc :
		    curl_easy_strerror(cr));
		goto out;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(why, whysize, "HTTPS status %ld (only 200 counts; "
		    "redirects are not followed)", code);
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK ||
	    ct == NULL || strncasecmp(ct, "text/plain", 10) != 0 ||
	    (ct[10] != '\0' && ct[10] != ';' && ct[10] != ' ')) {
		log_escape(esc, sizeof(esc), ct ? ct : "none", ct ?
		    strlen(ct) : 4);
		snprintf(why, whysize, "served as %.100s, not text/plain", esc);
		goto out;
	}
	*body = hb.b;
	hb.b = (struct buf)BUF_INIT;
	rc = 0;
	goto out;
nomem:
	snprintf(why, whysize, "cannot set up libcurl");
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(pin);
	buf_free(&hb.b);
	buf_free(&r);
	return rc;
}

/* The policy's mx patterns, for display. */
static void
hop_patterns(const struct sts_policy *p, struct buf *out)
{
	size_t	 i;

	buf_reset(out);
	for (i = 0; i < p->nmx; i++)
		if (buf_printf(out, "%s%s", i ? " " : "", p->mx[i]) == -1)
			return;
}

static void
hop_mta_sts(struct hop *h)
{
	struct doctor		*d = h->d;
	struct doctor_txt	 t;
	struct sts_policy	 p;
	struct buf		 name = BUF_INIT, body = BUF_INIT, pats = BUF_INIT,
				 miss = BUF_INIT;
	const char		*why = NULL;
	char			 id[STS_ID_MAX + 1] = "", tid[STS_ID_MAX + 1];
	char			 w[HOP_WHY * 2], url[DOCTOR_NAME_MAX + 64];
	char			 esc[DOCTOR_SHOW], age[96];
	size_t			 i, k, nrec = 0, nmatch = 0;
	enum doctor_dns		 r;
	int			 pr, valid = 0;

	memset(&t, 0, sizeof(t));
	h->sts = HOP_UNKNOWN;
	if (buf_printf(&name, "_mta-sts.%s", h->dom) == -1)
		goto out;
	r = doctor_txt(d, name.data, &t, w, sizeof(w));
	if (r == DNS_FAIL) {
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: unknown (%s: %s): not "
		    "known to be enforced", h->dom, name.data, w);
		goto out;
	}
	/* RFC 8461 3.1: records not starting "v=STSv1;" are discarded; not
	 * exactly one left (or a bad one) is no policy. */
	for (i = 0; i < t.n; i++) {
		if ((pr = sts_txt_parse(t.v[i], t.len[i], tid, sizeof(tid),
		    &why)) == 0)
			continue;
		nrec++;
		if (pr == 1) {
			valid = 1;
			memcpy(id, tid, sizeof(id));
		} else {
			valid = 0;
			snprintf(w, sizeof(w), "\"%s\": %s", doctor_esc(esc,
			    sizeof(esc), t.v[i], t.len[i]), why);
		}
	}
	if (nrec == 0) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: no MTA-STS (no "
		    "v=STSv1 TXT at %s): senders fall back to opportunistic "
		    "TLS, which an attacker on the path can strip", h->dom,
		    name.data);
		goto out;
	}
	if (nrec > 1 || !valid) {
		h->sts = HOP_NO;
		if (nrec > 1)
			snprintf(w, sizeof(w), "%zu v=STSv1 records (RFC 8461 "
			    "3.1: keep one)", nrec);
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: no usable policy "
		    "record at %s: %s: senders treat %s as having no policy",
		    h->dom, name.data, w, h->dom);
		goto out;
	}
	if (hop_fetch(h, &body, url, sizeof(url), w, sizeof(w)) == -1) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: TXT id=%s published, "
		    "but the policy %s cannot be fetched (%s): senders without "
		    "a cached policy treat %s as having none: not enforced",
		    h->dom, id, url, w, h->dom);
		goto out;
	}
	if (sts_policy_parse(body.data ? body.data : "", body.len, &p,
	    &why) == -1) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: the policy at %s is "
		    "invalid (%s): senders ignore it: not enforced", h->dom,
		    url, why);
		goto out;
	}
	hop_patterns(&p, &pats);
	if (p.mode == STS_MODE_NONE) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: mode none (the policy "
		    "is withdrawn): not enforced", h->dom);
		goto out;
	}
	for (i = 0; i < h->nmx; i++) {
		for (k = 0; k < p.nmx; k++)
			if (sts_mx_match(p.mx[k], h->mx[i]))
				break;
		if (k < p.nmx)
			nmatch++;
		else if (buf_printf(&miss, "%s%s", miss.len ? " " : "",
		    h->mx[i]) == -1)
			goto out;
	}
	age[0] = '\0';
	if (p.max_age < 86400)
		snprintf(age, sizeof(age), "; max_age %ld s is short: "
		    "RFC 8461 suggests weeks", p.max_age);
	if (!h->mx_known) {
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: mode %s (mx %s), but "
		    "the MX lookup failed (%s): unknown whether the MX hosts "
		    "match", h->dom, p.mode == STS_MODE_ENFORCE ? "enforce" :
		    "testing", pats.data ? pats.data : "", h->mx_why);
		goto out;
	}
	if (p.mode == STS_MODE_TESTING) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: testing (mx %s%s%s): "
		    "senders report failed TLS but deliver anyway: not "
		    "enforced; the domain turns on mode: enforce when the "
		    "reports are clean%s", h->dom, pats.data ? pats.data : "",
		    miss.len ? "; not matching MX " : "", miss.len ? miss.data :
		    "", age);
		goto out;
	}
	if (nmatch == 0) {
		h->sts = HOP_NO;
		buf_reset(&name);
		if (buf_printf(&name, "the domain's admin must list its MX in "
		    "the policy (mx: %s at %s) and change id= in _mta-sts.%s, "
		    "or stop mailing it", h->mx[0], url, h->dom) == -1)
			buf_reset(&name);
		doctor_say(d, D_FAIL, name.data ? name.data : "fix the policy's "
		    "mx lines", "MTA-STS %s: mode enforce lists mx %s but no "
		    "MX host matches (%s): senders that honour MTA-STS will "
		    "not deliver to %s", h->dom, pats.data ? pats.data : "",
		    miss.data ? miss.data : "", h->dom);
		goto out;
	}
	if (miss.len > 0) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: enforce, but MX %s "
		    "matches no mx of the policy (%s): senders skip %s%s",
		    h->dom, miss.data, pats.data ? pats.data : "",
		    miss.data, age);
		goto out;
	}
	h->sts = HOP_YES;
	doctor_say(d, D_OK, NULL, "MTA-STS %s: enforced (id %s, max_age %ld, "
	    "mx %s matches every MX%s): senders that honour MTA-STS deliver "
	    "only over TLS to a certificate valid for a listed MX, or not at "
	    "all%s", h->dom, id, p.max_age, pats.data ? pats.data : "",
	    h->mx_implicit ? ", the domain itself" : "", age);
out:
	doctor_txt_free(&t);
	buf_free(&name);
	buf_free(&body);
	buf_free(&pats);
	buf_free(&miss);
}

/* Appends to a note shown on one line; out of memory only shortens it. */
static void
hop_note(struct buf *b, const char *fmt, ...) F2M_PRINTF(2, 3);

static void
hop_note(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (buf_vprintf(b, fmt, ap) == -1)
		buf_reset(b);
	va_end(ap);
}

/* DANE for one MX host: its address and TLSA answers through d->vub. */
static enum hop_v
hop_dane_host(struct hop *h, const char *mx, int mx_secure, struct buf *note)
{
	struct doctor		*d = h->d;
	struct ub_result	*res;
	struct sts_tlsa		 tl;
	struct buf		 name = BUF_INIT;
	char			 w[HOP_WHY];
	enum doctor_dns		 r;
	enum hop_v		 v = HOP_UNKNOWN;
	size_t			 usable = 0, total = 0;
	int			 i, sec = 0, asec = 0;

	if (buf_printf(&name, "_25._tcp.%s", mx) == -1)
		return HOP_UNKNOWN;
	/* RFC 7672 2.2.2: TLSA counts only for a host whose address
	 * records are secure too. */
	r = doctor_query_ub(d, d->vub, mx, ns_t_a, &res, &asec, w, sizeof(w));
	if (r == DNS_OK)
		ub_resolve_free(res);
	else if (r != DNS_FAIL) {
		r = doctor_query_ub(d, d->vub, mx, ns_t_aaaa, &res, &asec, w,
		    sizeof(w));
		if (r == DNS_OK)
			ub_resolve_free(res);
	}
	if (r == DNS_FAIL) {
		hop_note(note, "; %s: unknown (address: %s)", mx, w);
		goto out;
	}
	r = doctor_query_ub(d, d->vub, name.data, ns_t_tlsa, &res, &sec, w,
	    sizeof(w));
	if (r == DNS_FAIL) {
		hop_note(note, "; %s: unknown (TLSA: %s)", mx, w);
		goto out;
	}
	if (r != DNS_OK) {
		v = HOP_NO;
		hop_note(note, "; %s: no TLSA at %s", mx, name.data);
		goto out;
	}
	for (i = 0; res->data[i] != NULL && i < DOCTOR_MAX_RR; i++) {
		total++;
		if (res->len[i] > 0 && sts_tlsa_parse((unsigned char *)
		    res->data[i], (size_t)res->len[i], &tl) == 0 &&
		    sts_tlsa_usable(&tl))
			usable++;
	}
	ub_resolve_free(res);
	v = HOP_NO;
	if (!sec || !mx_secure || !asec)
		hop_note(note, "; %s: TLSA published but %s not "
		    "DNSSEC-signed, so senders ignore it (RFC 7672 2.2)", mx,
		    !sec ? "it is" : !mx_secure ? "the MX records are" :
		    "the host's address records are");
	else if (usable == 0)
		hop_note(note, "; %s: %zu signed TLSA, none usable "
		    "(only DANE-TA(2) and DANE-EE(3) count for SMTP, RFC 7672 "
		    "3.1.3): TLS without authentication", mx, total);
	else {
		v = HOP_YES;
		hop_note(note, "; %s: %zu usable TLSA, DNSSEC-signed",
		    mx, usable);
	}
out:
	buf_free(&name);
	return v;
}

static void
hop_dane(struct hop *h)
{
	struct doctor	*d = h->d;
	struct buf	 note = BUF_INIT;
	char		 mx[HOP_MX][DOCTOR_NAME_MAX + 1], w[HOP_WHY];
	size_t		 i, nmx = 0, yes = 0, no = 0;
	enum doctor_dns	 r;
	enum hop_v	 v;
	int		 sec = 0;

	h->dane = HOP_UNKNOWN;
	if (d->vub == NULL) {
		doctor_say(d, D_WARN, NULL, "DANE %s: unknown: %s", h->dom,
		    d->vub_why);
		return;
	}
	r = hop_mx(h, d->vub, mx, &nmx, &sec, w, sizeof(w));
	if (r == DNS_FAIL) {
		doctor_say(d, D_WARN, NULL, "DANE %s: unknown (MX: %s): not "
		    "known to be protected", h->dom, w);
		return;
	}
	if (r != DNS_OK) {
		snprintf(mx[0], sizeof(mx[0]), "%s", h->dom);
		nmx = 1;
	}
	for (i = 0; i < nmx; i++) {
		v = hop_dane_host(h, mx[i], sec, &note);
		yes += v == HOP_YES;
		no += v == HOP_NO;
	}
	if (nmx > 0 && yes == nmx) {
		h->dane = HOP_YES;
		doctor_say(d, D_OK, NULL, "DANE %s: every MX has DNSSEC-signed "
		    "TLSA (%s): DANE senders require TLS with a certificate "
		    "that matches it", h->dom, note.data ? note.data + 2 : "");
	} else if (yes + no == nmx && nmx > 0) {
		h->dane = HOP_NO;
		doctor_say(d, D_WARN, NULL, "DANE %s: %s (%s): DANE senders "
		    "may deliver without a verified certificate", h->dom,
		    yes ? "not on every MX" : "no DANE", note.data ?
		    note.data + 2 : "");
	} else
		doctor_say(d, D_WARN, NULL, "DANE %s: unknown (%s): not known "
		    "to be protected", h->dom, note.data ? note.data + 2 :
		    "no MX");
	buf_free(&note);
}

static void
hop_tlsrpt(struct hop *h)
{
	struct doctor		*d = h->d;
	struct doctor_txt	 t;
	struct buf		 name = BUF_INIT;
	const char		*why = NULL;
	char			 rua[STS_RUA_MAX], trua[STS_RUA_MAX];
	char			 w[HOP_WHY * 2], esc[DOCTOR_SHOW];
	size_t			 i, nrec = 0;
	enum doctor_dns		 r;
	int			 pr, valid = 0;

	if (buf_printf(&name, "_smtp._tls.%s", h->dom) == -1)
		return;
	r = doctor_txt(d, name.data, &t, w, sizeof(w));
	if (r == DNS_FAIL) {
		doctor_say(d, D_WARN, NULL, "TLS-RPT %s: unknown (%s: %s)",
		    h->dom, name.data, w);
		goto out;
	}
	for (i = 0; i < t.n; i++) {
		if ((pr = sts_tlsrpt_parse(t.v[i], t.len[i], trua,
		    sizeof(trua), &why)) == 0)
			continue;
		nrec++;
		valid = pr == 1;
		if (valid)
			memcpy(rua, trua, sizeof(rua));
		else
			snprintf(w, sizeof(w), "\"%s\": %s", doctor_esc(esc,
			    sizeof(esc), t.v[i], t.len[i]), why);
	}
	if (nrec == 0)
		doctor_say(d, D_WARN, NULL, "TLS-RPT %s: not published (no "
		    "v=TLSRPTv1 TXT at %s): %s hears nothing when senders fail "
		    "to reach it over TLS", h->dom, name.data, h->dom);
	else if (nrec > 1 || !valid) {
		if (nrec > 1)
			snprintf(w, sizeof(w), "%zu v=TLSRPTv1 records (RFC "
			    "8460 3: keep one)", nrec);
		doctor_say(d, D_WARN, NULL, "TLS-RPT %s: unusable record at %s: "
		    "%s: senders send no reports", h->dom, name.data, w);
	} else
		doctor_say(d, D_OK, NULL, "TLS-RPT %s: published (rua=%s): "
		    "senders report failed TLS deliveries there", h->dom,
		    doctor_esc(esc, sizeof(esc), rua, strlen(rua)));
out:
	doctor_txt_free(&t);
	buf_free(&name);
}

static void
hop_domain(struct doctor *d, const char *dom)
{
	struct hop	 h;
	enum doctor_dns	 r;
	int		 sec;

	memset(&h, 0, sizeof(h));
	h.d = d;
	h.dom = dom;
	r = hop_mx(&h, d->ub, h.mx, &h.nmx, &sec, h.mx_why,
	    sizeof(h.mx_why));
	h.mx_known = r != DNS_FAIL;
	if (r == DNS_NXDOMAIN || r == DNS_NODATA) {
		snprintf(h.mx[0], sizeof(h.mx[0]), "%s", dom);
		h.nmx = 1;
		h.mx_implicit = 1;
	}
	hop_mta_sts(&h);
	hop_dane(&h);
	hop_tlsrpt(&h);
	if (h.sts == HOP_YES || h.dane == HOP_YES)
		doctor_say(d, D_OK, NULL, "Next hop %s: TLS enforced (%s%s%s): "
		    "your relay's mail to it cannot be read or redirected on "
		    "the way by a network attacker", dom, h.sts == HOP_YES ?
		    "MTA-STS" : "", h.sts == HOP_YES && h.dane == HOP_YES ?
		    " and " : "", h.dane == HOP_YES ? "DANE" : "");
	else if (h.sts == HOP_UNKNOWN || h.dane == HOP_UNKNOWN)
		doctor_say(d, D_WARN, NULL, "Next hop %s: unknown (DNS or HTTPS "
		    "did not answer): not known to be secure past your relay",
		    dom);
	else
		doctor_say(d, D_WARN, NULL, "Next hop %s: TLS not enforced: "
		    "past your relay, mail to it may travel in clear text or "
		    "to an unverified server", dom);
}

/* Adds the domain of addr to doms unless there already (any case). */
static void
hop_add(const char **doms, size_t *n, size_t *over, const char *addr)
{
	const char	*dom = doctor_domain_of(addr);
	size_t		 i;

	if (dom == NULL)
		return;
	for (i = 0; i < *n; i++)
		if (strcasecmp(doms[i], dom) == 0)
			return;
	if (*n == HOP_DOMAINS) {
		(*over)++;
		return;
	}
	doms[(*n)++] = dom;
}

void
doctor_next_hop(struct doctor *d)
{
	const struct conf	*cf = d->cf;
	const struct conf_form	*f;
	const char		*doms[HOP_DOMAINS];
	size_t			 i, j, k, n = 0, over = 0;

	for (i = 0; i < cf->nforms; i++) {
		f = &cf->forms[i];
		for (j = 0; j < f->nto; j++)
			hop_add(doms, &n, &over, f->to[j].addr);
		for (j = 0; j < f->nchoices; j++)
			for (k = 0; k < f->choices[j].nto; k++)
				hop_add(doms, &n, &over,
				    f->choices[j].to[k].addr);
		for (j = 0; j < f->ncc; j++)
			hop_add(doms, &n, &over, f->cc[j].addr);
		for (j = 0; j < f->nbcc; j++)
			hop_add(doms, &n, &over, f->bcc[j].addr);
	}
	if (d->opts->sts_ca != NULL || d->opts->sts_port != 0)
		doctor_say(d, D_WARN, NULL, "MTA-STS: test overrides in use "
		    "(%s%s%s): policies are fetched as no real sender would",
		    d->opts->sts_ca ? "--sts-ca" : "", d->opts->sts_ca &&
		    d->opts->sts_port ? ", " : "", d->opts->sts_port ?
		    "--sts-port" : "");
	for (i = 0; i < n; i++)
		hop_domain(d, doms[i]);
	if (over > 0)
		doctor_say(d, D_SKIP, NULL, "Next hop: %zu more recipient "
		    "domains not checked (at most %d)", over, HOP_DOMAINS);
}
