/*
 * fuzz_rate: rate_parse (lib/rate.h, the parser of the config's rates)
 * and throttle_client_key on arbitrary octets (cut at the first NUL, as
 * C strings are).  Invariants (abort() on violation):
 *  - parse returns 0 or -1, and 0 exactly when a reference reading
 *    accepts: DIGITS "/" DIGITS [smhd], count 1..RATE_COUNT_MAX,
 *    period 1 s..RATE_PERIOD_MAX, with the same values; on -1 the
 *    output is untouched;
 *  - an accepted rate written back as "COUNT/PERIOD" parses to itself;
 *  - throttle_client_key returns 0 or -1; on -1 the output is ""; on 0 it
 *    is "ip:" + dotted quad or "ip6:" + text + "/64", shorter than
 *    THROTTLE_CLIENT_KEY_SIZE, and the address part fed back gives the
 *    same key (for /64 keys: the prefix text is its own key).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rate.h"
#include "throttle/throttle.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fz_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Value of s[0..len) (digits only), or -1 when over max. */
static long
fz_value(const char *s, size_t len, long max)
{
	long	 v = 0;

	while (len > 0 && *s == '0') {
		s++;
		len--;
	}
	if (len > 9)
		return -1;
	while (len-- > 0)
		v = v * 10 + (*s++ - '0');
	return v > max ? -1 : v;
}

static int
fz_reference(const char *s, long *count, long *period)
{
	const char	*slash = strchr(s, '/'), *p;
	size_t		 n;
	long		 mult = 1;

	if (slash == NULL || slash == s)
		return -1;
	for (p = s; p < slash; p++)
		if (!fz_digit(*p))
			return -1;
	n = strlen(slash + 1);
	if (n > 0 && strchr("smhd", slash[n]) != NULL) {
		mult = slash[n] == 's' ? 1 : slash[n] == 'm' ? 60 :
		    slash[n] == 'h' ? 3600 : 86400;
		n--;
	}
	if (n == 0)
		return -1;
	for (p = slash + 1; p < slash + 1 + n; p++)
		if (!fz_digit(*p))
			return -1;
	*count = fz_value(s, (size_t)(slash - s), RATE_COUNT_MAX);
	*period = fz_value(slash + 1, n, RATE_PERIOD_MAX);
	if (*count < 1 || *period < 1 || *period > RATE_PERIOD_MAX / mult)
		return -1;
	*period *= mult;
	return 0;
}

static void
fz_rate(const char *s)
{
	struct rate	 r = { -5, -5 }, r2 = { -5, -5 };
	long		 count, period;
	char		 back[64];
	int		 rc, ref;

	rc = rate_parse(s, &r);
	ref = fz_reference(s, &count, &period);
	if (rc != ref)
		abort();
	if (rc == -1) {
		if (r.count != -5 || r.period != -5)
			abort();
		return;
	}
	if (r.count != count || r.period != period)
		abort();
	snprintf(back, sizeof(back), "%ld/%ld", r.count, r.period);
	if (rate_parse(back, &r2) != 0 || r2.count != r.count ||
	    r2.period != r.period)
		abort();
}

static void
fz_client(const char *s)
{
	char	 key[THROTTLE_CLIENT_KEY_SIZE], again[THROTTLE_CLIENT_KEY_SIZE];
	char	 addr[THROTTLE_CLIENT_KEY_SIZE];
	size_t	 len;
	int	 rc;

	memset(key, 'Z', sizeof(key));
	rc = throttle_client_key(s, key, sizeof(key));
	if (rc == -1) {
		if (key[0] != '\0')
			abort();
		return;
	}
	if (rc != 0 || (len = strnlen(key, sizeof(key))) == sizeof(key))
		abort();
	if (strncmp(key, "ip:", 3) == 0) {
		if (strspn(key + 3, "0123456789.") != len - 3)
			abort();
		snprintf(addr, sizeof(addr), "%s", key + 3);
	} else if (strncmp(key, "ip6:", 4) == 0 && len > 7 &&
	    strcmp(key + len - 3, "/64") == 0) {
		if (strspn(key + 4, "0123456789abcdef:") != len - 7)
			abort();
		snprintf(addr, sizeof(addr), "%.*s", (int)(len - 7), key + 4);
	} else
		abort();
	if (throttle_client_key(addr, again, sizeof(again)) != 0 ||
	    strcmp(again, key) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*s;

	if (size > 4096 || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fz_rate(s);
	fz_client(s);
	free(s);
	return 0;
}
