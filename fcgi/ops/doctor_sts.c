/*
 * doctor_sts: MTA-STS (RFC 8461) of one recipient domain for the next
 * hop of `form2mail doctor`: the _mta-sts TXT record, the policy fetched
 * over HTTPS, and whether its mx patterns cover every MX; see
 * doctor_int.h.
 */
#include <sys/types.h>

#include <arpa/nameser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <unbound.h>

#include "lib/buf.h"
#include "lib/curlx.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/log.h"
#include "ops/sts.h"

#define HOP_ADDR	4	/* addresses of mta-sts.<domain> */
#define HOP_TIMEOUT	15L	/* seconds for the policy fetch */

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
 * The CURLOPT_RESOLVE entry "host:port:addr,[addr6]" of host's A and AAAA
 * through d->ub into r.  Returns 0, or -1 with why (no address, or the
 * lookup failed).
 */
static int
hop_resolve(struct hop *h, const char *host, long port, struct buf *r,
    char *why, size_t whysize)
{
	static const int	 types[] = { ns_t_a, ns_t_aaaa };
	struct ub_result	*res;
	char			 a[INET6_ADDRSTRLEN], w[HOP_WHY];
	size_t			 t, naddr = 0;
	int			 i, failed = 0;
	enum doctor_dns		 q;

	if (buf_printf(r, "%s:%ld:", host, port) == -1) {
		snprintf(why, whysize, "cannot set up libcurl");
		return -1;
	}
	for (t = 0; t < 2; t++) {
		q = doctor_query_ub(h->d, h->d->ub, host, types[t], &res, NULL,
		    w, sizeof(w));
		if (q == DNS_FAIL) {
			failed = 1;
			continue;
		}
		if (q != DNS_OK)
			continue;
		for (i = 0; res->data[i] != NULL && naddr < HOP_ADDR; i++)
			if (res->len[i] == (t ? 16 : 4) && inet_ntop(t ?
			    AF_INET6 : AF_INET, res->data[i], a, sizeof(a)) !=
			    NULL && buf_printf(r, t ? "%s[%s]" : "%s%s",
			    naddr ? "," : "", a) != -1)
				naddr++;
		ub_resolve_free(res);
	}
	if (naddr == 0) {
		snprintf(why, whysize, failed ? "no address for %s: %s" :
		    "%s has no address%s", host, failed ? w : "");
		return -1;
	}
	return 0;
}

/* What a GET of the policy brought; 0, or -1 with why. */
static int
hop_judge(CURL *c, CURLcode cr, const struct hop_body *hb,
    const char *errbuf, char *why, size_t whysize)
{
	char	 esc[CURL_ERROR_SIZE * 4], *ct = NULL;
	long	 code = 0;

	if (hb->over) {
		snprintf(why, whysize, "the policy is over %d KiB",
		    STS_POLICY_MAX / 1024);
		return -1;
	}
	if (cr != CURLE_OK) {
		log_escape(esc, sizeof(esc), errbuf, strlen(errbuf));
		snprintf(why, whysize, "HTTPS: %.300s", esc[0] ? esc :
		    curl_easy_strerror(cr));
		return -1;
	}
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(why, whysize, "HTTPS status %ld (only 200 counts; "
		    "redirects are not followed)", code);
		return -1;
	}
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK ||
	    ct == NULL || strncasecmp(ct, "text/plain", 10) != 0 ||
	    (ct[10] != '\0' && ct[10] != ';' && ct[10] != ' ')) {
		log_escape(esc, sizeof(esc), ct ? ct : "none", ct ?
		    strlen(ct) : 4);
		snprintf(why, whysize, "served as %.100s, not text/plain", esc);
		return -1;
	}
	return 0;
}

/*
 * GET https://mta-sts.<dom>/.well-known/mta-sts.txt (RFC 8461 3.3) on a
 * lib/curlx handle (https only, no redirect, the certificate valid for
 * that name; --sts-ca as the only CA): the addresses come from d->ub
 * (CURLOPT_RESOLVE), only 200 with text/plain counts, at most
 * STS_POLICY_MAX octets.  Returns 0 with body set, or -1 with why.
 */
