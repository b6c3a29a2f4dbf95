/*
 * doctor_spf: the SPF check of `form2mail doctor`: the envelope domain's
 * record, evaluated by libspf2 for each of the relay's addresses, and the
 * record to publish when it is missing, doubled or does not authorize the
 * relay; and the DNS layer libspf2 is given, so that its queries (include,
 * a, mx) ask the doctor's resolver too; see doctor_int.h.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <unbound.h>

#include "lib/buf.h"
#include "lib/spf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"

#define DOCTOR_SPF_QUERIES	60	/* DNS queries of one SPF evaluation:
					   10 mechanisms, 10 MX names each
					   (RFC 7208 4.6.4), and some slack */

/*
 * The record p (plen octets of rdata) of type into rr->rr[n], as libspf2
 * reads it.  Returns 0, or -1 when it is skipped (malformed, too long, a
 * type libspf2 does not ask, out of memory).
 */
static int
doctor_spf_rr(SPF_dns_rr_t *rr, int n, ns_type type, const unsigned char *p,
    size_t plen)
{
	char	 v[DOCTOR_TXT_MAX + 1];
	size_t	 len, k;

	switch (type) {
	case ns_t_a:
		if (plen != sizeof(struct in_addr) ||
		    SPF_dns_rr_buf_realloc(rr, n, plen) != SPF_E_SUCCESS)
			return -1;
		memcpy(&rr->rr[n]->a, p, plen);
		break;
	case ns_t_aaaa:
		if (plen != sizeof(struct in6_addr) ||
		    SPF_dns_rr_buf_realloc(rr, n, plen) != SPF_E_SUCCESS)
			return -1;
		memcpy(&rr->rr[n]->aaaa, p, plen);
		break;
	case ns_t_txt:
		if (doctor_txt_join(p, plen, v, sizeof(v), &len) == -1)
			return -1;
		for (k = 0; k < len; k++)
			if (v[k] == '\0')
				v[k] = 0x7f;
		if (SPF_dns_rr_buf_realloc(rr, n, len + 1) !=
		    SPF_E_SUCCESS)
			return -1;
		memcpy(rr->rr[n]->txt, v, len + 1);
		break;
	case ns_t_mx:
	case ns_t_ptr:
		k = type == ns_t_mx ? 2 : 0;
		if (plen <= k || doctor_name_text(p + k, plen - k, v,
		    sizeof(v)) == -1 || SPF_dns_rr_buf_realloc(rr, n,
		    strlen(v) + 1) != SPF_E_SUCCESS)
			return -1;
		memcpy(type == ns_t_mx ? rr->rr[n]->mx : rr->rr[n]->ptr,
		    v, strlen(v) + 1);
		break;
	default:
		return -1;
	}
	return 0;
}

/*
 * Answers libspf2's queries through d->ub.  The SPF RR type is never asked
 * (RFC 7208 3.1 retired it).  TXT values are joined like doctor_txt_join()
 * and a NUL inside one becomes DEL so libspf2's C strings cannot cut a
 * record short; PTR and MX targets go through doctor_name_text().
 */
static SPF_dns_rr_t *
doctor_spf_lookup(SPF_dns_server_t *s, const char *domain, ns_type type,
    int should_cache)
{
	struct doctor		*d = s->hook;
	struct ub_result	*res = NULL;
	SPF_dns_rr_t		*rr;
	char			 why[128];
	int			 i, n = 0, herr;

	(void)should_cache;
	if (type == ns_t_spf)
		return SPF_dns_rr_new_init(s, domain, type, 0, NO_DATA);
	if (++d->spf_queries > DOCTOR_SPF_QUERIES)
		return SPF_dns_rr_new_init(s, domain, type, 0, TRY_AGAIN);
	switch (doctor_query(d, domain, (int)type, &res, why, sizeof(why))) {
	case DNS_OK:
		herr = NETDB_SUCCESS;
		break;
	case DNS_NXDOMAIN:
		herr = HOST_NOT_FOUND;
		break;
	case DNS_NODATA:
		herr = NO_DATA;
		break;
	default:
		herr = TRY_AGAIN;
		break;
	}
	if ((rr = SPF_dns_rr_new_init(s, domain, type, 0, herr)) == NULL ||
	    res == NULL)
		goto out;
	for (i = 0; res->data[i] != NULL && n < DOCTOR_MAX_RR; i++)
		if (doctor_spf_rr(rr, n, type, (unsigned char *)res->data[i],
		    res->len[i] < 0 ? 0 : (size_t)res->len[i]) == 0)
			n++;
	rr->num_rr = n;
	if (n == 0 && rr->herrno == NETDB_SUCCESS)
		rr->herrno = NO_DATA;
out:
	ub_resolve_free(res);
	return rr;
}

