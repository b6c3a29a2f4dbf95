/*
 * doctor_policy: the SPF and DMARC checks of `form2mail doctor`: the SPF
 * record evaluated for the relay's addresses (libspf2 over doctor_dns.c's
 * layer), the record to publish when it is missing or short, the DMARC
 * record and the alignment of the From, DKIM and envelope domains; see
 * doctor.h.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <spf2/spf.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "ops/keys.h"

int
doctor_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

static int
doctor_policy(const char *s, enum doctor_policy *p)
{
	if (strcasecmp(s, "none") == 0)
		*p = DOCTOR_P_NONE;
	else if (strcasecmp(s, "quarantine") == 0)
		*p = DOCTOR_P_QUARANTINE;
	else if (strcasecmp(s, "reject") == 0)
		*p = DOCTOR_P_REJECT;
	else
		return -1;
	return 0;
}

int
doctor_dmarc_parse(const char *rec, size_t len, struct doctor_dmarc *out,
    const char **why)
{
	char	 v[16], val[32];
	char	*end;
	long	 n;
	int	 r;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	if (doctor_tag(rec, len, "v", v, sizeof(v)) != 1 ||
	    strcmp(v, "DMARC1") != 0 || !doctor_v_first(rec, len)) {
		*why = "not a DMARC record: it must start \"v=DMARC1;\"";
		return -1;
	}
	if (doctor_tag(rec, len, "p", val, sizeof(val)) != 1 ||
	    doctor_policy(val, &out->p) == -1) {
		*why = "p= is missing or not none, quarantine or reject";
		return -1;
	}
	out->sp = out->p;
	if ((r = doctor_tag(rec, len, "sp", val, sizeof(val))) == -1 ||
	    (r == 1 && doctor_policy(val, &out->sp) == -1)) {
		*why = "sp= is not none, quarantine or reject";
		return -1;
	}
	if ((r = doctor_tag(rec, len, "adkim", val, sizeof(val))) == -1 ||
	    (r == 1 && strcmp(val, "r") != 0 && strcmp(val, "s") != 0)) {
		*why = "adkim= is not r or s";
		return -1;
	}
	out->adkim_strict = r == 1 && val[0] == 's';
	if ((r = doctor_tag(rec, len, "aspf", val, sizeof(val))) == -1 ||
	    (r == 1 && strcmp(val, "r") != 0 && strcmp(val, "s") != 0)) {
		*why = "aspf= is not r or s";
		return -1;
	}
	out->aspf_strict = r == 1 && val[0] == 's';
	if ((r = doctor_tag(rec, len, "pct", val, sizeof(val))) == -1) {
		*why = "pct= is malformed";
		return -1;
	}
	if (r == 1) {
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' ||
		    !isdigit((unsigned char)val[0]) || n < 0 || n > 100) {
			*why = "pct= is not a number from 0 to 100";
			return -1;
		}
		out->pct = (int)n;
	}
	return 0;
}

/* Length of a domain name without one final dot. */
static size_t
doctor_dlen(const char *s)
{
	size_t	 n = strlen(s);

	return n > 0 && s[n - 1] == '.' ? n - 1 : n;
}

