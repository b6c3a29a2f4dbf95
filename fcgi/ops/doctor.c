/*
 * doctor: check the DNS records and the SMTP login of a config; see
 * doctor.h.
 *
 * DNS goes through libunbound, forwarding to --resolver when given, so
 * that what is checked is what that resolver answers.  libspf2 is given a
 * DNS layer backed by the same libunbound context (doctor_spf_lookup), so
 * SPF includes, a and mx mechanisms ask the same resolver too.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <unbound.h>

#include "lib/buf.h"
#include "conf/conf.h"
#include "ops/dmarc_report.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/file.h"
#include "ops/keys.h"
#include "lib/log.h"
#include "svc/privsep.h"

#define DOCTOR_DNS_TIMEOUT	10	/* seconds per query */
#define DOCTOR_SPF_QUERIES	60	/* DNS queries of one SPF evaluation:
					   10 mechanisms, 10 MX names each
					   (RFC 7208 4.6.4), and some slack */
#define DOCTOR_KEY_MAX		2048	/* p= of an RSA 8192 key < 1.5 KiB */
#define DOCTOR_REPLY		120	/* octets of an SMTP reply shown */
#define DOCTOR_VERB		10
#define DOCTOR_TAGS_MAX		64	/* tags of one tag-list */
#define DOCTOR_SMTP_TIMEOUT	30	/* seconds, when the config has none */
#define DOCTOR_CA_MAX		(1024 * 1024)	/* octets of --sts-ca */
#define DOCTOR_ANCHOR_MAX	(64 * 1024)	/* octets of --trust-anchor */


/* ---- pure helpers ------------------------------------------------- */

