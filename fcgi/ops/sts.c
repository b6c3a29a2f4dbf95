/*
 * sts: MTA-STS, TLS-RPT and TLSA parsing; see sts.h.
 *
 * Everything here is the conservative reading: what cannot be read
 * unambiguously is refused, and a refused record or policy makes doctor
 * report the domain as not protected, never as protected.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/addr.h"
#include "ops/sts.h"

#define STS_EXT_NAME_MAX	32	/* (ALPHA / DIGIT) *31(...) */

static int
sts_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int
sts_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
static int
sts_ext_name(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || n > STS_EXT_NAME_MAX || !sts_alnum(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!sts_alnum(s[i]) && s[i] != '_' && s[i] != '-' &&
		    s[i] != '.')
			return 0;
	return 1;
}

/* ext-value = 1*(%x21-3A / %x3C / %x3E-7E): VCHAR but ";" and "=". */
static int
sts_ext_value(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e || c == ';' || c == '=')
			return 0;
	}
	return 1;
}

/*
 * The elements of a "v=X; a=b; c=d" record, in order.  Calls fn for each
 * after the first (name, value; surrounding WSP removed); fn returns 0 or
 * -1 (malformed).  The first element must be exactly ver and be followed
 * by ';': else 0 (not this kind of record).  An empty element is
 * allowed only at the end (one final ';').  Returns 1, 0, or -1.
 */
static int
sts_fields(const char *s, size_t len, const char *ver,
    int (*fn)(void *, const char *, size_t, const char *, size_t),
    void *arg, const char **why)
{
	const char	*p, *end = s + len, *e, *a, *b, *eq;
	size_t		 vl = strlen(ver);

	if (memchr(s, '\0', len) != NULL) {
		/* A NUL cannot start a version tag: not ours, or bad. */
		if (len >= vl && memcmp(s, ver, vl) == 0) {
			*why = "a NUL octet inside the record";
			return -1;
		}
		return 0;
	}
	if (len < vl || memcmp(s, ver, vl) != 0)
		return 0;
	for (p = s + vl; p < end && sts_wsp(*p); p++)
		;
	if (p == end || *p != ';')
		return 0;	/* "v=STSv1x" or no ";": not this record */
	for (p++; p < end; p = e + 1) {
		for (e = p; e < end && *e != ';'; e++)
			;
		for (a = p; a < e && sts_wsp(*a); a++)
			;
		for (b = e; b > a && sts_wsp(b[-1]); b--)
			;
		if (a == b) {
			if (e == end)
				break;	/* a final ";" (and WSP) */
			*why = "an empty field between two \";\"";
			return -1;
		}
		if ((eq = memchr(a, '=', (size_t)(b - a))) == NULL) {
			*why = "a field without \"=\"";
			return -1;
		}
		if (!sts_ext_name(a, (size_t)(eq - a))) {
			*why = "a bad field name";
			return -1;
		}
		if (fn(arg, a, (size_t)(eq - a), eq + 1,
		    (size_t)(b - eq - 1)) == -1) {
			*why = "a bad field value";
			return -1;
		}
		if (e == end)
			break;
	}
	return 1;
}

struct sts_txt_ctx {
	char	*id;
	size_t	 idsize;
	int	 have;
};

static int
sts_txt_field(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
	struct sts_txt_ctx	*c = arg;
	size_t			 i;

	if (nl == 2 && memcmp(n, "id", 2) == 0) {
		if (c->have || vl == 0 || vl > STS_ID_MAX || vl >= c->idsize)
			return -1;
		for (i = 0; i < vl; i++)
			if (!sts_alnum(v[i]))
				return -1;
		memcpy(c->id, v, vl);
		c->id[vl] = '\0';
		c->have = 1;
		return 0;
	}
	if (nl == 1 && n[0] == 'v')
		return -1;	/* v= twice */
	return sts_ext_value(v, vl) ? 0 : -1;
}

int
sts_txt_parse(const char *txt, size_t len, char *id, size_t idsize,
    const char **why)
{
	struct sts_txt_ctx	 c = { id, idsize, 0 };
	int			 r;

	*why = "malformed";
	if (idsize == 0)
		return -1;
	id[0] = '\0';
	if ((r = sts_fields(txt, len, "v=STSv1", sts_txt_field, &c, why)) != 1)
		goto out;
	if (!c.have) {
		*why = "no id= (1 to 32 letters and digits)";
		r = -1;
	}
out:
	if (r != 1)
		id[0] = '\0';
	return r;
}

/* ["*."] Domain (RFC 8461 3.2, RFC 5321 4.1.2), at least two labels. */
static int
sts_mx_pattern(const char *s, size_t n)
{
	size_t	 i, start, labels = 0;

	if (n >= 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > STS_NAME_MAX)
		return 0;
	for (start = i = 0; i <= n; i++)
		if (i == n || s[i] == '.') {
			/* one label: LDH, 1 to 63 octets, no '-' at either end */
			if (!addr_ldh_ok(s + start, i - start, ADDR_MAX_LABEL))
				return 0;
			labels++;
			start = i + 1;
		}
	return labels >= 2;
}