int
doctor_align(const char *a, const char *b)
{
	size_t	 la = doctor_dlen(a), lb = doctor_dlen(b), sa, sb, common = 0;

	if (la == 0 || lb == 0)
		return 0;
	if (la == lb && strncasecmp(a, b, la) == 0)
		return 2;
	if (la > lb && a[la - lb - 1] == '.' &&
	    strncasecmp(a + la - lb, b, lb) == 0)
		return 1;
	if (lb > la && b[lb - la - 1] == '.' &&
	    strncasecmp(b + lb - la, a, la) == 0)
		return 1;
	/* Count the equal labels from the right. */
	for (;;) {
		for (sa = la; sa > 0 && a[sa - 1] != '.'; sa--)
			;
		for (sb = lb; sb > 0 && b[sb - 1] != '.'; sb--)
			;
		if (la - sa != lb - sb || la == sa ||
		    strncasecmp(a + sa, b + sb, la - sa) != 0)
			break;
		common++;
		if (sa == 0 || sb == 0)
			break;
		la = sa - 1;
		lb = sb - 1;
	}
	return common >= 2 ? -1 : 0;
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
 * conf_spf_terms() accepts them; else -1.
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
		if (!doctor_is_spf(t->v[i], t->len[i]) ||
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
	if (terms.data == NULL || conf_spf_terms(terms.data, err,
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

void
doctor_spf(struct doctor *d)
{
	const struct conf	*cf = d->cf;
	struct doctor_txt	 t;
	struct buf		 want = BUF_INIT, fix = BUF_INIT,
				 name = BUF_INIT, merged = BUF_INIT;
	SPF_response_t		*resp = NULL;
	SPF_record_t		*rec = NULL;
	SPF_errcode_t		 err;
	SPF_result_t		 res;
	const char		*f = NULL, *rtxt = NULL;
	char			 why[DOCTOR_SHOW + 64], esc[DOCTOR_SHOW];
	size_t			 i, nspf = 0, idx = 0;
	enum doctor_dns		 r;
	int			 want_ok;

	memset(&t, 0, sizeof(t));
	if (buf_printf(&name, "%s.", d->envdom) == -1)
		goto out;
	if (cf->sender_spf != NULL) {
		if (doctor_spf_want(cf->sender_spf, &want) == -1)
			goto out;
		f = doctor_publish(&fix, "publish: ", name.data, want.data);
	} else
		f = "set sender.spf to the mechanisms of your SMTP relay "
		    "(include:..., ip4:...), then publish the record "
		    "`form2mail dns` prints";
	r = doctor_txt(d, d->envdom, &t, why, sizeof(why));
	if (r == DNS_FAIL) {
		doctor_say(d, D_FAIL, "check the resolver and the zone's name "
		    "servers", "SPF %s: %s", d->envdom, why);
		goto relay;
	}
	for (i = 0; i < t.n; i++)
		if (doctor_is_spf(t.v[i], t.len[i])) {
			nspf++;
			idx = i;
		}
	if (nspf == 0) {
		doctor_say(d, D_FAIL, f, "SPF %s: no SPF record (%s)",
		    d->envdom, r == DNS_NXDOMAIN ? "no such name" :
		    t.n ? "no TXT starts v=spf1" : "no TXT record");
		goto relay;
	}
	if (nspf > 1) {
		if (cf->sender_spf == NULL && doctor_spf_merge(&t, &merged) ==
		    0)
			f = doctor_publish(&fix, "merge them into one: ",
			    name.data, merged.data);
		else if (cf->sender_spf != NULL)
			f = doctor_publish(&fix, "merge them into one: ",
			    name.data, want.data);
		else
			f = "merge them into one record (v=spf1 ... -all)";
		doctor_say(d, D_FAIL, f, "SPF %s: %zu SPF records (RFC 7208 "
		    "4.5: permerror)", d->envdom, nspf);
		goto relay;
	}
	rtxt = t.v[idx];
	if (!doctor_ascii(rtxt, t.len[idx])) {
		doctor_say(d, D_FAIL, f, "SPF %s: the record holds octets SPF "
		    "does not allow: \"%s\"", d->envdom, doctor_esc(esc,
		    sizeof(esc), rtxt, t.len[idx]));
		rtxt = NULL;
		goto relay;
	}
	if ((resp = SPF_response_new(NULL)) == NULL)
		goto out;
	err = SPF_record_compile(d->spf, resp, &rec, rtxt);
	if (err != SPF_E_SUCCESS) {
		doctor_say(d, D_FAIL, f, "SPF %s: invalid record (%s, RFC "
		    "7208 permerror): \"%s\"", d->envdom, SPF_strerror(err),
		    doctor_esc(esc, sizeof(esc), rtxt, t.len[idx]));
		rtxt = NULL;
		goto relay;
	}
	doctor_say(d, D_OK, NULL, "SPF %s: one valid record: \"%s\"",
	    d->envdom, doctor_esc(esc, sizeof(esc), rtxt, t.len[idx]));
relay:
	if (d->naddr == 0) {
		doctor_say(d, D_SKIP, NULL, "SPF %s: relay not checked (no "
		    "address for %s)", d->envdom, d->host);
		goto out;
	}
	if (rtxt == NULL) {
		doctor_say(d, D_SKIP, NULL, "SPF %s: relay %s not checked (no "
		    "single valid SPF record)", d->envdom, d->host);
		goto out;
	}
	for (i = 0; i < d->naddr; i++) {
		res = doctor_spf_eval(d, rtxt, d->addr[i], why, sizeof(why));
		if (res == SPF_RESULT_PASS) {
			doctor_say(d, D_OK, NULL, "SPF %s: pass for the relay "
			    "%s address %s (MAIL FROM %s)", d->envdom, d->host,
			    d->addr[i], cf->envelope_from);
			continue;
		}
		want_ok = want.data != NULL && doctor_spf_eval(d, want.data,
		    d->addr[i], esc, sizeof(esc)) == SPF_RESULT_PASS;
		if (want_ok)
			f = doctor_publish(&fix, "publish: ", name.data,
			    want.data);
		else {
			buf_reset(&fix);
			if (buf_printf(&fix, "%s the relay's mechanism to "
			    "sender.spf (ip%c:%s, or your provider's include:), "
			    "then publish the record `form2mail dns` prints",
			    cf->sender_spf ? "sender.spf does not authorize "
			    "it either: add" : "add", strchr(d->addr[i], ':') ?
			    '6' : '4', d->addr[i]) == -1)
				f = "add the relay to sender.spf";
			else
				f = fix.data;
		}
		doctor_say(d, D_FAIL, f, "SPF %s: %s for the relay %s address "
		    "%s (MAIL FROM %s)%s%s", d->envdom, SPF_strresult(res),
		    d->host, d->addr[i], cf->envelope_from, why[0] ? ": " : "",
		    why);
	}
out:
	if (rec != NULL)
		SPF_record_free(rec);
	if (resp != NULL)
		SPF_response_free(resp);
	doctor_txt_free(&t);
	buf_free(&want);
	buf_free(&fix);
	buf_free(&name);
	buf_free(&merged);
}

/* "v" *WSP "=" *WSP "DMARC1" then *WSP ";" or the end (RFC 7489 6.4). */
static int
doctor_is_dmarc(const char *s, size_t len)
{
	size_t	 i = 0;

	if (len == 0 || s[0] != 'v')
		return 0;
	for (i = 1; i < len && doctor_wsp(s[i]); i++)
		;
	if (i == len || s[i++] != '=')
		return 0;
	while (i < len && doctor_wsp(s[i]))
		i++;
	if (len - i < 6 || memcmp(s + i, "DMARC1", 6) != 0)
		return 0;
	for (i += 6; i < len && doctor_wsp(s[i]); i++)
		;
	return i == len || s[i] == ';';
}

/* The last two labels of a name (a stand-in for the organizational
 * domain; RFC 7489 3.2 takes it from the public suffix list). */
static const char *
doctor_two_labels(const char *s)
{
	const char	*p = s + strlen(s), *dot = NULL;
	int		 dots = 0;

	while (p > s) {
		p--;
		if (*p == '.' && ++dots == 2) {
			dot = p;
			break;
		}
	}
	return dot != NULL ? dot + 1 : NULL;
}

static void
doctor_align_line(struct doctor *d, const char *what, const char *dom,
    int strict, int *aligned)
{
	int	 a = doctor_align(d->fromdom, dom);

	if (a == 2 || (a == 1 && !strict)) {
		*aligned = 1;
		doctor_say(d, D_OK, NULL, "DMARC alignment: %s %s with From "
		    "%s (%s)", what, dom, d->fromdom, strict ? "strict" :
		    "relaxed");
	} else if (a == -1 && !strict) {
		doctor_say(d, D_WARN, NULL, "DMARC alignment: %s %s with From "
		    "%s: aligned only if they share the organizational domain "
		    "(doctor does not read the public suffix list)", what, dom,
		    d->fromdom);
	} else if (dom == d->envdom) {
		struct buf	 fix = BUF_INIT;

		/* The trap of issue 14 part 2: SPF passes for a domain that
		 * DMARC does not count. */
		if (buf_printf(&fix, "set sender.envelope_from to an address "
		    "on %s (e.g. bounces@%s) and authorize the relay in its "
		    "SPF record", d->fromdom, d->fromdom) == -1)
			buf_reset(&fix);
		doctor_say(d, D_WARN, fix.data ? fix.data : "set "
		    "sender.envelope_from on the From domain", "DMARC "
		    "alignment: %s %s is not aligned with From %s (%s): SPF "
		    "cannot make DMARC pass", what, dom, d->fromdom, strict ?
		    "strict" : "relaxed");
		buf_free(&fix);
	} else
		doctor_say(d, D_WARN, NULL, "DMARC alignment: %s %s is not "
		    "aligned with From %s (%s)", what, dom, d->fromdom,
		    strict ? "strict" : "relaxed");
}

void
doctor_dmarc(struct doctor *d)
{
	static const char *const pname[] = { "none", "quarantine", "reject" };
	struct doctor_txt	 t;
	struct doctor_dmarc	 dm;
	struct buf		 name = BUF_INIT, fix = BUF_INIT;
	const char		*f, *org = NULL, *why = NULL, *at;
	char			 w[160], esc[DOCTOR_SHOW], pct[32];
	size_t			 i, n = 0, idx = 0;
	enum doctor_dns		 r;
	int			 have = 0, dkim_al = 0, spf_al = 0;

	memset(&t, 0, sizeof(t));
	memset(&dm, 0, sizeof(dm));
	if (buf_printf(&name, "_dmarc.%s.", d->fromdom) == -1)
		goto out;
	f = doctor_publish(&fix, "publish: ", name.data,
	    "v=DMARC1; p=quarantine");
	name.data[--name.len] = '\0';
	at = name.data;
	r = doctor_txt(d, at, &t, w, sizeof(w));
	/* RFC 7489 6.6.3: none at the From domain, ask its organizational
	 * domain (here: the last two labels). */
	if ((r == DNS_NXDOMAIN || r == DNS_NODATA) &&
	    (org = doctor_two_labels(d->fromdom)) != NULL &&
	    strcasecmp(org, d->fromdom) != 0) {
		buf_reset(&name);
		if (buf_printf(&name, "_dmarc.%s", org) == -1)
			goto out;
		if ((r = doctor_txt(d, name.data, &t, w, sizeof(w))) ==
		    DNS_OK || r == DNS_FAIL)
			at = name.data;
		if (r != DNS_OK)
			org = NULL;
	} else
		org = NULL;
	if (r == DNS_FAIL) {
		doctor_say(d, D_FAIL, "check the resolver and the zone's name "
		    "servers", "DMARC %s: %s", at, w);
		goto align;
	}
	/* RFC 7489 6.6.3: records not starting v=DMARC1 are discarded. */
	for (i = 0; i < t.n; i++)
		if (doctor_is_dmarc(t.v[i], t.len[i])) {
			n++;
			idx = i;
		}
	if (n == 0) {
		doctor_say(d, D_FAIL, f, "DMARC _dmarc.%s: no DMARC record",
		    d->fromdom);
		goto align;
	}
	if (n > 1) {
		doctor_say(d, D_FAIL, f, "DMARC %s: %zu DMARC records (RFC 7489 "
		    "6.6.3: none applies); keep one", at, n);
		goto align;
	}
	if (doctor_dmarc_parse(t.v[idx], t.len[idx], &dm, &why) == -1) {
		doctor_say(d, D_FAIL, f, "DMARC %s: %s: \"%s\"", at, why,
		    doctor_esc(esc, sizeof(esc), t.v[idx], t.len[idx]));
		goto align;
	}
	have = 1;
	pct[0] = '\0';
	if (dm.pct < 100)
		snprintf(pct, sizeof(pct), ", pct=%d", dm.pct);
	if (dm.p == DOCTOR_P_NONE)
		doctor_say(d, D_WARN, NULL, "DMARC %s: p=none: receivers only "
		    "report; publish p=quarantine once the reports are "
		    "clean%s: \"%s\"", at, org ? " (found at the parent, "
		    "taken as the organizational domain)" : "", doctor_esc(esc,
		    sizeof(esc), t.v[idx], t.len[idx]));
	else
		doctor_say(d, D_OK, NULL, "DMARC %s: policy %s%s%s: \"%s\"",
		    at, pname[org ? dm.sp : dm.p], pct, org ? " (found at the "
		    "parent, taken as the organizational domain)" : "",
		    doctor_esc(esc, sizeof(esc), t.v[idx], t.len[idx]));
align:
	/* DMARC passes when DKIM or SPF passes aligned (RFC 7489 4.2). */
	for (i = 0; i < d->cf->ndkim; i++) {
		size_t	 j;

		for (j = 0; j < i; j++)
			if (strcasecmp(d->cf->dkim[j].domain,
			    d->cf->dkim[i].domain) == 0)
				break;
		if (j == i)
			doctor_align_line(d, "DKIM d=", d->cf->dkim[i].domain,
			    have && dm.adkim_strict, &dkim_al);
	}
	doctor_align_line(d, "envelope (SPF)", d->envdom, have &&
	    dm.aspf_strict, &spf_al);
	if (!dkim_al && !spf_al)
		doctor_say(d, D_FAIL, "sign with a DKIM key of the From domain "
		    "(dkim[].domain), or use an envelope_from on it", "DMARC "
		    "%s: neither DKIM nor SPF can align with From", d->fromdom);
	else if (!dkim_al)
		doctor_say(d, D_WARN, NULL, "DMARC %s: no DKIM domain aligns: "
		    "DMARC rests on SPF alone, which forwarding breaks",
		    d->fromdom);
out:
	doctor_txt_free(&t);
	buf_free(&name);
	buf_free(&fix);
}