int
doctor_txt_join(const unsigned char *rd, size_t len, char *out,
    size_t outsize, size_t *outlen)
{
	size_t	 i = 0, o = 0, n;

	*outlen = 0;
	if (outsize == 0)
		return -1;
	out[0] = '\0';
	if (len == 0)
		return -1;
	while (i < len) {
		n = rd[i++];
		if (n > len - i || n >= outsize - o) {
			out[0] = '\0';
			return -1;
		}
		memcpy(out + o, rd + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

int
doctor_name_text(const unsigned char *w, size_t len, char *out,
    size_t outsize)
{
	size_t	 i = 0, o = 0, n, k;
	int	 root = 0;

	if (outsize == 0)
		return -1;
	out[0] = '\0';
	while (i < len) {
		n = w[i++];
		if (n == 0) {
			root = 1;
			break;
		}
		/* 0xc0 and up are compression pointers (RFC 1035 4.1.4). */
		if (n > 63 || n > len - i)
			goto bad;
		if (o > 0) {
			if (o + 1 >= outsize)
				goto bad;
			out[o++] = '.';
		}
		for (k = 0; k < n; k++) {
			unsigned char c = w[i + k];

			if (!isalnum(c) && c != '-' && c != '_')
				goto bad;
			if (o + 1 >= outsize)
				goto bad;
			out[o++] = (char)c;
		}
		i += n;
	}
	if (!root || i != len || o == 0 || o > DOCTOR_NAME_MAX)
		goto bad;
	out[o] = '\0';
	return 0;
bad:
	out[0] = '\0';
	return -1;
}

int
doctor_is_spf(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 &&
	    (len == 6 || txt[6] == ' ');
}

static int
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
static int
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

/* ---- output -------------------------------------------------------- */

const char *
doctor_esc(char *dst, size_t dstsize, const char *s, size_t len)
{
	return log_escape(dst, dstsize, s, len);
}

void
doctor_say(struct doctor *d, enum doctor_st st, const char *fix,
    const char *fmt, ...)
{
	static const char *const word[] = { "ok", "warn", "skip", "FAIL" };
	va_list	 ap;

	if (st == D_FAIL)
		d->failed = 1;
	fprintf(d->out, "%-6s", word[st]);
	va_start(ap, fmt);
	vfprintf(d->out, fmt, ap);
	va_end(ap);
	if (fix != NULL)
		fprintf(d->out, "%s%s", DOCTOR_DASH, fix);
	fputc('\n', d->out);
	fflush(d->out);
}

/*
 * "publish: NAME TXT "..."" from keys_record(), without its newline, into
 * fix (reset first).  Returns fix->data, or a generic hint when the value
 * cannot be written as a zone-file line.
 */
static const char *
doctor_publish(struct buf *fix, const char *prefix, const char *name,
    const char *value)
{
	char	 err[256];
	size_t	 start;

	buf_reset(fix);
	if (buf_adds(fix, prefix) == -1)
		return "publish the record (out of memory)";
	start = fix->len;
	if (keys_record(fix, name, "TXT", value, err, sizeof(err)) == -1)
		return "publish the record `form2mail dns` prints";
	if (fix->len > start && fix->data[fix->len - 1] == '\n')
		fix->data[--fix->len] = '\0';
	return fix->data;
}

/* ---- DNS ----------------------------------------------------------- */

struct doctor_q {
	int			 done;
	int			 err;
	struct ub_result	*res;
};

static void
doctor_cb(void *arg, int err, struct ub_result *res)
{
	struct doctor_q	*q = arg;

	q->done = 1;
	q->err = err;
	q->res = res;
}

static long
doctor_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum doctor_dns
doctor_query_ub(struct doctor *d, struct ub_ctx *ub, const char *name,
    int type, struct ub_result **res, int *secure, char *why, size_t whysize)
{
	struct doctor_q	 q = { 0, 0, NULL };
	struct pollfd	 pfd;
	long		 deadline, left;
	int		 id, r, sec;

	(void)d;
	*res = NULL;
	if (secure != NULL)
		*secure = 0;
	snprintf(why, whysize, "no answer");
	if (strlen(name) > DOCTOR_NAME_MAX + 1) {
		snprintf(why, whysize, "name too long");
		return DNS_FAIL;
	}
	if ((r = ub_resolve_async(ub, name, type, 1, &q, doctor_cb,
	    &id)) != 0) {
		snprintf(why, whysize, "resolver: %s", ub_strerror(r));
		return DNS_FAIL;
	}
	deadline = doctor_ms() + DOCTOR_DNS_TIMEOUT * 1000L;
	while (!q.done) {
		if ((left = deadline - doctor_ms()) <= 0) {
			(void)ub_cancel(ub, id);
			snprintf(why, whysize, "no answer within %d s",
			    DOCTOR_DNS_TIMEOUT);
			return DNS_FAIL;
		}
		pfd.fd = ub_fd(ub);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((r = poll(&pfd, 1, (int)left)) == -1 && errno != EINTR) {
			(void)ub_cancel(ub, id);
			snprintf(why, whysize, "poll: %s", strerror(errno));
			return DNS_FAIL;
		}
		if (r > 0 && (r = ub_process(ub)) != 0) {
			(void)ub_cancel(ub, id);
			snprintf(why, whysize, "resolver: %s", ub_strerror(r));
			return DNS_FAIL;
		}
	}
	if (q.err != 0 || q.res == NULL) {
		snprintf(why, whysize, "resolver: %s", ub_strerror(q.err));
		ub_resolve_free(q.res);
		return DNS_FAIL;
	}
	/* RFC 4035 4.3: only a validated answer is secure; a bogus one is
	 * no answer at all (libunbound turns it into SERVFAIL). */
	if (q.res->bogus) {
		char	 esc[DOCTOR_SHOW];
		const char *wb = q.res->why_bogus ? q.res->why_bogus : "";

		snprintf(why, whysize, "DNSSEC validation failed (bogus)%s%s",
		    *wb ? ": " : "", doctor_esc(esc, sizeof(esc), wb,
		    strlen(wb)));
		ub_resolve_free(q.res);
		return DNS_FAIL;
	}
	sec = q.res->secure != 0;
	if (q.res->havedata) {
		*res = q.res;
		if (secure != NULL)
			*secure = sec;
		return DNS_OK;
	}
	r = q.res->nxdomain ? DNS_NXDOMAIN : q.res->rcode == 0 ? DNS_NODATA :
	    DNS_FAIL;
	if (r == DNS_FAIL)
		snprintf(why, whysize, "rcode %d%s", q.res->rcode,
		    q.res->rcode == 2 ? " (SERVFAIL)" : q.res->rcode == 5 ?
		    " (REFUSED)" : "");
	else if (secure != NULL)
		*secure = sec;
	ub_resolve_free(q.res);
	return (enum doctor_dns)r;
}

/* One query through d->ub (no DNSSEC verdict needed). */
static enum doctor_dns
doctor_query(struct doctor *d, const char *name, int type,
    struct ub_result **res, char *why, size_t whysize)
{
	return doctor_query_ub(d, d->ub, name, type, res, NULL, why, whysize);
}

void
doctor_txt_free(struct doctor_txt *t)
{
	size_t	 i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	memset(t, 0, sizeof(*t));
}

/* The TXT values at name, each joined (doctor_txt_join()). */
enum doctor_dns
doctor_txt(struct doctor *d, const char *name, struct doctor_txt *t,
    char *why, size_t whysize)
{
	struct ub_result	*res;
	enum doctor_dns		 r;
	char			 v[DOCTOR_TXT_MAX + 1];
	size_t			 len;
	int			 i;

	memset(t, 0, sizeof(*t));
	if ((r = doctor_query(d, name, ns_t_txt, &res, why,
	    whysize)) != DNS_OK)
		return r;
	for (i = 0; res->data[i] != NULL; i++) {
		if (t->n == DOCTOR_MAX_RR || res->len[i] < 0 ||
		    doctor_txt_join((unsigned char *)res->data[i],
		    (size_t)res->len[i], v, sizeof(v), &len) == -1) {
			t->bad++;
			continue;
		}
		if ((t->v[t->n] = malloc(len + 1)) == NULL) {
			t->bad++;
			continue;
		}
		memcpy(t->v[t->n], v, len + 1);
		t->len[t->n++] = len;
	}
	ub_resolve_free(res);
	return t->n == 0 && t->bad == 0 ? DNS_NODATA : DNS_OK;
}

/* ---- libspf2's DNS layer ------------------------------------------ */

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
	char			 v[DOCTOR_TXT_MAX + 1], why[128];
	size_t			 len, k;
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
	for (i = 0; res->data[i] != NULL && n < DOCTOR_MAX_RR; i++) {
		const unsigned char *p = (unsigned char *)res->data[i];
		size_t	 plen = res->len[i] < 0 ? 0 : (size_t)res->len[i];

		switch (type) {
		case ns_t_a:
			if (plen != sizeof(struct in_addr) ||
			    SPF_dns_rr_buf_realloc(rr, n, plen) != SPF_E_SUCCESS)
				continue;
			memcpy(&rr->rr[n]->a, p, plen);
			break;
		case ns_t_aaaa:
			if (plen != sizeof(struct in6_addr) ||
			    SPF_dns_rr_buf_realloc(rr, n, plen) != SPF_E_SUCCESS)
				continue;
			memcpy(&rr->rr[n]->aaaa, p, plen);
			break;
		case ns_t_txt:
			if (doctor_txt_join(p, plen, v, sizeof(v), &len) == -1)
				continue;
			for (k = 0; k < len; k++)
				if (v[k] == '\0')
					v[k] = 0x7f;
			if (SPF_dns_rr_buf_realloc(rr, n, len + 1) !=
			    SPF_E_SUCCESS)
				continue;
			memcpy(rr->rr[n]->txt, v, len + 1);
			break;
		case ns_t_mx:
		case ns_t_ptr:
			k = type == ns_t_mx ? 2 : 0;
			if (plen <= k || doctor_name_text(p + k, plen - k, v,
			    sizeof(v)) == -1 || SPF_dns_rr_buf_realloc(rr, n,
			    strlen(v) + 1) != SPF_E_SUCCESS)
				continue;
			memcpy(type == ns_t_mx ? rr->rr[n]->mx : rr->rr[n]->ptr,
			    v, strlen(v) + 1);
			break;
		default:
			continue;
		}
		n++;
	}
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

/* ---- the checks ---------------------------------------------------- */

const char *
doctor_domain_of(const char *addr)
{
	const char	*at;

	return addr != NULL && (at = strrchr(addr, '@')) != NULL ? at + 1 :
	    NULL;
}

static const char *
doctor_alg(const struct conf_dkim *k)
{
	return k->alg == CONF_DKIM_RSA_SHA256 ? "rsa-sha256" :
	    "ed25519-sha256";
}

static void
doctor_dkim(struct doctor *d, size_t i)
{
	const struct conf_dkim	*k = &d->cf->dkim[i];
	struct doctor_txt	 t;
	struct buf		 name = BUF_INIT, fix = BUF_INIT;
	const char		*f;
	char			 why[160], esc[DOCTOR_SHOW];
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
	switch (doctor_dkim_compare(t.v[0], t.len[0], d->dkim_txt[i])) {
	case DOCTOR_DKIM_MATCH:
		doctor_say(d, D_OK, NULL, "DKIM %s: TXT matches the key (%s)",
		    name.data, doctor_alg(k));
		break;
	case DOCTOR_DKIM_TESTING:
		doctor_say(d, D_WARN, NULL, "DKIM %s: TXT matches the key (%s) "
		    "but says t=y (testing): receivers may treat the "
		    "signature as absent; drop t=y when done", name.data,
		    doctor_alg(k));
		break;
	case DOCTOR_DKIM_REVOKED:
		doctor_say(d, D_FAIL, f, "DKIM %s: p= is empty: the key is "
		    "revoked (RFC 6376 3.6.1)", name.data);
		break;
	case DOCTOR_DKIM_OTHER_KEY:
		doctor_say(d, D_FAIL, f, "DKIM %s: TXT holds another public "
		    "key than %s", name.data, k->key_file);
		break;
	case DOCTOR_DKIM_OTHER_TYPE:
		doctor_say(d, D_FAIL, f, "DKIM %s: TXT names another key type "
		    "(k=) than %s", name.data, doctor_alg(k));
		break;
	case DOCTOR_DKIM_INVALID:
		doctor_say(d, D_FAIL, f, "DKIM %s: not a DKIM key record: "
		    "\"%s\"", name.data, doctor_esc(esc, sizeof(esc), t.v[0],
		    t.len[0]));
		break;
	}
free:
	doctor_txt_free(&t);
out:
	buf_free(&name);
	buf_free(&fix);
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

static void
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

static void
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

/* ---- the relay ----------------------------------------------------- */

/* Host, port and addresses of smtp.url (A and AAAA through d->ub). */
static void
doctor_relay(struct doctor *d)
{
	static const int	 types[] = { ns_t_a, ns_t_aaaa };
	CURLU			*u;
	struct ub_result	*res;
	char			*host = NULL, *port = NULL, why[128];
	unsigned char		 bin[16];
	size_t			 n, t;
	int			 i;

	d->naddr = 0;
	if ((u = curl_url()) == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, d->cf->smtp.url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		doctor_say(d, D_FAIL, "fix smtp.url", "SMTP %s: cannot parse "
		    "the url", d->cf->smtp.url);
		goto out;
	}
	n = strlen(host);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->port = strtol(port, NULL, 10);
	if (inet_pton(AF_INET, host, bin) == 1 ||
	    inet_pton(AF_INET6, host, bin) == 1) {
		d->literal = 1;
		snprintf(d->addr[0], sizeof(d->addr[0]), "%s", host);
		d->naddr = 1;
		goto out;
	}
	for (t = 0; t < 2; t++) {
		if (doctor_query(d, host, types[t], &res, why, sizeof(why)) !=
		    DNS_OK)
			continue;
		for (i = 0; res->data[i] != NULL &&
		    d->naddr < DOCTOR_MAX_ADDR; i++)
			if (res->len[i] == (t ? 16 : 4) && inet_ntop(t ?
			    AF_INET6 : AF_INET, res->data[i],
			    d->addr[d->naddr], INET6_ADDRSTRLEN) != NULL)
				d->naddr++;
		ub_resolve_free(res);
	}
	if (d->naddr == 0)
		doctor_say(d, D_FAIL, "check the host name in smtp.url",
		    "SMTP %s: no address (A or AAAA) for the relay", host);
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

struct doctor_smtp {
	char	 cmd[DOCTOR_VERB];	/* last command verb sent */
	int	 greeting;
	int	 auth;			/* last reply to AUTH */
	int	 noop;
	int	 forbidden;		/* MAIL, RCPT or DATA went out */
	int	 tls;
	char	 tlsver[24];
	char	 greet_text[DOCTOR_REPLY];
	char	 auth_text[DOCTOR_REPLY];
};

static int
doctor_verb(const char *p, size_t n)
{
	static const char *const verbs[] = {
		"EHLO", "HELO", "STARTTLS", "AUTH", "NOOP", "QUIT", "MAIL",
		"RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", NULL
	};
	size_t	 i;

	for (i = 0; verbs[i] != NULL; i++)
		if (strlen(verbs[i]) == n && memcmp(verbs[i], p, n) == 0)
			return 1;
	return 0;
}

/* Watches the control channel: verbs only (an AUTH line carries the
 * credentials), reply codes, and libcurl's note of the TLS version. */
static int
doctor_smtp_debug(CURL *c, curl_infotype type, char *p, size_t len,
    void *arg)
{
	struct doctor_smtp	*s = arg;
	size_t			 i, start, n, k;
	const char		*l;
	int			 code;

	(void)c;
	if (type == CURLINFO_SSL_DATA_IN || type == CURLINFO_SSL_DATA_OUT) {
		s->tls = 1;
		return 0;
	}
	if (type == CURLINFO_TEXT) {
		static const char	 m[] = "SSL connection using ";

		if (len > sizeof(m) - 1 && memcmp(p, m, sizeof(m) - 1) == 0) {
			l = p + sizeof(m) - 1;
			for (n = 0; n < len - (sizeof(m) - 1) && n <
			    sizeof(s->tlsver) - 1 && (isalnum((unsigned char)
			    l[n]) || l[n] == '.'); n++)
				s->tlsver[n] = l[n];
			s->tlsver[n] = '\0';
		}
		return 0;
	}
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	for (start = i = 0; i < len; i++) {
		if (p[i] != '\n' && i + 1 < len)
			continue;
		l = p + start;
		n = i + 1 - start;
		start = i + 1;
		if (type == CURLINFO_HEADER_OUT) {
			for (k = 0; k < n && k < DOCTOR_VERB - 1 &&
			    l[k] >= 'A' && l[k] <= 'Z'; k++)
				;
			/* An AUTH continuation is base64, not a verb. */
			if (k == 0 || (k < n && l[k] != ' ' && l[k] != '\r') ||
			    !doctor_verb(l, k))
				continue;
			memcpy(s->cmd, l, k);
			s->cmd[k] = '\0';
			if (strcmp(s->cmd, "MAIL") == 0 ||
			    strcmp(s->cmd, "RCPT") == 0 ||
			    strcmp(s->cmd, "DATA") == 0)
				s->forbidden = 1;
			continue;
		}
		if (n < 3 || !isdigit((unsigned char)l[0]) ||
		    !isdigit((unsigned char)l[1]) ||
		    !isdigit((unsigned char)l[2]))
			continue;
		code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
		while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == '\n'))
			n--;
		if (s->cmd[0] == '\0' && s->greeting == 0) {
			s->greeting = code;
			log_escape(s->greet_text, sizeof(s->greet_text), l, n);
		} else if (strcmp(s->cmd, "AUTH") == 0) {
			s->auth = code;
			log_escape(s->auth_text, sizeof(s->auth_text), l, n);
		} else if (strcmp(s->cmd, "NOOP") == 0)
			s->noop = code;
	}
	return 0;
}

static size_t
doctor_smtp_sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
doctor_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_USE_SSL_FAILED:
		return 1;
	default:
		return 0;
	}
}

/*
 * Connect, TLS with verification, EHLO, AUTH, NOOP, QUIT.  With no
 * CURLOPT_UPLOAD and no recipients libcurl sends the custom command and
 * never MAIL FROM, so no message can leave.  The connection goes to the
 * addresses checked above (CURLOPT_RESOLVE), not to a second lookup.
 */
static void
doctor_smtp(struct doctor *d)
{
	const struct conf_smtp	*c = &d->cf->smtp;
	struct doctor_smtp	 s;
	struct curl_slist	*pin = NULL, *l;
	struct buf		 b = BUF_INIT;
	CURLU			*u = NULL;
	CURL			*h = NULL;
	CURLcode		 rc;
	char			*url = NULL, *ip = NULL, path[DOCTOR_NAME_MAX + 2];
	char			 errbuf[CURL_ERROR_SIZE], esc[CURL_ERROR_SIZE * 4];
	const char		*mode;
	long			 t = c->timeout > 0 ? c->timeout :
				    DOCTOR_SMTP_TIMEOUT;
	size_t			 i;
	int			 bad = 0, tls_ok;

	memset(&s, 0, sizeof(s));
	errbuf[0] = '\0';
	mode = c->tls == CONF_SMTP_IMPLICIT ? "implicit TLS" :
	    c->tls == CONF_SMTP_STARTTLS ? "STARTTLS" : "clear text";
	if (d->naddr == 0) {
		doctor_say(d, D_SKIP, NULL, "SMTP %s: not tried (no address)",
		    d->host);
		return;
	}
	if ((u = curl_url()) == NULL || (h = curl_easy_init()) == NULL)
		goto nomem;
	snprintf(path, sizeof(path), "/%s", d->cf->hostname);
	if (curl_url_set(u, CURLUPART_URL, c->url, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		goto nomem;
	if (!d->literal) {
		if (buf_printf(&b, "%s:%ld:", d->host, d->port) == -1)
			goto nomem;
		for (i = 0; i < d->naddr; i++)
			if (buf_printf(&b, strchr(d->addr[i], ':') ? "%s[%s]" :
			    "%s%s", i ? "," : "", d->addr[i]) == -1)
				goto nomem;
		if ((l = curl_slist_append(pin, b.data)) == NULL)
			goto nomem;
		pin = l;
		bad |= curl_easy_setopt(h, CURLOPT_RESOLVE, pin) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
	    c->tls == CONF_SMTP_IMPLICIT ? "smtps" : "smtp") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_USE_SSL, c->tls == CONF_SMTP_PLAIN ?
	    (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	if (c->ca_file != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
	if (c->username != NULL && d->password != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_USERNAME, c->username) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, d->password) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_SASL_IR, 1L) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_UPLOAD, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, doctor_smtp_sink) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, t) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, t * 3) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, doctor_smtp_debug) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_DEBUGDATA, &s) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L) != CURLE_OK;
	if (bad)
		goto nomem;

	rc = curl_easy_perform(h);
	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK ||
	    ip == NULL)
		ip = NULL;
	log_escape(esc, sizeof(esc), errbuf, strlen(errbuf));
	if (esc[0] == '\0')
		snprintf(esc, sizeof(esc), "%s", curl_easy_strerror(rc));

	/* connect */
	if (s.greeting == 0 && !s.tls) {
		doctor_say(d, D_FAIL, "check smtp.url (host and port) and that "
		    "this host may reach the relay", "SMTP connect %s:%ld: %s",
		    d->host, d->port, esc);
		goto skip_rest;
	}
	if (s.greeting != 0 && s.greeting != 220) {
		doctor_say(d, D_FAIL, "ask the provider; the relay turns this "
		    "host away", "SMTP connect %s:%ld (%s): greeting \"%s\"",
		    d->host, d->port, ip ? ip : "?", s.greet_text);
		goto skip_rest;
	}
	if (s.greeting != 0)
		doctor_say(d, D_OK, NULL, "SMTP connect %s:%ld (%s): greeting "
		    "%d", d->host, d->port, ip && *ip ? ip : "?", s.greeting);
	else
		doctor_say(d, D_OK, NULL, "SMTP connect %s:%ld (%s): connected",
		    d->host, d->port, ip && *ip ? ip : "?");

	/* TLS */
	tls_ok = !doctor_tls_error(rc) && (s.greeting != 0 || rc == CURLE_OK);
	if (c->tls == CONF_SMTP_PLAIN)
		doctor_say(d, D_WARN, NULL, "SMTP TLS %s: clear text "
		    "(insecure_plaintext, loopback only)", d->host);
	else if (!tls_ok) {
		doctor_say(d, D_FAIL, rc == CURLE_USE_SSL_FAILED ? "the relay "
		    "offers no STARTTLS here: use smtps://HOST:465 or the "
		    "provider's submission port" : "the certificate must be "
		    "valid for the host in smtp.url; set smtp.ca_file to the "
		    "CA that issued it, or leave it unset for the system "
		    "store", "SMTP TLS %s (%s): %s", d->host, mode, esc);
		goto skip_auth;
	} else if (!s.tls) {
		doctor_say(d, D_FAIL, "use smtps:// or STARTTLS", "SMTP TLS %s "
		    "(%s): no TLS seen", d->host, mode);
		goto skip_auth;
	} else
		doctor_say(d, D_OK, NULL, "SMTP TLS %s: %s%s%s%s, certificate "
		    "verified%s", d->host, mode, s.tlsver[0] ? " (" : "",
		    s.tlsver, s.tlsver[0] ? ")" : "", c->ca_file ?
		    " against smtp.ca_file" : "");

	/* AUTH */
	if (c->username == NULL)
		doctor_say(d, D_SKIP, NULL, "SMTP AUTH: no smtp.username in the "
		    "config");
	else if (d->password == NULL)
		doctor_say(d, D_FAIL, "run doctor as root (the file stays "
		    "0600)", "SMTP AUTH %s: cannot read the password: %s",
		    c->username, d->pw_err);
	else if (s.auth == 235 && rc != CURLE_LOGIN_DENIED &&
	    rc != CURLE_AUTH_ERROR)
		doctor_say(d, D_OK, NULL, "SMTP AUTH %s: accepted (%s)",
		    c->username, s.auth_text);
	else if (s.auth == 0 && rc == CURLE_OK) {
		doctor_say(d, D_FAIL, "use the provider's submission port, "
		    "where AUTH is offered after TLS", "SMTP AUTH %s: the relay "
		    "offers no AUTH here (none after EHLO)", c->username);
		goto skip_noop;
	} else {
		doctor_say(d, D_FAIL, "check smtp.username and the password in "
		    "smtp.password_file", "SMTP AUTH %s: refused (%s)",
		    c->username, s.auth ? s.auth_text : esc);
		goto skip_noop;
	}

	/* nothing sent */
	if (s.forbidden)
		doctor_say(d, D_FAIL, "report this as a bug", "SMTP: a MAIL, "
		    "RCPT or DATA command went out");
	else if (rc == CURLE_OK && s.noop / 100 == 2)
		doctor_say(d, D_OK, NULL, "SMTP no mail sent: NOOP answered "
		    "%d, then QUIT", s.noop);
	else
		doctor_say(d, D_FAIL, "see the relay's reply", "SMTP NOOP: %s",
		    esc);
	goto out;
