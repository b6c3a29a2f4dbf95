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

void
doctor_hop_mta_sts(struct hop *h)
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