/* libspf2 would print its warnings and debugging on stdio. */
static void
doctor_spf_quiet(const char *file, int line, const char *msg)
{
	(void)file;
	(void)line;
	(void)msg;
}

int
doctor_spf_open(struct doctor *d)
{
	d->spf_warn = SPF_warning_handler;
	d->spf_info = SPF_info_handler;
	d->spf_debug = SPF_debug_handler;
	d->spf_quiet = 1;
	SPF_warning_handler = doctor_spf_quiet;
	SPF_info_handler = doctor_spf_quiet;
	SPF_debug_handler = doctor_spf_quiet;
	d->layer.lookup = doctor_spf_lookup;
	d->layer.name = "form2mail";
	d->layer.hook = d;
	/* destroy stays NULL: d owns the layer (SPF_dns_free() skips it). */
	if ((d->spf = SPF_server_new_dns(&d->layer, 0)) == NULL)
		return -1;
	return 0;
}

void
doctor_spf_close(struct doctor *d)
{
	if (d->spf != NULL)
		SPF_server_free(d->spf);
	d->spf = NULL;
	if (d->spf_quiet) {
		SPF_warning_handler = d->spf_warn;
		SPF_info_handler = d->spf_info;
		SPF_debug_handler = d->spf_debug;
		d->spf_quiet = 0;
	}
}

/*
 * SPF result of record for the envelope sender and addr.  This is what
 * SPF_request_query_mailfrom() does, minus its "localhost always gets a
 * free ride": a relay on loopback is checked like any other.  The reason
 * of anything but pass goes to why.
 */
static SPF_result_t
doctor_spf_eval(struct doctor *d, const char *record, const char *addr,
    char *why, size_t whysize)
{
	SPF_request_t	*req = NULL;
	SPF_response_t	*resp = NULL;
	SPF_record_t	*rec = NULL;
	SPF_errcode_t	 err;
	SPF_result_t	 r = SPF_RESULT_TEMPERROR;
	SPF_error_t	*m;
	char		 esc[DOCTOR_SHOW];

	why[0] = '\0';
	d->spf_queries = 0;
	if ((req = SPF_request_new(d->spf)) == NULL)
		goto nomem;
	if (strchr(addr, ':') != NULL)
		err = SPF_request_set_ipv6_str(req, addr);
	else
		err = SPF_request_set_ipv4_str(req, addr);
	if (err != SPF_E_SUCCESS) {
		snprintf(why, whysize, "bad address");
		goto out;
	}
	if (SPF_request_set_env_from(req, d->cf->envelope_from) != 0)
		goto nomem;
	req->cur_dom = req->env_from_dp;
	if ((resp = SPF_response_new(req)) == NULL)
		goto nomem;
	err = SPF_record_compile(d->spf, resp, &rec, record);
	if (err != SPF_E_SUCCESS) {
		r = SPF_RESULT_PERMERROR;
		snprintf(why, whysize, "%s", SPF_strerror(err));
		goto out;
	}
	resp->spf_record_exp = rec;
	err = SPF_record_interpret(rec, req, resp, 0);
	resp->spf_record_exp = NULL;
	r = SPF_response_result(resp);
	if (r != SPF_RESULT_PASS) {
		m = SPF_response_messages(resp) > 0 ?
		    SPF_response_message(resp, 0) : NULL;
		if (m != NULL && m->message != NULL)
			snprintf(why, whysize, "%s", doctor_esc(esc,
			    sizeof(esc), m->message, strlen(m->message)));
		else if (err != SPF_E_SUCCESS)
			snprintf(why, whysize, "%s", SPF_strerror(err));
	}
	goto out;
nomem:
	snprintf(why, whysize, "out of memory");
out:
	if (rec != NULL)
		SPF_record_free(rec);
	if (resp != NULL)
		SPF_response_free(resp);
	if (req != NULL)
		SPF_request_free(req);
	return r;
}