skip_rest:
	doctor_say(d, D_SKIP, NULL, "SMTP TLS and AUTH: not tried");
	goto out;
skip_auth:
	doctor_say(d, D_SKIP, NULL, "SMTP AUTH: not tried (no verified TLS)");
	goto out;
skip_noop:
	if (s.forbidden)
		doctor_say(d, D_FAIL, "report this as a bug", "SMTP: a MAIL, "
		    "RCPT or DATA command went out");
	goto out;
nomem:
	doctor_say(d, D_FAIL, "retry", "SMTP: cannot set up libcurl");
out:
	if (h != NULL)
		curl_easy_cleanup(h);	/* QUIT */
	curl_slist_free_all(pin);
	curl_free(url);
	curl_url_cleanup(u);
	buf_free(&b);
}

/* ---- set-up -------------------------------------------------------- */

/*
 * "IP", "IP:PORT", "[IPv6]:PORT" into unbound's "IP@PORT".  Returns 0 or
 * -1.
 */
static int
doctor_resolver_addr(const char *s, char *out, size_t outsize)
{
	char		 ip[INET6_ADDRSTRLEN];
	unsigned char	 bin[16];
	const char	*port = NULL, *end;
	size_t		 n;
	long		 p = 53;
	char		*e;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		n = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
		s++;
	} else if ((end = strchr(s, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		n = (size_t)(end - s);
		port = end + 1;
	} else
		n = strlen(s);
	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip,
	    bin) != 1)
		return -1;
	if (port != NULL) {
		errno = 0;
		p = strtol(port, &e, 10);
		if (errno != 0 || e == port || *e != '\0' || p < 1 ||
		    p > 65535 || !isdigit((unsigned char)*port))
			return -1;
	}
	return snprintf(out, outsize, "%s@%ld", ip, p) >= (int)outsize ? -1 :
	    0;
}

