/*
 * doctor_dns: the doctor's resolver (libunbound, forwarding to
 * --resolver; the validating context from the trust anchor), its queries
 * and TXT values; every lookup of the doctor, libspf2's too
 * (doctor_spf.c), asks it; see doctor_int.h.
 */
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "lib/buf.h"
#include "lib/rate.h"
#include "ops/doctor.h"
#include "ops/doctor_int.h"
#include "lib/file.h"

#define DOCTOR_DNS_TIMEOUT	10	/* seconds per query */
#define DOCTOR_CA_MAX		(1024 * 1024)	/* octets of --sts-ca */
#define DOCTOR_ANCHOR_MAX	(64 * 1024)	/* octets of --trust-anchor */

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
	deadline = rate_clock_ms() + DOCTOR_DNS_TIMEOUT * 1000L;
	while (!q.done) {
		if ((left = deadline - rate_clock_ms()) <= 0) {
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
enum doctor_dns
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

int
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