/* "v=spf1 <terms> -all": the record sender.spf asks for. */
static int
doctor_spf_want(const char *terms, struct buf *out)
{
	const char	*p = terms + strspn(terms, " ");
	size_t		 n = strlen(p);

	while (n > 0 && p[n - 1] == ' ')
		n--;
	return buf_printf(out, "v=spf1 %.*s -all", (int)n, p);
}

/*
 * The terms of several SPF records in one, without v=spf1 or all, when
 * spf_terms_check() accepts them; else -1.
 */
static int
doctor_spf_merge(const struct doctor_txt *t, struct buf *out)
{
	struct buf	 terms = BUF_INIT;
	const char	*p, *q;
	char		 err[256];
	size_t		 i, n;
	int		 rc = -1;

	for (i = 0; i < t->n; i++) {
		if (!spf_is_record(t->v[i], t->len[i]) ||
		    memchr(t->v[i], '\0', t->len[i]) != NULL)
			continue;
		for (p = t->v[i] + 6; *p != '\0'; p += n) {
			p += strspn(p, " ");
			if ((n = strcspn(p, " ")) == 0)
				continue;
			q = (*p == '+' || *p == '-' || *p == '~' ||
			    *p == '?') ? p + 1 : p;
			if ((size_t)(q - p) + 3 == n &&
			    strncasecmp(q, "all", 3) == 0)
				continue;
			if (buf_printf(&terms, "%s%.*s", terms.len ? " " : "",
			    (int)n, p) == -1)
				goto out;
		}
	}
	if (terms.data == NULL || spf_terms_check(terms.data, err,
	    sizeof(err)) == -1 || doctor_spf_want(terms.data, out) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&terms);
	return rc;
}

static int
doctor_ascii(const char *s, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
}

/* The SPF check's state: the TXT answer, the record sender.spf asks for,
 * the fix shown with a failure; freed by doctor_spf(). */
struct doctor_spf_st {
	struct doctor_txt	 t;
	struct buf		 want, fix, name, merged;
	SPF_response_t		*resp;
	SPF_record_t		*rec;
	const char		*f;
};

/*
 * The SPF record of the envelope domain: one, ASCII, compiling.  *rtxt is
 * it, or NULL after saying what is wrong.  Returns 0, or -1 out of
 * memory (nothing more is checked).
 */
static int
doctor_spf_record(struct doctor *d, struct doctor_spf_st *s,
    const char **rtxt)
{
	const struct conf	*cf = d->cf;
	SPF_errcode_t		 err;
	char			 why[DOCTOR_SHOW + 64], esc[DOCTOR_SHOW];
	size_t			 i, nspf = 0, idx = 0;
	enum doctor_dns		 r;

	*rtxt = NULL;
	r = doctor_txt(d, d->envdom, &s->t, why, sizeof(why));
	if (r == DNS_FAIL) {
		doctor_say(d, D_FAIL, "check the resolver and the zone's name "
		    "servers", "SPF %s: %s", d->envdom, why);
		return 0;
	}
	for (i = 0; i < s->t.n; i++)
		if (spf_is_record(s->t.v[i], s->t.len[i])) {
			nspf++;
			idx = i;
		}
	if (nspf == 0) {
		doctor_say(d, D_FAIL, s->f, "SPF %s: no SPF record (%s)",
		    d->envdom, r == DNS_NXDOMAIN ? "no such name" :
		    s->t.n ? "no TXT starts v=spf1" : "no TXT record");
		return 0;
	}
	if (nspf > 1) {
		if (cf->sender_spf == NULL && doctor_spf_merge(&s->t,
		    &s->merged) == 0)
			s->f = doctor_publish(&s->fix, "merge them into one: ",
			    s->name.data, s->merged.data);
		else if (cf->sender_spf != NULL)
			s->f = doctor_publish(&s->fix, "merge them into one: ",
			    s->name.data, s->want.data);
		else
			s->f = "merge them into one record (v=spf1 ... -all)";
		doctor_say(d, D_FAIL, s->f, "SPF %s: %zu SPF records (RFC 7208 "
		    "4.5: permerror)", d->envdom, nspf);
		return 0;
	}
	if (!doctor_ascii(s->t.v[idx], s->t.len[idx])) {
		doctor_say(d, D_FAIL, s->f, "SPF %s: the record holds octets "
		    "SPF does not allow: \"%s\"", d->envdom, doctor_esc(esc,
		    sizeof(esc), s->t.v[idx], s->t.len[idx]));
		return 0;
	}
	if ((s->resp = SPF_response_new(NULL)) == NULL)
		return -1;
	err = SPF_record_compile(d->spf, s->resp, &s->rec, s->t.v[idx]);
	if (err != SPF_E_SUCCESS) {
		doctor_say(d, D_FAIL, s->f, "SPF %s: invalid record (%s, RFC "
		    "7208 permerror): \"%s\"", d->envdom, SPF_strerror(err),
		    doctor_esc(esc, sizeof(esc), s->t.v[idx], s->t.len[idx]));
		return 0;
	}
	doctor_say(d, D_OK, NULL, "SPF %s: one valid record: \"%s\"",
	    d->envdom, doctor_esc(esc, sizeof(esc), s->t.v[idx],
	    s->t.len[idx]));
	*rtxt = s->t.v[idx];
	return 0;
}