/* A resolver context forwarding to fwd (unbound's "IP@PORT"), or to the
 * nameservers of /etc/resolv.conf when fwd is NULL. */
static struct ub_ctx *
doctor_ub_new(const char *fwd, int *err)
{
	struct ub_ctx	*ub;
	int		 r;

	if ((ub = ub_ctx_create()) == NULL) {
		*err = UB_NOMEM;
		return NULL;
	}
	if ((r = ub_ctx_async(ub, 1)) != 0)
		goto fail;
	if (fwd != NULL) {
		/*
		 * A test or local resolver may sit on loopback, and serve
		 * names under test. (RFC 6761), which libunbound would
		 * otherwise answer itself with NXDOMAIN.
		 */
		if ((r = ub_ctx_set_option(ub, "do-not-query-localhost:",
		    "no")) != 0 || (r = ub_ctx_set_option(ub, "local-zone:",
		    "test. transparent")) != 0 || (r = ub_ctx_set_fwd(ub,
		    fwd)) != 0)
			goto fail;
	} else if ((r = ub_ctx_resolvconf(ub, NULL)) != 0)
		goto fail;
	return ub;
fail:
	*err = r;
	ub_ctx_delete(ub);
	return NULL;
}

/*
 * Reads a whole small file (at most max octets, a pipe too) into a
 * NUL-terminated buffer.  Returns it (free() it) with *len set, or NULL
 * with why set.
 */
