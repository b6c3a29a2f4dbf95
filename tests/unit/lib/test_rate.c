/*
 * test_rate: durations and rates (lib/rate.c), and the proof that the one
 * parser accepts what the two it replaced accepted, with the same values:
 * conf.c's conf_duration/conf_rate_parse (strtoll) and throttle.c's
 * throttle_number/throttle_parse_rate (digits by hand), kept below as
 * they were at e410096 (issue 15, PLAN D1).
 *
 * Inputs: the fuzz_rate corpus, a table of hostile strings, every string
 * of 1..6 characters over "0123456789/smhd" (12.2 million), 4 million
 * seeded random strings of 7..12 characters over that alphabet (half of
 * them shaped DIGITS "/" DIGITS [unit] [junk]), and every count and
 * period around the limits.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/rate.h"
#include "t.h"

/* ---- the two parsers before the merge, verbatim but for the names ---- */

static long
old_conf_duration(const char *s)
{
	char		*end;
	long long	 n;
	long		 mult = 1;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || n < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (n > 10LL * 366 * 86400 / mult)
		return -1;
	return (long)(n * mult);
}

static int
old_conf_rate_parse(const char *s, struct rate *r)
{
	char		*end;
	long long	 n;
	long		 p;

	errno = 0;
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	n = strtoll(s, &end, 10);
	if (errno || *end != '/' || n < 1 || n > 1000000)
		return -1;
	if ((p = old_conf_duration(end + 1)) < 1 || p > 30 * 86400)
		return -1;
	r->count = (long)n;
	r->period = p;
	return 0;
}

#define THROTTLE_COUNT_MAX	1000000L
#define THROTTLE_PERIOD_MAX	(30L * 86400)

static int
old_throttle_number(const char **sp, long max, long *v)
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

static int
old_throttle_parse_rate(const char *s, struct rate *out)
{
	long	 count, period, mult = 1;

	if (s == NULL || out == NULL)
		return -1;
	if (old_throttle_number(&s, THROTTLE_COUNT_MAX, &count) == -1 ||
	    count < 1 || *s++ != '/')
		return -1;
	if (old_throttle_number(&s, THROTTLE_PERIOD_MAX, &period) == -1)
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
	if (*s != '\0' || period < 1 || period > THROTTLE_PERIOD_MAX / mult)
		return -1;
	out->count = count;
	out->period = period * mult;
	return 0;
}

/* ---- differential ---------------------------------------------------- */

static long	 d_strings, d_accepted, d_diff;

/* One string through the old and new parsers; a difference is reported
 * (the first few) and counted. */
static void
diff_one(const char *s)
{
	struct rate	 a = { -5, -5 }, b = { -5, -5 }, n = { -5, -5 };
	int		 ra, rb, rn;
	long		 da, dn;

	d_strings++;
	ra = old_conf_rate_parse(s, &a);
	rb = old_throttle_parse_rate(s, &b);
	rn = rate_parse(s, &n);
	da = old_conf_duration(s);
	dn = rate_duration(s);
	if (rn == 0)
		d_accepted++;
	if (ra != rn || rb != rn || a.count != n.count || b.count != n.count ||
	    a.period != n.period || b.period != n.period || da != dn) {
		if (d_diff++ < 10)
			fprintf(stderr, "differ on [%s]: conf %d %ld/%ld, "
			    "throttle %d %ld/%ld, rate_parse %d %ld/%ld; "
			    "duration conf %ld, rate_duration %ld\n", s, ra,
			    a.count, a.period, rb, b.count, b.period, rn,
			    n.count, n.period, da, dn);
	}
}

static const char	 alpha[] = "0123456789/smhd";
#define NALPHA		 (sizeof(alpha) - 1)

static void
diff_all(char *buf, size_t at, size_t len)
{
	size_t	 i;

	if (at == len) {
		buf[len] = '\0';
		diff_one(buf);
		return;
	}
	for (i = 0; i < NALPHA; i++) {
		buf[at] = alpha[i];
		diff_all(buf, at + 1, len);
	}
}

static uint64_t	 rnd = 0x9e3779b97f4a7c15ULL;

static unsigned
next(unsigned n)
{
	rnd ^= rnd << 13;
	rnd ^= rnd >> 7;
	rnd ^= rnd << 17;
	return (unsigned)(rnd % n);
}

static void
diff_random(long count)
{
	char	 s[16];
	size_t	 len, i, k;

	while (count-- > 0) {
		len = 7 + next(6);
		if (next(2) == 0) {
			for (i = 0; i < len; i++)
				s[i] = alpha[next(NALPHA)];
		} else {
			k = 1 + next((unsigned)len - 2);
			for (i = 0; i < k; i++)
				s[i] = alpha[next(10)];
			s[i++] = '/';
			for (; i < len; i++)
				s[i] = i + 1 == len && next(2) ? alpha[11 +
				    next(4)] : next(8) ? alpha[next(10)] :
				    alpha[next(NALPHA)];
		}
		s[len] = '\0';
		diff_one(s);
	}
}

static void
diff_sweeps(void)
{
	static const char *const units[] = { "", "s", "m", "h", "d" };
	static const long mult[] = { 1, 1, 60, 3600, 86400 };
	char	 s[64];
	long	 v;
	size_t	 u;

	for (v = 0; v <= RATE_COUNT_MAX + 2; v++) {
		snprintf(s, sizeof(s), "%ld/1m", v);
		diff_one(s);
	}
	for (u = 0; u < 5; u++) {
		for (v = 0; v <= RATE_PERIOD_MAX / mult[u] + 2; v++) {
			snprintf(s, sizeof(s), "1/%ld%s", v, units[u]);
			diff_one(s);
		}
		for (v = RATE_DURATION_MAX / mult[u] - 1000;
		    v <= RATE_DURATION_MAX / mult[u] + 1000; v++) {
			snprintf(s, sizeof(s), "%ld%s", v, units[u]);
			diff_one(s);
		}
	}
}