/* The relay's addresses against rtxt (the published record), and, where
 * it fails, against the record sender.spf asks for. */
static void
doctor_spf_relay(struct doctor *d, struct doctor_spf_st *s,
    const char *rtxt)
{
	const struct conf	*cf = d->cf;
	SPF_result_t		 res;
	const char		*f;
	char			 why[DOCTOR_SHOW + 64], esc[DOCTOR_SHOW];
	size_t			 i;
	int			 want_ok;

	if (d->naddr == 0) {
		doctor_say(d, D_SKIP, NULL, "SPF %s: relay not checked (no "
		    "address for %s)", d->envdom, d->host);
		return;
	}
	if (rtxt == NULL) {
		doctor_say(d, D_SKIP, NULL, "SPF %s: relay %s not checked (no "
		    "single valid SPF record)", d->envdom, d->host);
		return;
	}
	for (i = 0; i < d->naddr; i++) {
		res = doctor_spf_eval(d, rtxt, d->addr[i], why, sizeof(why));
		if (res == SPF_RESULT_PASS) {
			doctor_say(d, D_OK, NULL, "SPF %s: pass for the relay "
			    "%s address %s (MAIL FROM %s)", d->envdom, d->host,
			    d->addr[i], cf->envelope_from);
			continue;
		}
		want_ok = s->want.data != NULL && doctor_spf_eval(d,
		    s->want.data, d->addr[i], esc, sizeof(esc)) ==
		    SPF_RESULT_PASS;
		if (want_ok)
			f = doctor_publish(&s->fix, "publish: ", s->name.data,
			    s->want.data);
		else {
			buf_reset(&s->fix);
			if (buf_printf(&s->fix, "%s the relay's mechanism to "
			    "sender.spf (ip%c:%s, or your provider's include:), "
			    "then publish the record `form2mail dns` prints",
			    cf->sender_spf ? "sender.spf does not authorize "
			    "it either: add" : "add", strchr(d->addr[i], ':') ?
			    '6' : '4', d->addr[i]) == -1)
				f = "add the relay to sender.spf";
			else
				f = s->fix.data;
		}
		doctor_say(d, D_FAIL, f, "SPF %s: %s for the relay %s address "
		    "%s (MAIL FROM %s)%s%s", d->envdom, SPF_strresult(res),
		    d->host, d->addr[i], cf->envelope_from, why[0] ? ": " : "",
		    why);
	}
}

void
doctor_spf(struct doctor *d)
{
	const struct conf	*cf = d->cf;
	struct doctor_spf_st	 s = { .want = BUF_INIT, .fix = BUF_INIT,
				    .name = BUF_INIT, .merged = BUF_INIT };
	const char		*rtxt;

	memset(&s.t, 0, sizeof(s.t));
	if (buf_printf(&s.name, "%s.", d->envdom) == -1)
		goto out;
	if (cf->sender_spf != NULL) {
		if (doctor_spf_want(cf->sender_spf, &s.want) == -1)
			goto out;
		s.f = doctor_publish(&s.fix, "publish: ", s.name.data,
		    s.want.data);
	} else
		s.f = "set sender.spf to the mechanisms of your SMTP relay "
		    "(include:..., ip4:...), then publish the record "
		    "`form2mail dns` prints";
	if (doctor_spf_record(d, &s, &rtxt) == 0)
		doctor_spf_relay(d, &s, rtxt);
out:
	if (s.rec != NULL)
		SPF_record_free(s.rec);
	if (s.resp != NULL)
		SPF_response_free(s.resp);
	doctor_txt_free(&s.t);
	buf_free(&s.want);
	buf_free(&s.fix);
	buf_free(&s.name);
	buf_free(&s.merged);
}