static char *
doctor_slurp(const char *path, size_t max, size_t *len, char *why,
    size_t whysize)
{
	enum file_err	 fe;
	char		*b;

	fe = file_slurp(AT_FDCWD, path, max, FILE_STREAM, &b, len);
	switch (fe) {
	case FILE_OK:
		return b;
	case FILE_ENOMEM:
		snprintf(why, whysize, "out of memory");
		break;
	case FILE_ETOOBIG:
		snprintf(why, whysize, "%s: too large", path);
		break;
	case FILE_EOPEN:
		snprintf(why, whysize, "%s: %s", path, strerror(errno));
		break;
	default:
		snprintf(why, whysize, "%s: read error", path);
		break;
	}
	return NULL;
}

/*
 * The validating context: the same forwarder, and the trust anchor's DS
 * and DNSKEY lines (read here, before privileges are dropped).  DNSSEC is
 * decided by libunbound's own validation from that anchor (RFC 4035 5),
 * not by the AD bit of whatever resolver answers: a forwarder that strips
 * the signatures gives bogus answers, and doctor then says "unknown".
 * Without an anchor d->vub stays NULL and DANE is reported unknown.
 * Returns -1 only for a trust anchor named on the command line that
 * cannot be used.
 */
static int
doctor_vub(struct doctor *d, const char *fwd)
{
	const char	*path = d->opts->trust_anchor;
	char		*text, *line, *save = NULL, why[256];
	size_t		 len, n = 0;
	int		 r = 0, given = path != NULL;

	if (path == NULL)
		path = DOCTOR_TRUST_ANCHOR;
	if (strcmp(path, "none") == 0) {
		snprintf(d->vub_why, sizeof(d->vub_why), "DNSSEC validation "
		    "off (--trust-anchor none)");
		return 0;
	}
	if ((text = doctor_slurp(path, DOCTOR_ANCHOR_MAX, &len, why,
	    sizeof(why))) == NULL) {
		snprintf(d->vub_why, sizeof(d->vub_why), "no DNSSEC trust "
		    "anchor (%s; install dns-root-data or give "
		    "--trust-anchor)", why);
		if (given)
			fprintf(stderr, "form2mail: doctor: --trust-anchor: "
			    "%s\n", why);
		return given ? -1 : 0;
	}
	if ((d->vub = doctor_ub_new(fwd, &r)) == NULL)
		goto fail;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t\r");
		if (*line == '\0' || *line == ';' || *line == '$')
			continue;
		if ((r = ub_ctx_add_ta(d->vub, line)) != 0)
			goto fail;
		n++;
	}
	if (n == 0) {
		snprintf(why, sizeof(why), "%s holds no DS or DNSKEY record",
		    path);
		goto none;
	}
	free(text);
	return 0;
