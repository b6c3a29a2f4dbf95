/*
 * rate: durations ("90", "90s", "10m", "1h", "5d") and rates
 * ("COUNT/PERIOD": "5/10m"), as the config and the throttle take them
 * (docs/DESIGN.md "Config").  One struct rate for both.  And the
 * monotonic clock in milliseconds, for deadlines.
 */
#ifndef F2M_RATE_H
#define F2M_RATE_H

#include <stdint.h>

#include "lib/buf.h"		/* F2M_WUR */

#define RATE_COUNT_MAX		1000000L	/* rate count 1..this */
#define RATE_PERIOD_MAX		(30L * 86400)	/* rate period 1 s..this */
#define RATE_DURATION_MAX	(10L * 366 * 86400) /* a duration 0..this */

/* N per PERIOD seconds: a burst of N, then one per PERIOD/N.  count 0
 * means no limit (a throttle key with such a rate is neither checked nor
 * charged). */
struct rate {
	long	 count;
	long	 period;	/* seconds */
};

/*
 * Parses a duration: 1*DIGIT optionally followed by one unit letter, s
 * (seconds, the default), m, h or d (lower case).  No signs, no spaces,
 * nothing else.  Returns the seconds, 0..RATE_DURATION_MAX, or -1 when s
 * is NULL, malformed or longer than that.
 */
long	rate_duration(const char *s);

/*
 * Parses a rate "COUNT/PERIOD": COUNT is 1*DIGIT in 1..RATE_COUNT_MAX,
 * PERIOD a duration (rate_duration) in 1 s..RATE_PERIOD_MAX.  Examples:
 * "5/10m", "250/1h", "1000/1d", "10/30s", "3/90".  Returns 0 and fills
 * *out, or -1 (and leaves *out unchanged) when s or out is NULL or s is
 * malformed or out of range.
 */
int	rate_parse(const char *s, struct rate *out) F2M_WUR;

/* CLOCK_MONOTONIC in milliseconds: what deadlines are measured on. */
int64_t	rate_clock_ms(void);

#endif
