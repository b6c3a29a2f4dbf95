/*
 * stats: shared counters; see stats.h.  The file is a fixed array of
 * 64-bit counters behind a small header; every process maps it and adds
 * with __atomic builtins, so no lock is needed and a process killed in
 * the middle leaves nothing half done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/stats.h"

#define STATS_MAGIC	0x66326d7374617431ULL	/* "f2mstat1" */
#define STATS_SLOTS	64			/* room to grow */

struct stats_file {
	uint64_t	 magic;
	uint64_t	 counters[STATS_SLOTS];
};

struct stats {
	struct stats_file	*f;
};

_Static_assert(STATS_NCOUNTERS <= STATS_SLOTS, "stats slots");

static const struct {
	const char	*metric;
	const char	*label;		/* reason="..." or NULL */
	const char	*help;
} stats_names[STATS_NCOUNTERS] = {
	[STATS_ACCEPTED] = { "form2mail_accepted_total", NULL,
	    "Posts committed to the spool" },
	[STATS_HELD] = { "form2mail_held_total", NULL,
	    "Posts held for the admin by rspamd" },
	[STATS_SPAM] = { "form2mail_rejected_total", "spam", NULL },
	[STATS_DUPLICATE] = { "form2mail_rejected_total", "duplicate", NULL },
	[STATS_THROTTLED] = { "form2mail_throttled_total", NULL,
	    "Posts answered 429" },
	[STATS_INVALID] = { "form2mail_rejected_total", "invalid", NULL },
	[STATS_CHALLENGE] = { "form2mail_rejected_total", "challenge", NULL },
	[STATS_FORBIDDEN] = { "form2mail_rejected_total", "forbidden", NULL },
	[STATS_TOO_LARGE] = { "form2mail_rejected_total", "too_large", NULL },
	[STATS_BAD_TYPE] = { "form2mail_rejected_total", "bad_type", NULL },
	[STATS_NOT_FOUND] = { "form2mail_rejected_total", "not_found", NULL },
	[STATS_BAD_METHOD] = { "form2mail_rejected_total", "bad_method",
	    NULL },
	[STATS_BAD_REQUEST] = { "form2mail_rejected_total", "bad_request",
	    NULL },
	[STATS_UNAVAILABLE] = { "form2mail_rejected_total", "unavailable",
	    NULL },
	[STATS_DELIVERED] = { "form2mail_delivered_total", NULL,
	    "Messages the provider accepted" },
	[STATS_DEFERRED] = { "form2mail_deferred_total", NULL,
	    "Delivery attempts deferred for a retry" },
	[STATS_FAILED] = { "form2mail_failed_total", NULL,
	    "Messages moved to failed/" },
};

int
stats_open(const char *state_dir, struct stats **out, char *err,
    size_t errsize)
{
	struct stats	*s;
	struct stat	 st;
	char		 path[4096];
	void		*p;
	int		 fd;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/stats.shm", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_size != 0 && st.st_size != sizeof(struct stats_file)) ||
	    (st.st_size == 0 && ftruncate(fd, sizeof(struct stats_file)) ==
	    -1)) {
		snprintf(err, errsize, "%s: not a stats file of %zu octets",
		    path, sizeof(struct stats_file));
		close(fd);
		return -1;
	}
	p = mmap(NULL, sizeof(struct stats_file), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED || (s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		if (p != MAP_FAILED)
			munmap(p, sizeof(struct stats_file));
		return -1;
	}
	s->f = p;
	/* A new (zero) file: claim it.  Anything else but ours: reset. */
	if (__atomic_load_n(&s->f->magic, __ATOMIC_ACQUIRE) != STATS_MAGIC) {
		memset(s->f->counters, 0, sizeof(s->f->counters));
		__atomic_store_n(&s->f->magic, STATS_MAGIC, __ATOMIC_RELEASE);
	}
	*out = s;
	return 0;
}

void
stats_inc(struct stats *s, enum stats_counter c)
{
	if (s == NULL || c >= STATS_NCOUNTERS)
		return;
	__atomic_fetch_add(&s->f->counters[c], 1, __ATOMIC_RELAXED);
}

uint64_t
stats_get(const struct stats *s, enum stats_counter c)
{
	if (s == NULL || c >= STATS_NCOUNTERS)
		return 0;
	return __atomic_load_n(&s->f->counters[c], __ATOMIC_RELAXED);
}

int
stats_render(const struct stats *s, const struct stats_queue *sq,
    struct buf *out)
{
	size_t			 i, j, k;
	time_t			 now = time(NULL);

	/*
	 * Text format 0.0.4: every line of a metric family in one group, its
	 * HELP and TYPE first.  Families in the order of first appearance.
	 */
	for (i = 0; i < STATS_NCOUNTERS; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(stats_names[k].metric,
			    stats_names[i].metric) == 0)
				break;
		if (k < i)
			continue;	/* its family is out already */
		if (buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n",
		    stats_names[i].metric, stats_names[i].help ?
		    stats_names[i].help : "Posts refused, by reason",
		    stats_names[i].metric) == -1)
			return -1;
		for (j = i; j < STATS_NCOUNTERS; j++) {
			if (strcmp(stats_names[j].metric,
			    stats_names[i].metric) != 0)
				continue;
			if ((stats_names[j].label != NULL ?
			    buf_printf(out, "%s{reason=\"%s\"} %llu\n",
			    stats_names[j].metric, stats_names[j].label,
			    (unsigned long long)stats_get(s, j)) :
			    buf_printf(out, "%s %llu\n", stats_names[j].metric,
			    (unsigned long long)stats_get(s, j))) == -1)
				return -1;
		}
	}
	return buf_printf(out, "# HELP form2mail_spool_messages Messages in the "
	    "spool, by state\n# TYPE form2mail_spool_messages gauge\n"
	    "form2mail_spool_messages{state=\"queued\"} %ld\n"
	    "form2mail_spool_messages{state=\"held\"} %ld\n"
	    "form2mail_spool_messages{state=\"failed\"} %ld\n"
	    "# HELP form2mail_oldest_queued_seconds Age of the oldest queued "
	    "message\n# TYPE form2mail_oldest_queued_seconds gauge\n"
	    "form2mail_oldest_queued_seconds %lld\n", sq->queued, sq->held,
	    sq->failed, (long long)(sq->oldest ? now - sq->oldest : 0));
}

void
stats_close(struct stats *s)
{
	if (s == NULL)
		return;
	munmap(s->f, sizeof(struct stats_file));
	free(s);
}