fail:
	snprintf(why, sizeof(why), "%s: %s", path, ub_strerror(r));
none:
	free(text);
	if (d->vub != NULL)
		ub_ctx_delete(d->vub);
	d->vub = NULL;
	snprintf(d->vub_why, sizeof(d->vub_why), "no DNSSEC trust anchor "
	    "(%s)", why);
	if (given)
		fprintf(stderr, "form2mail: doctor: --trust-anchor: %s\n", why);
	return given ? -1 : 0;
}

static int
doctor_ub(struct doctor *d, const char *resolver)
{
	char	 fwd[INET6_ADDRSTRLEN + 8], why[256];
	int	 r = 0;

	if (resolver != NULL && doctor_resolver_addr(resolver, fwd,
	    sizeof(fwd)) == -1) {
		fprintf(stderr, "form2mail: doctor: --resolver \"%s\": give "
		    "IP, IP:PORT or [IPv6]:PORT\n", resolver);
		return -1;
	}
	if ((d->ub = doctor_ub_new(resolver ? fwd : NULL, &r)) == NULL) {
		fprintf(stderr, "form2mail: doctor: resolver: %s\n",
		    ub_strerror(r));
		return -1;
	}
	if (doctor_vub(d, resolver ? fwd : NULL) == -1)
		return -1;
	if (d->opts->sts_ca != NULL && (d->sts_ca = doctor_slurp(
	    d->opts->sts_ca, DOCTOR_CA_MAX, &d->sts_ca_len, why,
	    sizeof(why))) == NULL) {
		fprintf(stderr, "form2mail: doctor: --sts-ca: %s\n", why);
		return -1;
	}
	return 0;
}

