/*
 * sts: the next hop's TLS signals, parsed from untrusted bytes (DNS
 * answers and a policy body fetched over HTTPS, for `form2mail doctor`):
 * MTA-STS (RFC 8461), SMTP TLS reporting (RFC 8460) and DANE TLSA
 * (RFC 6698, RFC 7672).  Pure functions: no I/O, no allocation.
 *
 * Every input is untrusted data: lengths are explicit (NUL octets inside
 * are refused, never a terminator), and every limit is a named constant.
 */
#ifndef F2M_STS_H
#define F2M_STS_H

#include <stddef.h>

#define STS_ID_MAX	32		/* id= of the TXT record (3.1) */
#define STS_POLICY_MAX	65536		/* octets of a policy body read */
#define STS_MX_MAX	32		/* mx lines of one policy kept */
#define STS_NAME_MAX	253
#define STS_MAX_AGE_MAX	31557600L	/* one year (3.2) */
#define STS_RUA_MAX	512		/* octets of rua= kept for display */

/*
 * An _mta-sts TXT value (RFC 8461 3.1): "v=STSv1" first, then id= of 1 to
 * 32 letters and digits; extensions allowed, ";" separated.  Returns 1
 * with id (a NUL-terminated copy, idsize > STS_ID_MAX) set; 0 when the
 * value does not start "v=STSv1" (discarded by senders); -1 when it does
 * but is malformed (*why set to a static reason).
 */
int	 sts_txt_parse(const char *txt, size_t len, char *id, size_t idsize,
	    const char **why);

enum sts_mode { STS_MODE_NONE, STS_MODE_TESTING, STS_MODE_ENFORCE };

struct sts_policy {
	enum sts_mode	 mode;
	long		 max_age;		/* seconds */
	char		 mx[STS_MX_MAX][STS_NAME_MAX + 1];  /* lower case */
	size_t		 nmx;
	size_t		 mx_over;		/* mx lines beyond STS_MX_MAX */
};

/*
 * A policy body (RFC 8461 3.2): "key: value" lines ended by LF or CRLF;
 * version (STSv1), mode, max_age (at most 10 digits, at most
 * STS_MAX_AGE_MAX) required, mx required unless mode is none; unknown
 * keys ignored.  A repeated version, mode or max_age, a line without ':',
 * a bad mx pattern ("*." allowed only as the first label), octets outside
 * printable ASCII (UTF-8 allowed in an unknown key's value only) or a
 * body over STS_POLICY_MAX are refused.  Returns 0, or -1 with *why set
 * and *out zeroed.
 */
int	 sts_policy_parse(const char *body, size_t len, struct sts_policy *out,
	    const char **why);

/*
 * Whether MX host name host (a trailing dot ignored, any case) matches an
 * mx pattern of a policy (RFC 8461 4.1): the same name, or "*.parent" for
 * a name with exactly one more label on the left.  Returns 1 or 0.
 */
int	 sts_mx_match(const char *pattern, const char *host);

/*
 * An _smtp._tls TXT value (RFC 8460 3): "v=TLSRPTv1" first, rua= with one
 * or more comma-separated mailto: or https: URIs.  Returns 1 with rua (at
 * most ruasize - 1 octets, cut with "..." when longer) set; 0 when the
 * value does not start "v=TLSRPTv1"; -1 when malformed (*why set).
 */
int	 sts_tlsrpt_parse(const char *txt, size_t len, char *rua,
	    size_t ruasize, const char **why);

struct sts_tlsa {
	int	 usage;		/* 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE */
	int	 selector;	/* 0 full certificate, 1 SubjectPublicKeyInfo */
	int	 mtype;		/* 0 full, 1 SHA2-256, 2 SHA2-512 */
	size_t	 datalen;
};

/*
 * A TLSA RDATA (RFC 6698 2.1): usage, selector and matching type octets,
 * then the association data,
 * which must not be empty and must be 32 octets for SHA2-256, 64 for
 * SHA2-512.  Returns 0, or -1.
 */
int	 sts_tlsa_parse(const unsigned char *rdata, size_t len,
	    struct sts_tlsa *out);

/*
 * Whether an SMTP client uses this record (RFC 7672 3.1): usage DANE-TA
 * or DANE-EE (PKIX-TA and PKIX-EE are unusable for SMTP, 3.1.3), a known
 * selector and matching type.
 */
int	 sts_tlsa_usable(const struct sts_tlsa *);

#endif