static void
diff_corpus(const char *dir)
{
	char		 path[1024], s[4097];
	struct dirent	*e;
	DIR		*d;
	FILE		*f;
	size_t		 n;
	int		 files = 0;

	if ((d = opendir(dir)) == NULL) {
		T_OK(0, "%s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(s, 1, sizeof(s) - 1, f);
		fclose(f);
		s[n] = '\0';	/* cut at the first NUL, as fuzz_rate does */
		diff_one(s);
		files++;
	}
	closedir(d);
	T_OK(files > 10, "corpus %s: %d files", dir, files);
}

/* ---- the contract, by table ------------------------------------------ */

static const struct {
	const char	*in;
	int		 rc;
	long		 count, period;
} rates[] = {
	{ "5/10m", 0, 5, 600 },
	{ "250/1h", 0, 250, 3600 },
	{ "1000/1d", 0, 1000, 86400 },
	{ "10/30s", 0, 10, 30 },
	{ "3/90", 0, 3, 90 },
	{ "0005/0001h", 0, 5, 3600 },
	{ "1000000/1s", 0, 1000000, 1 },
	{ "1/30d", 0, 1, 2592000 },
	{ "1/720h", 0, 1, 2592000 },
	{ "1/2592000", 0, 1, 2592000 },
	{ "1000001/1m", -1, 0, 0 },
	{ "0/1m", -1, 0, 0 },
	{ "5/0", -1, 0, 0 },
	{ "5/0m", -1, 0, 0 },
	{ "5/31d", -1, 0, 0 },
	{ "1/721h", -1, 0, 0 },
	{ "1/2592001", -1, 0, 0 },
	{ "99999999999999999999/1m", -1, 0, 0 },
	{ "5/99999999999999999999", -1, 0, 0 },
	{ "5/10", 0, 5, 10 },
	{ "5/1mm", -1, 0, 0 },
	{ "5/1M", -1, 0, 0 },
	{ "5/1w", -1, 0, 0 },
	{ "5 /1m", -1, 0, 0 },
	{ "5/ 1m", -1, 0, 0 },
	{ " 5/1m", -1, 0, 0 },
	{ "5/1m ", -1, 0, 0 },
	{ "5/1m\n", -1, 0, 0 },
	{ "+5/1m", -1, 0, 0 },
	{ "5/+1m", -1, 0, 0 },
	{ "-5/1m", -1, 0, 0 },
	{ "5/-1m", -1, 0, 0 },
	{ "0x5/1m", -1, 0, 0 },
	{ "5/0x1m", -1, 0, 0 },
	{ "5//1m", -1, 0, 0 },
	{ "/1m", -1, 0, 0 },
	{ "5/", -1, 0, 0 },
	{ "5", -1, 0, 0 },
	{ "5/m", -1, 0, 0 },
	{ "", -1, 0, 0 },
	{ "\xd9\xa5/1m", -1, 0, 0 },	/* ARABIC-INDIC DIGIT FIVE */
	{ "5/1m/1m", -1, 0, 0 },
};

static const struct {
	const char	*in;
	long		 secs;
} durations[] = {
	/* test_conf's conf_duration cases, moved here with the function. */
	{ "10m", 600 },
	{ "1h", 3600 },
	{ "5d", 432000 },
	{ "90", 90 },
	{ "90x", -1 },
	{ "-5m", -1 },
	{ "99999999999d", -1 },
	/* and the rest of the contract */
	{ "0", 0 },
	{ "0s", 0 },
	{ "90s", 90 },
	{ "3660d", 3660L * 86400 },
	{ "3661d", -1 },
	{ "316224000", 316224000 },
	{ "316224001", -1 },
	{ "", -1 },
	{ "s", -1 },
	{ "1hh", -1 },
	{ " 1h", -1 },
	{ "1h ", -1 },
	{ "+1h", -1 },
	{ "5D", -1 },
	{ "1/1m", -1 },
	{ "99999999999999999999999", -1 },
};

int
main(void)
{
	struct rate	 r;
	char		 buf[16], what[64];
	size_t		 i, len;

	for (i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		r.count = r.period = 0;
		snprintf(what, sizeof(what), "rate_parse(\"%s\")", rates[i].in);
		T_INT(rate_parse(rates[i].in, &r), rates[i].rc, what);
		T_INT(r.count, rates[i].count, what);
		T_INT(r.period, rates[i].period, what);
		diff_one(rates[i].in);
	}
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		snprintf(what, sizeof(what), "rate_duration(\"%s\")",
		    durations[i].in);
		T_INT(rate_duration(durations[i].in), durations[i].secs, what);
		diff_one(durations[i].in);
	}
	T_INT(rate_parse(NULL, &r), -1, "rate_parse(NULL)");
	T_INT(rate_parse("5/1m", NULL), -1, "rate_parse into NULL");
	T_INT(rate_duration(NULL), -1, "rate_duration(NULL)");

	diff_corpus("tests/fuzz/corpus/rate");
	for (len = 1; len <= 6; len++)
		diff_all(buf, 0, len);
	diff_random(4000000);
	diff_sweeps();
	printf("differential: %ld strings, %ld rates accepted, %ld "
	    "differences\n", d_strings, d_accepted, d_diff);
	T_INT(d_diff, 0, "strings on which the old and new parsers differ");
	T_OK(d_accepted > 100000, "accepted %ld", d_accepted);
	T_DONE();
}