static int
hop_fetch(struct hop *h, struct buf *body, char *url, size_t urlsize,
    char *why, size_t whysize)
{
	struct doctor		*d = h->d;
	struct curl_slist	*pin = NULL;
	struct hop_body		 hb = { BUF_INIT, 0 };
	struct buf		 r = BUF_INIT;
	char			 host[DOCTOR_NAME_MAX + 16];
	char			 errbuf[CURL_ERROR_SIZE] = "";
	long			 port = d->opts->sts_port ? d->opts->sts_port :
				    443;
	int			 bad = 0, rc = -1;
	CURL			*c = NULL;

	snprintf(host, sizeof(host), "mta-sts.%s", h->dom);
	if (port == 443)
		snprintf(url, urlsize, "https://%s/.well-known/mta-sts.txt",
		    host);
	else
		snprintf(url, urlsize, "https://%s:%ld/.well-known/"
		    "mta-sts.txt", host, port);
	if (hop_resolve(h, host, port, &r, why, whysize) == -1)
		goto out;
	if ((pin = curl_slist_append(NULL, r.data)) == NULL ||
	    (c = curlx_open(&(struct curlx){ .url = url, .protocols = "https",
	    .ca_blob = d->sts_ca, .ca_len = d->sts_ca_len,
	    .connect_ms = HOP_TIMEOUT * 1000, .total_ms = HOP_TIMEOUT * 1000,
	    .errbuf = errbuf })) == NULL)
		goto nomem;
	bad |= curl_easy_setopt(c, CURLOPT_RESOLVE, pin) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "form2mail-doctor/"
	    F2M_VERSION) != CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, hop_body_cb) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(c, CURLOPT_WRITEDATA, &hb) != CURLE_OK;
	if (bad)
		goto nomem;
	if (hop_judge(c, curl_easy_perform(c), &hb, errbuf, why,
	    whysize) == -1)
		goto out;
	*body = hb.b;
	hb.b = (struct buf)BUF_INIT;
	rc = 0;
	goto out;
nomem:
	snprintf(why, whysize, "cannot set up libcurl");
out:
	curlx_close(c);
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

/*
 * _mta-sts.<dom> (RFC 8461 3.1): records not starting "v=STSv1;" are
 * discarded; not exactly one left (or a bad one) is no policy.  Returns 0
 * with id set, or -1 reported (h->sts set).
 */
static int
hop_sts_record(struct hop *h, const char *name, char *id)
{
	struct doctor		*d = h->d;
	struct doctor_txt	 t;
	const char		*why = NULL;
	char			 tid[STS_ID_MAX + 1], w[HOP_WHY * 2];
	char			 esc[DOCTOR_SHOW];
	size_t			 i, nrec = 0;
	int			 pr, valid = 0, rc = -1;

	memset(&t, 0, sizeof(t));
	if (doctor_txt(d, name, &t, w, sizeof(w)) == DNS_FAIL) {
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: unknown (%s: %s): not "
		    "known to be enforced", h->dom, name, w);
		goto out;
	}
	for (i = 0; i < t.n; i++) {
		if ((pr = sts_txt_parse(t.v[i], t.len[i], tid, sizeof(tid),
		    &why)) == 0)
			continue;
		nrec++;
		if (pr == 1) {
			valid = 1;
			memcpy(id, tid, sizeof(tid));
		} else {
			valid = 0;
			snprintf(w, sizeof(w), "\"%s\": %s", doctor_esc(esc,
			    sizeof(esc), t.v[i], t.len[i]), why);
		}
	}
	h->sts = HOP_NO;
	if (nrec == 0)
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: no MTA-STS (no "
		    "v=STSv1 TXT at %s): senders fall back to opportunistic "
		    "TLS, which an attacker on the path can strip", h->dom,
		    name);
	else if (nrec > 1 || !valid) {
		if (nrec > 1)
			snprintf(w, sizeof(w), "%zu v=STSv1 records (RFC 8461 "
			    "3.1: keep one)", nrec);
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: no usable policy "
		    "record at %s: %s: senders treat %s as having no policy",
		    h->dom, name, w, h->dom);
	} else {
		h->sts = HOP_UNKNOWN;
		rc = 0;
	}
