/*
 * spf: the SPF grammar (RFC 7208) as far as form2mail writes and reads
 * it: the terms sender.spf and `form2mail dns --spf` take (checked by the
 * config, `form2mail dns` and the doctor) and whether a TXT value is an
 * SPF record.  Nothing here allocates or looks a name up.
 */
#ifndef F2M_SPF_H
#define F2M_SPF_H

#include <stddef.h>

#include "lib/buf.h"		/* F2M_WUR */

#define SPF_MAX			1024	/* octets of the terms */
#define SPF_LOOKUPS		10	/* terms costing a DNS lookup */

/*
 * Checks SPF terms as sender.spf and `form2mail dns --spf` take them: the
 * mechanisms that name a mail relay (RFC 7208 5), space-separated, each
 * with an optional qualifier: ip4:ADDR[/N], ip6:ADDR[/N], include:DOMAIN,
 * exists:DOMAIN, a[:DOMAIN][/N][//N], mx[:DOMAIN][/N][//N].  Refused: all
 * (the published record ends in -all), v=, modifiers (redirect=, exp=),
 * ptr (RFC 7208 5.5: do not use), macros, more than SPF_LOOKUPS terms
 * that cost a DNS lookup (RFC 7208 4.6.4), and more than SPF_MAX octets.
 * Returns 0, or -1 with the reason (naming the bad term, escaped) in err.
 */
int	 spf_terms_check(const char *terms, char *err, size_t errsize) F2M_WUR;

/* Whether a TXT value (len octets) is an SPF record: "v=spf1" in any
 * case, alone or followed by a space (RFC 7208 4.5). */
int	 spf_is_record(const char *txt, size_t len);

#endif
