/*
 * fuzz_mta_sts_policy: an MTA-STS policy body as fetched over HTTPS
 * (sts_policy_parse) and its mx patterns against host names
 * (sts_mx_match).  Invariants (abort() on violation):
 *  - 0 only with version, mode and max_age read: mode in range,
 *    0 <= max_age <= STS_MAX_AGE_MAX, at least one mx unless mode none,
 *    nmx <= STS_MX_MAX, every mx NUL-terminated, lower case, LDH and
 *    dots with at most a leading "*.", and matching itself (or, for
 *    "*.d", "x.d"); -1 comes with a reason and a zeroed policy;
 *  - a body holding a NUL or over STS_POLICY_MAX is refused;
 *  - sts_mx_match is 0 or 1, and 0 for an empty host.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/sts.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_check_mx(const char *mx)
{
	char		 host[STS_NAME_MAX + 8];
	const char	*p = mx;
	size_t		 n = strlen(mx);

	if (n == 0 || n > STS_NAME_MAX + 2)
		abort();
	if (p[0] == '*') {
		if (p[1] != '.')
			abort();
		p += 2;
	}
	for (; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.'))
			abort();
	if (mx[0] == '*')
		snprintf(host, sizeof(host), "x%s", mx + 1);
	else
		snprintf(host, sizeof(host), "%s", mx);
	if (sts_mx_match(mx, host) != 1 || sts_mx_match(mx, "") != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sts_policy	 zero;
	struct sts_policy		 p;
	const char			*why = NULL, *body = (const char *)data;
	char				 host[STS_NAME_MAX + 1];
	size_t				 i, n;
	int				 rc, m;

	rc = sts_policy_parse(body, size, &p, &why);
	if (rc == 0) {
		if (memchr(body, '\0', size) != NULL || size > STS_POLICY_MAX ||
		    p.mode > STS_MODE_ENFORCE || p.max_age < 0 ||
		    p.max_age > STS_MAX_AGE_MAX || p.nmx > STS_MX_MAX ||
		    (p.mode != STS_MODE_NONE && p.nmx == 0))
			abort();
		for (i = 0; i < p.nmx; i++)
			fz_check_mx(p.mx[i]);
	} else if (rc != -1 || why == NULL || memcmp(&p, &zero,
	    sizeof(p)) != 0)
		abort();
	/* The input as a host name against a few patterns. */
	n = size < sizeof(host) - 1 ? size : sizeof(host) - 1;
	memcpy(host, data, n);
	host[n] = '\0';
	m = sts_mx_match("*.example.com", host);
	if ((m != 0 && m != 1) || (m && strlen(host) <= 12))
		abort();
	m = sts_mx_match("mx.example.com", host);
	if (m != 0 && m != 1)
		abort();
	return 0;
}
