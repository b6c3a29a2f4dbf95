/*
 * doctor_dkim: the DKIM check of `form2mail doctor` (the published key
 * against the one the config signs with) and the tag-list parsing
 * (RFC 6376 3.2) that DKIM and DMARC records share; see doctor.h.
 */
#include <sys/types.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"

#define DOCTOR_KEY_MAX		2048	/* p= of an RSA 8192 key < 1.5 KiB */
#define DOCTOR_TAGS_MAX		64	/* tags of one tag-list */

int
doctor_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
doctor_tag(const char *rec, size_t len, const char *tag, char *val,
    size_t valsize)
{
	const char	*p = rec, *end = rec + len, *e, *eq, *ts, *te, *vs, *ve;
	const char	*q, *names[DOCTOR_TAGS_MAX];
	size_t		 o, i, nnames = 0, nlen[DOCTOR_TAGS_MAX];
	size_t		 tl = strlen(tag);
	int		 found = 0;

	if (valsize == 0)
		return -1;
	val[0] = '\0';
	if (memchr(rec, '\0', len) != NULL)
		return -1;
	for (; p < end; p = e + 1) {
		for (e = p; e < end && *e != ';'; e++)
			;
		for (ts = p; ts < e && doctor_wsp(*ts); ts++)
			;
		if (ts == e)
			continue;	/* empty element, e.g. after a final ';' */
		if ((eq = memchr(ts, '=', (size_t)(e - ts))) == NULL)
			goto bad;
		for (te = eq; te > ts && doctor_wsp(te[-1]); te--)
			;
		/* tag-name = ALPHA *ALNUMPUNC (RFC 6376 3.2) */
		if (te == ts || !isalpha((unsigned char)*ts))
			goto bad;
		for (q = ts; q < te; q++)
			if (!isalnum((unsigned char)*q) && *q != '_')
				goto bad;
		/* RFC 6376 3.2: a tag twice makes the whole list invalid. */
		for (i = 0; i < nnames; i++)
			if (nlen[i] == (size_t)(te - ts) &&
			    memcmp(names[i], ts, nlen[i]) == 0)
				goto bad;
		if (nnames == DOCTOR_TAGS_MAX)
			goto bad;
		names[nnames] = ts;
		nlen[nnames++] = (size_t)(te - ts);
		for (vs = eq + 1; vs < e && doctor_wsp(*vs); vs++)
			;
		for (ve = e; ve > vs && doctor_wsp(ve[-1]); ve--)
			;
		for (q = vs; q < ve; q++)
			if (((unsigned char)*q < 0x20 && !doctor_wsp(*q)) ||
			    *q == 0x7f)
				goto bad;
		if ((size_t)(te - ts) != tl || memcmp(ts, tag, tl) != 0)
			continue;
		found = 1;
		for (o = 0, q = vs; q < ve; q++) {
			if (tl == 1 && tag[0] == 'p' && doctor_wsp(*q))
				continue;
			if (o + 1 >= valsize)
				goto bad;
			val[o++] = *q;
		}
		val[o] = '\0';
	}
	return found;
bad:
	val[0] = '\0';
	return -1;
}

/* Whether the first tag of a tag-list is v (RFC 6376 3.6.1, RFC 7489 6.4). */
int
doctor_v_first(const char *rec, size_t len)
{
	size_t	 i = 0;

	while (i < len && doctor_wsp(rec[i]))
		i++;
	if (i == len || rec[i] != 'v')
		return 0;
	for (i++; i < len && doctor_wsp(rec[i]); i++)
		;
	return i < len && rec[i] == '=';
}