/* Reads what needs root: the expected DKIM records and the password. */
static int
doctor_secrets(struct doctor *d)
{
	const struct conf	*cf = d->cf;
	struct buf		 v = BUF_INIT;
	char			 err[512];
	size_t			 i;

	if ((d->dkim_txt = calloc(cf->ndkim + 1, sizeof(char *))) == NULL ||
	    (d->dkim_err = calloc(cf->ndkim + 1, sizeof(char *))) == NULL)
		return -1;
	for (i = 0; i < cf->ndkim; i++) {
		buf_reset(&v);
		if (keys_dkim_txt(cf->dkim[i].key_file,
		    doctor_alg(&cf->dkim[i]), &v, err, sizeof(err)) == -1)
			d->dkim_err[i] = strdup(err);
		else if ((d->dkim_txt[i] = buf_steal(&v)) == NULL)
			return -1;
	}
	buf_free(&v);
	if (cf->smtp.username != NULL && cf->smtp.password_file != NULL)
		d->password = file_read_secret(cf->smtp.password_file,
		    d->pw_err, sizeof(d->pw_err));
	return 0;
}

int
doctor_run(const struct conf *cf, const char *resolver, FILE *out)
{
	struct doctor_opts	 o;

	memset(&o, 0, sizeof(o));
	o.resolver = resolver;
	return doctor_run_opts(cf, &o, out);
}

