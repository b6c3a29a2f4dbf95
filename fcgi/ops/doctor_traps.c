/*
 * doctor_traps: config choices that make rspamd score every notification
 * up (rules/misc.lua SPOOF_REPLYTO, regexp/compromised_hosts.lua
 * MID_RHS_WWW, plugins/forged_recipients.lua FORGED_SENDER), the part of
 * `form2mail doctor` of issue 14 part 2, and a client_ip_header the
 * per-client limits would trust (issue 16, F4); see doctor.h.
 */
#include <sys/types.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"

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
	const char	*fromdom = addr_domain(cf->from.addr);
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
		if (hop_same(addr_domain(r->to[i].addr), fromdom))
			hit = r->to[i].addr;
	for (i = 0; i < r->f->ncc && hit == NULL; i++)
		if (hop_same(addr_domain(r->f->cc[i].addr), fromdom))
			hit = r->f->cc[i].addr;
	for (i = 0; i < r->f->nbcc && hit == NULL; i++)
		if (hop_same(addr_domain(r->f->bcc[i].addr), fromdom))
			hit = r->f->bcc[i].addr;
	return hit;
}

/* SPOOF_REPLYTO, per form (and per choice of its route). */
static void
doctor_traps_spoof(struct doctor *d, struct buf *fix)
{
	const struct conf	*cf = d->cf;
	const struct conf_form	*f;
	struct hop_rcpts	 r;
	const char		*hit, *what;
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
		buf_reset(fix);
		if (buf_printf(fix, "%s; or send from a sub-domain: "
		    "sender.from forms@notify.%s (DKIM for %s still aligns)",
		    cf->from_recipient ? "list a recipient on From's domain "
		    "first (it then becomes From)" : "remove "
		    "sender.same_domain_from (the default \"recipient\" sends "
		    "such mail From its first recipient)", d->fromdom,
		    d->fromdom) == -1)
			buf_reset(fix);
		doctor_say(d, D_WARN, fix->data ? fix->data : "send from a "
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
}

/* MID_RHS_WWW: a Message-ID domain on a www. host. */
static void
doctor_traps_mid(struct doctor *d, struct buf *fix)
{
	const char	*mid;

	mid = d->cf->message_id_domain;
	if (mid != NULL && strncasecmp(mid, "www.", 4) == 0) {
		buf_reset(fix);
		if (buf_printf(fix, "remove sender.message_id_domain (it "
		    "defaults to From's domain %s)", d->fromdom) == -1)
			buf_reset(fix);
		doctor_say(d, D_WARN, fix->data ? fix->data : "drop www. from "
		    "the Message-ID domain", "rspamd MID_RHS_WWW (+0.5): "
		    "Message-ID <...@%s> starts with www.", mid);
	} else if (mid != NULL)
		doctor_say(d, D_OK, NULL, "rspamd MID_RHS_WWW: Message-ID "
		    "<...@%s> is not on a www. host", mid);
}

/* FORGED_SENDER, and SPF alignment: the envelope sender off From's
 * domain. */
static void
doctor_traps_envelope(struct doctor *d, struct buf *fix)
{
	const struct conf	*cf = d->cf;
	const char		*ed;

	ed = addr_domain(cf->envelope_from);
	if (ed != NULL && d->fromdom != NULL &&
	    !conf_related_domain(ed, d->fromdom)) {
		buf_reset(fix);
		if (buf_printf(fix, "use an envelope sender on %s (unset, it "
		    "is %s)", d->fromdom, cf->from.addr) == -1)
			buf_reset(fix);
		doctor_say(d, D_WARN, fix->data ? fix->data : "put "
		    "sender.envelope_from on From's domain", "SPF alignment: "
		    "envelope MAIL FROM %s is not on From's domain %s: DMARC "
		    "rests on DKIM alone, and rspamd adds FORGED_SENDER (+0.3)",
		    cf->envelope_from, d->fromdom);
	} else if (ed != NULL)
		doctor_say(d, D_OK, NULL, "SPF alignment: envelope MAIL FROM "
		    "%s is on From's domain %s", cf->envelope_from,
		    d->fromdom);
}

/*
 * The client address of the per-client limits (docs/DESIGN.md
 * "Throttle"): a configured client_ip_header is trusted whenever
 * REMOTE_ADDR is not an IP address, so the proxy in front must set it.
 * Said only when the header is configured and a per-client rate is set.
 */
static void
doctor_traps_client(struct doctor *d)
{
	const struct conf_throttle	*t = &d->cf->throttle;

	if (t->client_ip_header == NULL || (t->per_ip.count == 0 &&
	    t->per_net.count == 0 && t->per_net_v4.count == 0))
		return;
	doctor_say(d, D_WARN, "have nginx restore REMOTE_ADDR "
	    "(set_real_ip_from unix:; real_ip_header X-Forwarded-For;) and "
	    "remove throttle.client_ip_header, or make sure the proxy sets "
	    "the header", "Client address: when "
	    "REMOTE_ADDR is not an IP address (a unix-socket listener in "
	    "front) the per-client limits take it from %s%s; the proxy there "
	    "must set that header on every request, or visitors choose the "
	    "address they are throttled as (with REMOTE_ADDR an address the "
	    "header is ignored)", t->client_ip_header, t->client_ip_last ?
	    " (its rightmost entry)" : "");
}

void
doctor_traps(struct doctor *d)
{
	struct buf	 fix = BUF_INIT;

	doctor_traps_spoof(d, &fix);
	doctor_traps_mid(d, &fix);
	doctor_traps_envelope(d, &fix);
	doctor_traps_client(d);
	buf_free(&fix);
}
