/*
 * doctor_policy: the DMARC check of `form2mail doctor`: the record
 * (RFC 7489), at From's domain or its organizational domain, and the
 * alignment of the DKIM and envelope domains with From; see doctor.h.
 * The SPF check itself is doctor_spf.c.
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

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"

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

/*
 * The DMARC TXT at name (_dmarc.<From's domain>), or at its
 * organizational domain when there is none (RFC 7489 6.6.3; here: the
 * last two labels).  *at is the name that answered, *org that domain or
 * NULL.  Returns the lookup's enum doctor_dns, or -1 out of memory.
 */
static int
doctor_dmarc_lookup(struct doctor *d, struct doctor_txt *t, struct buf *name,
    const char **at, const char **org, char *w, size_t wsize)
{
	enum doctor_dns		 r;

	*at = name->data;
	r = doctor_txt(d, *at, t, w, wsize);
	if ((r == DNS_NXDOMAIN || r == DNS_NODATA) &&
	    (*org = doctor_two_labels(d->fromdom)) != NULL &&
	    strcasecmp(*org, d->fromdom) != 0) {
		buf_reset(name);
		if (buf_printf(name, "_dmarc.%s", *org) == -1)
			return -1;
		if ((r = doctor_txt(d, name->data, t, w, wsize)) ==
		    DNS_OK || r == DNS_FAIL)
			*at = name->data;
		if (r != DNS_OK)
			*org = NULL;
	} else
		*org = NULL;
	return r;
}

/* The one DMARC record among t, parsed into *dm and reported.  Returns 1
 * when there is one, else 0 after saying why (the fix f). */
static int
doctor_dmarc_record(struct doctor *d, const struct doctor_txt *t,
    const char *at, const char *org, const char *f, struct doctor_dmarc *dm)
{
	static const char *const pname[] = { "none", "quarantine", "reject" };
	const char		*why = NULL;
	char			 esc[DOCTOR_SHOW], pct[32];
	size_t			 i, n = 0, idx = 0;

	/* RFC 7489 6.6.3: records not starting v=DMARC1 are discarded. */
	for (i = 0; i < t->n; i++)
		if (doctor_is_dmarc(t->v[i], t->len[i])) {
			n++;
			idx = i;
		}
	if (n == 0) {
		doctor_say(d, D_FAIL, f, "DMARC _dmarc.%s: no DMARC record",
		    d->fromdom);
		return 0;
	}
	if (n > 1) {
		doctor_say(d, D_FAIL, f, "DMARC %s: %zu DMARC records (RFC 7489 "
		    "6.6.3: none applies); keep one", at, n);
		return 0;
	}
	if (doctor_dmarc_parse(t->v[idx], t->len[idx], dm, &why) == -1) {
		doctor_say(d, D_FAIL, f, "DMARC %s: %s: \"%s\"", at, why,
		    doctor_esc(esc, sizeof(esc), t->v[idx], t->len[idx]));
		return 0;
	}
	pct[0] = '\0';
	if (dm->pct < 100)
		snprintf(pct, sizeof(pct), ", pct=%d", dm->pct);
	if (dm->p == DOCTOR_P_NONE)
		doctor_say(d, D_WARN, NULL, "DMARC %s: p=none: receivers only "
		    "report; publish p=quarantine once the reports are "
		    "clean%s: \"%s\"", at, org ? " (found at the parent, "
		    "taken as the organizational domain)" : "", doctor_esc(esc,
		    sizeof(esc), t->v[idx], t->len[idx]));
	else
		doctor_say(d, D_OK, NULL, "DMARC %s: policy %s%s%s: \"%s\"",
		    at, pname[org ? dm->sp : dm->p], pct, org ? " (found at "
		    "the parent, taken as the organizational domain)" : "",
		    doctor_esc(esc, sizeof(esc), t->v[idx], t->len[idx]));
	return 1;
}

/* DMARC passes when DKIM or SPF passes aligned (RFC 7489 4.2); have: a
 * record was found, so dm's adkim and aspf count. */
static void
doctor_dmarc_align(struct doctor *d, const struct doctor_dmarc *dm,
    int have)
{
	size_t	 i, j;
	int	 dkim_al = 0, spf_al = 0;

	for (i = 0; i < d->cf->ndkim; i++) {
		for (j = 0; j < i; j++)
			if (strcasecmp(d->cf->dkim[j].domain,
			    d->cf->dkim[i].domain) == 0)
				break;
		if (j == i)
			doctor_align_line(d, "DKIM d=", d->cf->dkim[i].domain,
			    have && dm->adkim_strict, &dkim_al);
	}
	doctor_align_line(d, "envelope (SPF)", d->envdom, have &&
	    dm->aspf_strict, &spf_al);
	if (!dkim_al && !spf_al)
		doctor_say(d, D_FAIL, "sign with a DKIM key of the From domain "
		    "(dkim[].domain), or use an envelope_from on it", "DMARC "
		    "%s: neither DKIM nor SPF can align with From", d->fromdom);
	else if (!dkim_al)
		doctor_say(d, D_WARN, NULL, "DMARC %s: no DKIM domain aligns: "
		    "DMARC rests on SPF alone, which forwarding breaks",
		    d->fromdom);
}

void
doctor_dmarc(struct doctor *d)
{
	struct doctor_txt	 t;
	struct doctor_dmarc	 dm;
	struct buf		 name = BUF_INIT, fix = BUF_INIT;
	const char		*f, *org = NULL, *at;
	char			 w[160];
	int			 r, have = 0;

	memset(&t, 0, sizeof(t));
	memset(&dm, 0, sizeof(dm));
	if (buf_printf(&name, "_dmarc.%s.", d->fromdom) == -1)
		goto out;
	f = doctor_publish(&fix, "publish: ", name.data,
	    "v=DMARC1; p=quarantine");
	name.data[--name.len] = '\0';
	if ((r = doctor_dmarc_lookup(d, &t, &name, &at, &org, w,
	    sizeof(w))) == -1)
		goto out;
	if (r == DNS_FAIL)
		doctor_say(d, D_FAIL, "check the resolver and the zone's name "
		    "servers", "DMARC %s: %s", at, w);
	else
		have = doctor_dmarc_record(d, &t, at, org, f, &dm);
	doctor_dmarc_align(d, &dm, have);
out:
	doctor_txt_free(&t);
	buf_free(&name);
	buf_free(&fix);
}