out:
	doctor_txt_free(&t);
	return rc;
}

/* The policy's mx patterns against the domain's MX: the verdict. */
static void
hop_sts_verdict(struct hop *h, const struct sts_policy *p, const char *url,
    const char *id)
{
	struct doctor	*d = h->d;
	struct buf	 pats = BUF_INIT, miss = BUF_INIT, fix = BUF_INIT;
	const char	*pl;
	char		 age[96];
	size_t		 i, k, nmatch = 0;

	hop_patterns(p, &pats);
	pl = pats.data ? pats.data : "";
	for (i = 0; i < h->nmx; i++) {
		for (k = 0; k < p->nmx; k++)
			if (sts_mx_match(p->mx[k], h->mx[i]))
				break;
		if (k < p->nmx)
			nmatch++;
		else if (buf_printf(&miss, "%s%s", miss.len ? " " : "",
		    h->mx[i]) == -1)
			goto out;
	}
	age[0] = '\0';
	if (p->max_age < 86400)
		snprintf(age, sizeof(age), "; max_age %ld s is short: "
		    "RFC 8461 suggests weeks", p->max_age);
	if (!h->mx_known) {
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: mode %s (mx %s), but "
		    "the MX lookup failed (%s): unknown whether the MX hosts "
		    "match", h->dom, p->mode == STS_MODE_ENFORCE ? "enforce" :
		    "testing", pl, h->mx_why);
		goto out;
	}
	h->sts = HOP_NO;
	if (p->mode == STS_MODE_TESTING)
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: testing (mx %s%s%s): "
		    "senders report failed TLS but deliver anyway: not "
		    "enforced; the domain turns on mode: enforce when the "
		    "reports are clean%s", h->dom, pl, miss.len ? "; not "
		    "matching MX " : "", miss.len ? miss.data : "", age);
	else if (nmatch == 0) {
		if (buf_printf(&fix, "the domain's admin must list its MX in "
		    "the policy (mx: %s at %s) and change id= in _mta-sts.%s, "
		    "or stop mailing it", h->mx[0], url, h->dom) == -1)
			buf_reset(&fix);
		doctor_say(d, D_FAIL, fix.data ? fix.data : "fix the policy's "
		    "mx lines", "MTA-STS %s: mode enforce lists mx %s but no "
		    "MX host matches (%s): senders that honour MTA-STS will "
		    "not deliver to %s", h->dom, pl, miss.data ? miss.data : "",
		    h->dom);
	} else if (miss.len > 0)
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: enforce, but MX %s "
		    "matches no mx of the policy (%s): senders skip %s%s",
		    h->dom, miss.data, pl, miss.data, age);
	else {
		h->sts = HOP_YES;
		doctor_say(d, D_OK, NULL, "MTA-STS %s: enforced (id %s, max_age "
		    "%ld, mx %s matches every MX%s): senders that honour "
		    "MTA-STS deliver only over TLS to a certificate valid for a "
		    "listed MX, or not at all%s", h->dom, id, p->max_age, pl,
		    h->mx_implicit ? ", the domain itself" : "", age);
	}
out:
	buf_free(&pats);
	buf_free(&miss);
	buf_free(&fix);
}

void
doctor_hop_mta_sts(struct hop *h)
{
	struct doctor		*d = h->d;
	struct sts_policy	 p;
	struct buf		 name = BUF_INIT, body = BUF_INIT;
	const char		*why = NULL;
	char			 id[STS_ID_MAX + 1] = "";
	char			 w[HOP_WHY * 2], url[DOCTOR_NAME_MAX + 64];

	h->sts = HOP_UNKNOWN;
	if (buf_printf(&name, "_mta-sts.%s", h->dom) == -1 ||
	    hop_sts_record(h, name.data, id) == -1)
		goto out;
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
	if (p.mode == STS_MODE_NONE) {
		h->sts = HOP_NO;
		doctor_say(d, D_WARN, NULL, "MTA-STS %s: mode none (the policy "
		    "is withdrawn): not enforced", h->dom);
		goto out;
	}
	hop_sts_verdict(h, &p, url, id);
out:
	buf_free(&name);
	buf_free(&body);
}
