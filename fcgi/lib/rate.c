/*
 * rate: durations and rates; see rate.h.  Digits are read by hand, never
 * by strtol (no sign, no space, no locale), and checked against their
 * limit before they could overflow.
 */
#include <stddef.h>
#include <time.h>

#include "lib/rate.h"

/* 1*DIGIT into *v, stopping before the first non-digit; -1 when there is
 * no digit or the value exceeds max. */
static int
rate_number(const char **sp, long max, long *v)
{
	const char	*s = *sp;
	long		 n = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (*s - '0');
		if (n > max)
			return -1;
	}
	*sp = s;
	*v = n;
	return 0;
}

/* The duration s (up to its end) in seconds, -1 over max. */
static long
rate_seconds(const char *s, long max)
{
	long	 n, mult = 1;

	if (s == NULL || rate_number(&s, max, &n) == -1)
		return -1;
	switch (*s) {
	case 's':
		s++;
		break;
	case 'm':
		mult = 60;
		s++;
		break;
	case 'h':
		mult = 3600;
		s++;
		break;
	case 'd':
		mult = 86400;
		s++;
		break;
	default:
		break;
	}
	if (*s != '\0' || n > max / mult)
		return -1;
	return n * mult;
}

long
rate_duration(const char *s)
{
	return rate_seconds(s, RATE_DURATION_MAX);
}

int
rate_parse(const char *s, struct rate *out)
{
	long	 count, period;

	if (s == NULL || out == NULL)
		return -1;
	if (rate_number(&s, RATE_COUNT_MAX, &count) == -1 || count < 1 ||
	    *s++ != '/')
		return -1;
	if ((period = rate_seconds(s, RATE_PERIOD_MAX)) < 1)
		return -1;
	out->count = count;
	out->period = period;
	return 0;
}

int64_t
rate_clock_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