/* Whether flag f is in a colon-separated list such as t=y:s. */
static int
doctor_has_flag(const char *list, const char *f)
{
	const char	*p = list;
	size_t		 n, fl = strlen(f);

	while (*p != '\0') {
		n = strcspn(p, ":");
		while (n > 0 && doctor_wsp(*p)) {
			p++;
			n--;
		}
		if (n >= fl && strncmp(p, f, fl) == 0) {
			size_t	 k;

			for (k = fl; k < n && doctor_wsp(p[k]); k++)
				;
			if (k == n)
				return 1;
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return 0;
}

enum doctor_dkim
doctor_dkim_compare(const char *pub, size_t len, const char *expected)
{
	char	 v[16], k[32], ek[32], t[64];
	char	 p[DOCTOR_KEY_MAX], ep[DOCTOR_KEY_MAX];
	int	 r;

	if ((r = doctor_tag(pub, len, "v", v, sizeof(v))) == -1 ||
	    (r == 1 && (strcmp(v, "DKIM1") != 0 || !doctor_v_first(pub, len))))
		return DOCTOR_DKIM_INVALID;
	if (doctor_tag(pub, len, "p", p, sizeof(p)) != 1)
		return DOCTOR_DKIM_INVALID;
	if ((r = doctor_tag(pub, len, "k", k, sizeof(k))) == -1)
		return DOCTOR_DKIM_INVALID;
	if (r == 0)
		snprintf(k, sizeof(k), "rsa");	/* RFC 6376 3.6.1 default */
	if ((r = doctor_tag(pub, len, "t", t, sizeof(t))) == -1)
		return DOCTOR_DKIM_INVALID;
	if (r == 0)
		t[0] = '\0';
	if (doctor_tag(expected, strlen(expected), "k", ek, sizeof(ek)) != 1 ||
	    doctor_tag(expected, strlen(expected), "p", ep, sizeof(ep)) != 1)
		return DOCTOR_DKIM_INVALID;
	if (p[0] == '\0')
		return DOCTOR_DKIM_REVOKED;
	if (strcasecmp(k, ek) != 0)
		return DOCTOR_DKIM_OTHER_TYPE;
	if (strcmp(p, ep) != 0)
		return DOCTOR_DKIM_OTHER_KEY;
	return doctor_has_flag(t, "y") ? DOCTOR_DKIM_TESTING : DOCTOR_DKIM_MATCH;
}

const char *
doctor_alg(const struct conf_dkim *k)
{
	return k->alg == CONF_DKIM_RSA_SHA256 ? "rsa-sha256" :
	    "ed25519-sha256";
}

/* The published key t (one TXT) against the expected record, said for
 * the key k at name; f: the fix shown with a failure. */
static void
doctor_dkim_verdict(struct doctor *d, const struct conf_dkim *k,
    const char *name, const char *f, const struct doctor_txt *t,
    const char *expected)
{
	char	 esc[DOCTOR_SHOW];

	switch (doctor_dkim_compare(t->v[0], t->len[0], expected)) {
	case DOCTOR_DKIM_MATCH:
		doctor_say(d, D_OK, NULL, "DKIM %s: TXT matches the key (%s)",
		    name, doctor_alg(k));
		break;
	case DOCTOR_DKIM_TESTING:
		doctor_say(d, D_WARN, NULL, "DKIM %s: TXT matches the key (%s) "
		    "but says t=y (testing): receivers may treat the "
		    "signature as absent; drop t=y when done", name,
		    doctor_alg(k));
		break;
	case DOCTOR_DKIM_REVOKED:
		doctor_say(d, D_FAIL, f, "DKIM %s: p= is empty: the key is "
		    "revoked (RFC 6376 3.6.1)", name);
		break;
	case DOCTOR_DKIM_OTHER_KEY:
		doctor_say(d, D_FAIL, f, "DKIM %s: TXT holds another public "
		    "key than %s", name, k->key_file);
		break;
	case DOCTOR_DKIM_OTHER_TYPE:
		doctor_say(d, D_FAIL, f, "DKIM %s: TXT names another key type "
		    "(k=) than %s", name, doctor_alg(k));
		break;
	case DOCTOR_DKIM_INVALID:
		doctor_say(d, D_FAIL, f, "DKIM %s: not a DKIM key record: "
		    "\"%s\"", name, doctor_esc(esc, sizeof(esc), t->v[0],
		    t->len[0]));
		break;
	}
}

static void
doctor_dkim_key(struct doctor *d, size_t i)
{
	const struct conf_dkim	*k = &d->cf->dkim[i];
	struct doctor_txt	 t;
	struct buf		 name = BUF_INIT, fix = BUF_INIT;
	const char		*f;
	char			 why[160];
	enum doctor_dns		 r;

	if (buf_printf(&name, "%s._domainkey.%s", k->selector,
	    k->domain) == -1) {
		doctor_say(d, D_FAIL, "retry", "DKIM: out of memory");
		return;
	}
	if (d->dkim_txt[i] == NULL) {
		doctor_say(d, D_FAIL, "run doctor as root (the key stays 0600, "
		    "like the deliverer reads it)", "DKIM %s: cannot read the "
		    "key: %s", name.data, d->dkim_err[i] ? d->dkim_err[i] :
		    "out of memory");
		goto out;
	}
	if (buf_addc(&name, '.') == -1)
		goto out;
	f = doctor_publish(&fix, "publish: ", name.data, d->dkim_txt[i]);
	name.data[--name.len] = '\0';
	r = doctor_txt(d, name.data, &t, why, sizeof(why));
	if (r == DNS_FAIL) {
		doctor_say(d, D_FAIL, "check the resolver and the zone's name "
		    "servers", "DKIM %s: %s", name.data, why);
		goto out;
	}
	if (r != DNS_OK) {
		doctor_say(d, D_FAIL, f, "DKIM %s: no TXT record (%s)",
		    name.data, r == DNS_NXDOMAIN ? "no such name" : "no data");
		goto out;
	}
	if (t.n + t.bad > 1) {
		doctor_say(d, D_FAIL, f, "DKIM %s: %zu TXT records (RFC 6376 "
		    "3.6.2.2: the result is undefined); keep exactly one",
		    name.data, t.n + t.bad);
		goto free;
	}
	if (t.n == 0) {
		doctor_say(d, D_FAIL, f, "DKIM %s: the TXT record is malformed "
		    "or longer than %d octets", name.data, DOCTOR_TXT_MAX);
		goto free;
	}
	doctor_dkim_verdict(d, k, name.data, f, &t, d->dkim_txt[i]);
free:
	doctor_txt_free(&t);
out:
	buf_free(&name);
	buf_free(&fix);
}

void
doctor_dkim(struct doctor *d)
{
	size_t	 i;

	for (i = 0; i < d->cf->ndkim; i++)
		doctor_dkim_key(d, i);
}
