/*
 * doctor_int.h: what doctor.c shares with doctor_hop.c (the next hop's
 * TLS and the rspamd traps).  Internal to the doctor module.
 */
#ifndef F2M_DOCTOR_INT_H
#define F2M_DOCTOR_INT_H

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <unbound.h>

#include "lib/buf.h"
#include "ops/doctor.h"

#define DOCTOR_MAX_RR		32	/* records of one answer looked at */
#define DOCTOR_MAX_ADDR		8	/* relay addresses checked */
#define DOCTOR_NAME_MAX		253
#define DOCTOR_SHOW		240	/* octets of a DNS value shown */
#define DOCTOR_DASH		" \xe2\x80\x94 fix: "	/* " — fix: " */

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

void	 doctor_say(struct doctor *, enum doctor_st, const char *fix,
	    const char *fmt, ...) F2M_PRINTF(4, 5);
const char *doctor_esc(char *dst, size_t dstsize, const char *s, size_t len);
const char *doctor_domain_of(const char *addr);

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

/* The TXT values at name through d->ub, each joined. */
enum doctor_dns doctor_txt(struct doctor *, const char *name,
	    struct doctor_txt *, char *why, size_t whysize);
void	 doctor_txt_free(struct doctor_txt *);

/* doctor_hop.c: the checks of issue 14 part 6 and part 2. */
void	 doctor_traps(struct doctor *);
void	 doctor_next_hop(struct doctor *);

#endif