int
doctor_run_opts(const struct conf *cf, const struct doctor_opts *opts,
    FILE *out)
{
	struct doctor	 d;
	void		(*warn)(const char *, int, const char *);
	void		(*info)(const char *, int, const char *);
	void		(*debug)(const char *, int, const char *);
	size_t		 i;
	int		 rc = 2, curl = 0;

	memset(&d, 0, sizeof(d));
	d.cf = cf;
	d.opts = opts;
	d.out = out;
	d.fromdom = doctor_domain_of(cf->from.addr);
	d.envdom = doctor_domain_of(cf->envelope_from ? cf->envelope_from :
	    cf->from.addr);
	warn = SPF_warning_handler;
	info = SPF_info_handler;
	debug = SPF_debug_handler;
	if (d.fromdom == NULL || d.envdom == NULL) {
		fprintf(stderr, "form2mail: doctor: sender.from has no "
		    "domain\n");
		return 2;
	}
	if (doctor_secrets(&d) == -1) {
		fprintf(stderr, "form2mail: doctor: out of memory\n");
		goto out;
	}
	if (doctor_ub(&d, opts->resolver) == -1)
		goto out;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "form2mail: doctor: libcurl init failed\n");
		goto out;
	}
	curl = 1;
	/* DNS answers and the relay's replies are read without root. */
	if (privsep_drop(cf) == -1) {
		fprintf(stderr, "form2mail: doctor: cannot drop privileges\n");
		goto out;
	}
	SPF_warning_handler = doctor_spf_quiet;
	SPF_info_handler = doctor_spf_quiet;
	SPF_debug_handler = doctor_spf_quiet;
	d.layer.lookup = doctor_spf_lookup;
	d.layer.name = "form2mail";
	d.layer.hook = &d;
	/* destroy stays NULL: d owns the layer (SPF_dns_free() skips it). */
	if ((d.spf = SPF_server_new_dns(&d.layer, 0)) == NULL) {
		fprintf(stderr, "form2mail: doctor: out of memory\n");
		goto out;
	}

	for (i = 0; i < cf->ndkim; i++)
		doctor_dkim(&d, i);
	doctor_relay(&d);
	doctor_spf(&d);
	doctor_dmarc(&d);
	doctor_smtp(&d);
	doctor_traps(&d);
	doctor_next_hop(&d);
	rc = d.failed ? 1 : 0;
out:
	if (d.spf != NULL)
		SPF_server_free(d.spf);
	SPF_warning_handler = warn;
	SPF_info_handler = info;
	SPF_debug_handler = debug;
	if (d.ub != NULL)
		ub_ctx_delete(d.ub);
	if (d.vub != NULL)
		ub_ctx_delete(d.vub);
	free(d.sts_ca);
	if (curl)
		curl_global_cleanup();
	if (d.password != NULL) {
		explicit_bzero(d.password, strlen(d.password));
		free(d.password);
	}
	for (i = 0; d.dkim_txt != NULL && i < cf->ndkim; i++) {
		free(d.dkim_txt[i]);
		free(d.dkim_err[i]);
	}
	free(d.dkim_txt);
	free(d.dkim_err);
	return rc;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]; NULL when not name. */
static const char *
doctor_optarg(int argc, char **argv, int *i, const char *name)
{
	size_t	 n = strlen(name);

	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc)
		return argv[++*i];
	if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	return NULL;
}

int
doctor_main(const char *path, int argc, char **argv)
{
	struct conf		*cf;
	struct doctor_opts	 o;
	const char		*v, *reports = NULL;
	char			*e;
	int			 i, rc;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < argc; i++) {
		if ((v = doctor_optarg(argc, argv, &i, "--resolver")) != NULL)
			o.resolver = v;
		else if ((v = doctor_optarg(argc, argv, &i,
		    "--dmarc-reports")) != NULL && *v != '\0')
			reports = v;
		else if ((v = doctor_optarg(argc, argv, &i,
		    "--trust-anchor")) != NULL && *v != '\0')
			o.trust_anchor = v;
		else if ((v = doctor_optarg(argc, argv, &i, "--sts-ca")) !=
		    NULL && *v != '\0')
			o.sts_ca = v;
		else if ((v = doctor_optarg(argc, argv, &i, "--sts-port")) !=
		    NULL) {
			errno = 0;
			o.sts_port = strtol(v, &e, 10);
			if (errno != 0 || e == v || *e != '\0' ||
			    !isdigit((unsigned char)*v) || o.sts_port < 1 ||
			    o.sts_port > 65535)
				goto usage;
		} else
			goto usage;
	}
	if (conf_load(path, &cf) != 0)
		return 2;
	/* Reports are read offline: no DNS, no relay (dmarc_report.h). */
	if (reports != NULL)
		rc = dmarc_report_dir(reports, doctor_domain_of(cf->from.addr) ?
		    doctor_domain_of(cf->from.addr) : "", stdout);
	else
		rc = doctor_run_opts(cf, &o, stdout);
	conf_free(cf);
	return rc;
usage:
	fprintf(stderr, "usage: form2mail doctor [-c FILE] [--resolver "
	    "IP[:PORT]] [--trust-anchor FILE|none]\n"
	    "       form2mail doctor [-c FILE] --dmarc-reports DIR\n"
	    "       (tests only: [--sts-ca FILE] [--sts-port PORT])\n");
	return 2;
}