static int
sts_digits(const char *s, size_t n, size_t max, long *out)
{
	size_t	 i;
	long	 v = 0;

	if (n == 0 || n > max)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* What one policy parse has seen so far. */
struct sts_pstate {
	struct sts_policy	*out;
	int			 have_v, have_m, have_a;
};

static int
sts_key_version(struct sts_pstate *st, const char *v, size_t vl,
    const char **why)
{
	if (st->have_v++ || vl != 5 || memcmp(v, "STSv1", 5) != 0) {
		*why = "version is not STSv1 (or given twice)";
		return -1;
	}
	return 0;
}

static int
sts_key_mode(struct sts_pstate *st, const char *v, size_t vl,
    const char **why)
{
	if (st->have_m++) {
		*why = "mode given twice";
		return -1;
	}
	if (vl == 7 && memcmp(v, "enforce", 7) == 0)
		st->out->mode = STS_MODE_ENFORCE;
	else if (vl == 7 && memcmp(v, "testing", 7) == 0)
		st->out->mode = STS_MODE_TESTING;
	else if (vl == 4 && memcmp(v, "none", 4) == 0)
		st->out->mode = STS_MODE_NONE;
	else {
		*why = "mode is not enforce, testing or none";
		return -1;
	}
	return 0;
}

static int
sts_key_max_age(struct sts_pstate *st, const char *v, size_t vl,
    const char **why)
{
	if (st->have_a++ || sts_digits(v, vl, 10, &st->out->max_age) == -1 ||
	    st->out->max_age > STS_MAX_AGE_MAX) {
		*why = "max_age is not 0 to 31557600 seconds (or given twice)";
		return -1;
	}
	return 0;
}

static int
sts_key_mx(struct sts_pstate *st, const char *v, size_t vl,
    const char **why)
{
	struct sts_policy	*out = st->out;
	size_t			 i;

	if (!sts_mx_pattern(v, vl)) {
		*why = "an mx line is not a host name or *.domain";
		return -1;
	}
	if (out->nmx == STS_MX_MAX) {
		out->mx_over++;
		return 0;
	}
	for (i = 0; i < vl; i++)
		out->mx[out->nmx][i] = (char)tolower((unsigned char)v[i]);
	out->mx[out->nmx++][vl] = '\0';
	return 0;
}

/* The keys of a policy (RFC 8461 3.2); any other is an extension. */
static const struct sts_key {
	const char	*name;
	size_t		 len;
	int		(*fn)(struct sts_pstate *, const char *, size_t,
			    const char **);
} sts_keys[] = {
	{ "version", 7, sts_key_version },
	{ "mode", 4, sts_key_mode },
	{ "max_age", 7, sts_key_max_age },
	{ "mx", 2, sts_key_mx },
};

/* One line [a, b) of a policy, WSP and the line end removed.  Returns 0,
 * or -1 with *why set. */
static int
sts_policy_line(struct sts_pstate *st, const char *a, const char *b,
    const char **why)
{
	const char	*colon, *v;
	size_t		 kl, vl, i;

	for (i = 0; i < (size_t)(b - a); i++) {
		unsigned char c = (unsigned char)a[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "a control octet or NUL in the policy";
			return -1;
		}
	}
	if (a == b)
		return 0;	/* blank line */
	if ((colon = memchr(a, ':', (size_t)(b - a))) == NULL) {
		*why = "a line without \"key: value\"";
		return -1;
	}
	kl = (size_t)(colon - a);
	for (v = colon + 1; v < b && sts_wsp(*v); v++)
		;
	vl = (size_t)(b - v);
	if (!sts_ext_name(a, kl)) {
		*why = "a bad key name";
		return -1;
	}
	for (i = 0; i < sizeof(sts_keys) / sizeof(sts_keys[0]); i++)
		if (kl == sts_keys[i].len && memcmp(a, sts_keys[i].name,
		    kl) == 0)
			return sts_keys[i].fn(st, v, vl, why);
	if (vl == 0) {
		/* An extension: printable ASCII or UTF-8 octets. */
		*why = "a key without a value";
		return -1;
	}
	return 0;
}

int
sts_policy_parse(const char *body, size_t len, struct sts_policy *out,
    const char **why)
{
	struct sts_pstate	 st = { out, 0, 0, 0 };
	const char		*p, *end = body + len, *e, *a, *b;

	memset(out, 0, sizeof(*out));
	if (len > STS_POLICY_MAX) {
		*why = "the policy is over 64 KiB";
		goto bad;
	}
	for (p = body; p < end; p = e < end ? e + 1 : end) {
		for (e = p; e < end && *e != '\n'; e++)
			;
		b = e;
		if (b > p && b[-1] == '\r')
			b--;
		for (a = p; a < b && sts_wsp(*a); a++)
			;
		while (b > a && sts_wsp(b[-1]))
			b--;
		if (sts_policy_line(&st, a, b, why) == -1)
			goto bad;
	}
	if (!st.have_v || !st.have_m || !st.have_a) {
		*why = "version, mode and max_age are required";
		goto bad;
	}
	if (out->mode != STS_MODE_NONE && out->nmx == 0) {
		*why = "no mx line (required unless mode is none)";
		goto bad;
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

int
sts_mx_match(const char *pat, const char *host)
{
	size_t	 pl = strlen(pat), hl = strlen(host), i;

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (pl == 0 || hl == 0)
		return 0;
	if (pl >= 2 && pat[0] == '*' && pat[1] == '.') {
		/* "*.example.com": exactly one more label on the left. */
		pl -= 1;	/* ".example.com" */
		if (hl <= pl || strncasecmp(host + hl - pl, pat + 1, pl) != 0)
			return 0;
		for (i = 0; i < hl - pl; i++)
			if (host[i] == '.')
				return 0;
		return 1;
	}
	return pl == hl && strncasecmp(pat, host, hl) == 0;
}

struct sts_rpt_ctx {
	char	*rua;
	size_t	 ruasize;
	int	 have;
};

/* One URI of rua=: mailto:local@domain or https://host..., no WSP. */
static int
sts_rua_uri(const char *u, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c < 0x21 || c > 0x7e || c == ';' || c == '!')
			return 0;
	}
	if (n > 7 && strncasecmp(u, "mailto:", 7) == 0)
		return memchr(u + 7, '@', n - 7) != NULL && u[7] != '@' &&
		    u[n - 1] != '@';
	if (n > 8 && strncasecmp(u, "https://", 8) == 0)
		return u[8] != '/';
	return 0;
}

static int
sts_rpt_field(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
	struct sts_rpt_ctx	*c = arg;
	const char		*p = v, *end = v + vl, *e, *a, *b;
	size_t			 k;

	if (nl == 1 && n[0] == 'v')
		return -1;
	if (nl != 3 || memcmp(n, "rua", 3) != 0) {
		for (k = 0; k < vl; k++)	/* ext-value, no "=" */
			if ((unsigned char)v[k] < 0x21 ||
			    (unsigned char)v[k] > 0x7e || v[k] == '=')
				return -1;
		return vl > 0 ? 0 : -1;
	}
	/* tlsrpt-rua = "rua=" uri *(*WSP "," *WSP uri): no WSP after '='. */
	if (c->have || vl == 0 || sts_wsp(v[0]))
		return -1;
	k = 0;
	c->rua[0] = '\0';
	for (; p <= end; p = e + 1) {
		for (e = p; e < end && *e != ','; e++)
			;
		for (a = p; a < e && sts_wsp(*a); a++)
			;
		for (b = e; b > a && sts_wsp(b[-1]); b--)
			;
		if (!sts_rua_uri(a, (size_t)(b - a)))
			return -1;
		/* Shown joined by ", ", cut with "..." past ruasize. */
		if (k + (k ? 2 : 0) + (size_t)(b - a) < c->ruasize) {
			if (k) {
				memcpy(c->rua + k, ", ", 2);
				k += 2;
			}
			memcpy(c->rua + k, a, (size_t)(b - a));
			k += (size_t)(b - a);
			c->rua[k] = '\0';
		} else if (c->ruasize > 4) {
			size_t	 room = c->ruasize - 4;

			if (k < room) {
				if (k)
					c->rua[k++] = ',';
				while (k < room && a < b)
					c->rua[k++] = *a++;
			}
			if (k > room)
				k = room;
			memcpy(c->rua + k, "...", 4);
			k = c->ruasize;	/* nothing more fits */
		}
		if (e == end)
			break;
	}
	c->have = 1;
	return 0;
}

int
sts_tlsrpt_parse(const char *txt, size_t len, char *rua, size_t ruasize,
    const char **why)
{
	struct sts_rpt_ctx	 c = { rua, ruasize, 0 };
	int			 r;

	*why = "malformed";
	if (ruasize == 0)
		return -1;
	rua[0] = '\0';
	r = sts_fields(txt, len, "v=TLSRPTv1", sts_rpt_field, &c, why);
	if (r == 1 && !c.have) {
		*why = "no rua= (mailto: or https: addresses for reports)";
		r = -1;
	}
	if (r != 1)
		rua[0] = '\0';
	return r;
}

int
sts_tlsa_parse(const unsigned char *rd, size_t len, struct sts_tlsa *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 4)
		return -1;
	out->usage = rd[0];
	out->selector = rd[1];
	out->mtype = rd[2];
	out->datalen = len - 3;
	if ((out->mtype == 1 && out->datalen != 32) ||
	    (out->mtype == 2 && out->datalen != 64)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int
sts_tlsa_usable(const struct sts_tlsa *t)
{
	return (t->usage == 2 || t->usage == 3) && t->selector <= 1 &&
	    t->mtype <= 2;
}
