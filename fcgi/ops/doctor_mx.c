/*
 * doctor_mx: the next hop of `form2mail doctor` (issue 14 part 6): the
 * recipient domains of the forms, their MX, and each domain's verdict
 * from doctor_sts.c and doctor_dane.c; see doctor.h.
 *
 * form2mail secures the first hop only (to smtp.url).  From the relay on,
 * whether a recipient domain's MX is reached over verified TLS is up to
 * that domain: MTA-STS (RFC 8461), DANE (RFC 7672), and whether it hears
 * of failures, TLS-RPT (RFC 8460).  Every lookup that does not answer
 * leaves "unknown", which is reported, never counted as protected; DANE
 * counts only answers libunbound validated itself from a trust anchor
 * (doctor_vub()).
 */
#include <sys/types.h>

#include <arpa/nameser.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <unbound.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"

#define HOP_DOMAINS	16	/* recipient domains looked at */

/* MX (through ub), sorted as found; an empty list and mx_implicit when
 * the domain has none. */
enum doctor_dns
doctor_hop_mx(struct hop *h, struct ub_ctx *ub,
    char mx[][DOCTOR_NAME_MAX + 1], size_t *nmx, int *secure, char *why,
    size_t whysize)
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

static void
hop_domain(struct doctor *d, const char *dom)
{
	struct hop	 h;
	enum doctor_dns	 r;
	int		 sec;

	memset(&h, 0, sizeof(h));
	h.d = d;
	h.dom = dom;
	r = doctor_hop_mx(&h, d->ub, h.mx, &h.nmx, &sec, h.mx_why,
	    sizeof(h.mx_why));
	h.mx_known = r != DNS_FAIL;
	if (r == DNS_NXDOMAIN || r == DNS_NODATA) {
		snprintf(h.mx[0], sizeof(h.mx[0]), "%s", dom);
		h.nmx = 1;
		h.mx_implicit = 1;
	}
	doctor_hop_mta_sts(&h);
	doctor_hop_dane(&h);
	doctor_hop_tlsrpt(&h);
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
	const char	*dom = addr_domain(addr);
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
