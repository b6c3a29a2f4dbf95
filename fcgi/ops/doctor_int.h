/*
 * doctor_int.h: what the files of the doctor share (doctor.c, doctor_dns.c,
 * doctor_dkim.c, doctor_spf.c, doctor_policy.c, doctor_smtp.c,
 * doctor_traps.c, doctor_mx.c, doctor_sts.c, doctor_dane.c).  Internal to the doctor
 * module.
 */
#ifndef F2M_DOCTOR_INT_H
#define F2M_DOCTOR_INT_H

#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <stddef.h>
#include <stdio.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <unbound.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "ops/doctor.h"

#define DOCTOR_MAX_RR		32	/* records of one answer looked at */
#define DOCTOR_MAX_ADDR		8	/* relay addresses checked */
#define DOCTOR_NAME_MAX		253
#define DOCTOR_SHOW		240	/* octets of a DNS value shown */
#define DOCTOR_DASH		" \xe2\x80\x94 fix: "	/* " — fix: " */

struct conf_dkim;

enum doctor_st { D_OK, D_WARN, D_SKIP, D_FAIL };

enum doctor_dns { DNS_OK, DNS_NXDOMAIN, DNS_NODATA, DNS_FAIL };

/* The TXT values at one name. */
struct doctor_txt {
	char	*v[DOCTOR_MAX_RR];
	size_t	 len[DOCTOR_MAX_RR];
	size_t	 n;
	size_t	 bad;		/* malformed or over DOCTOR_TXT_MAX: skipped */
};

struct doctor {
	const struct conf	*cf;
	const struct doctor_opts *opts;
	FILE			*out;
	struct ub_ctx		*ub;
	struct ub_ctx		*vub;		/* validating (DNSSEC); NULL: no
						   trust anchor */
	char			 vub_why[400];	/* why vub is NULL */
	SPF_server_t		*spf;
	SPF_dns_server_t	 layer;		/* libspf2's view of ub */
	void			(*spf_warn)(const char *, int, const char *);
	void			(*spf_info)(const char *, int, const char *);
	void			(*spf_debug)(const char *, int, const char *);
	int			 spf_quiet;	/* the three above saved */
	int			 curl;		/* curl_global_init() done */
	int			 spf_queries;
	int			 failed;
	const char		*fromdom;
	const char		*envdom;
	/* From the config, read before privileges are dropped: */
	char			**dkim_txt;	/* expected value per key */
	char			**dkim_err;	/* or why it could not be read */
	char			*password;
	char			 pw_err[256];
	char			*sts_ca;	/* opts->sts_ca's PEM, or NULL */
	size_t			 sts_ca_len;
	/* The relay. */
	char			 host[DOCTOR_NAME_MAX + 3];
	long			 port;
	int			 literal;
	char			 addr[DOCTOR_MAX_ADDR][INET6_ADDRSTRLEN];
	size_t			 naddr;
};

/* doctor.c: the output. */
void	 doctor_say(struct doctor *, enum doctor_st, const char *fix,
	    const char *fmt, ...) F2M_PRINTF(4, 5);
const char *doctor_esc(char *dst, size_t dstsize, const char *s, size_t len);
const char *doctor_publish(struct buf *fix, const char *prefix,
	    const char *name, const char *value);

/*
 * One query of class IN through ub (d->ub or d->vub), capped at the DNS
 * timeout.  On DNS_OK *res holds the answer (ub_resolve_free() it);
 * otherwise *res is NULL and, for DNS_FAIL, why says what went wrong (a
 * DNSSEC-bogus answer is DNS_FAIL).  *secure, when not NULL, is 1 only
 * for an answer (or denial) that ub validated with DNSSEC.
 */
enum doctor_dns doctor_query_ub(struct doctor *, struct ub_ctx *ub,
	    const char *name, int type, struct ub_result **res, int *secure,
	    char *why, size_t whysize);

/* One query through d->ub (no DNSSEC verdict needed). */
enum doctor_dns doctor_query(struct doctor *, const char *name, int type,
	    struct ub_result **res, char *why, size_t whysize);

/* The TXT values at name through d->ub, each joined. */
enum doctor_dns doctor_txt(struct doctor *, const char *name,
	    struct doctor_txt *, char *why, size_t whysize);
void	 doctor_txt_free(struct doctor_txt *);

/*
 * d->ub forwarding to resolver ("IP[:PORT]", or /etc/resolv.conf's
 * nameservers when NULL), d->vub from the trust anchor, d->sts_ca read.
 * Returns 0, or -1 after saying why on stderr.
 */
int	 doctor_ub(struct doctor *, const char *resolver);

/*
 * doctor_spf.c: d->spf, a libspf2 server whose DNS layer asks d->ub, with libspf2's
 * stdio messages silenced until doctor_spf_close(), which frees it and
 * restores them.  Returns 0, or -1 out of memory.
 */
int	 doctor_spf_open(struct doctor *);
void	 doctor_spf_close(struct doctor *);

/* doctor_dkim.c: tag-lists and the DKIM check of every key. */
int	 doctor_wsp(char c);
int	 doctor_v_first(const char *rec, size_t len);
const char *doctor_alg(const struct conf_dkim *);
void	 doctor_dkim(struct doctor *);

/* doctor_spf.c, doctor_policy.c: SPF, DMARC. */
void	 doctor_spf(struct doctor *);
void	 doctor_dmarc(struct doctor *);

/* doctor_smtp.c: the relay's addresses, then its login. */
void	 doctor_relay(struct doctor *);
void	 doctor_smtp(struct doctor *);

/* doctor_traps.c: the rspamd traps (issue 14 part 2). */
void	 doctor_traps(struct doctor *);

/* The next hop (issue 14 part 6): doctor_mx.c runs it per recipient
 * domain, doctor_sts.c and doctor_dane.c give the verdicts. */
#define HOP_MX		8	/* MX hosts of one domain looked at */
#define HOP_WHY		200

enum hop_v { HOP_UNKNOWN, HOP_NO, HOP_YES };

struct hop {
	struct doctor	*d;
	const char	*dom;
	char		 mx[HOP_MX][DOCTOR_NAME_MAX + 1];
	size_t		 nmx;
	int		 mx_known;	/* the MX lookup answered */
	int		 mx_implicit;	/* no MX: the domain itself (RFC 5321
					   5.1) */
	char		 mx_why[HOP_WHY];
	enum hop_v	 sts;		/* MTA-STS enforced for every MX */
	enum hop_v	 dane;		/* usable DNSSEC TLSA for every MX */
};

void	 doctor_next_hop(struct doctor *);
/* MX (through ub), sorted as found; an empty list and mx_implicit when
 * the domain has none. */
enum doctor_dns doctor_hop_mx(struct hop *, struct ub_ctx *ub,
	    char mx[][DOCTOR_NAME_MAX + 1], size_t *nmx, int *secure,
	    char *why, size_t whysize);
void	 doctor_hop_mta_sts(struct hop *);
void	 doctor_hop_dane(struct hop *);
void	 doctor_hop_tlsrpt(struct hop *);

#endif
