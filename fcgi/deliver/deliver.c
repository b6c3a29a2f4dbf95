/*
 * deliver: the delivery runner; see deliver.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "deliver/deliver.h"
#include "lib/file.h"
#include "lib/log.h"
#include "deliver/sign.h"
#include "deliver/smtp.h"
#include "spool/spool.h"
#include "lib/stats.h"
#include "throttle/throttle.h"

#define DELIVER_MAX_IDS		10000	/* claimed per round */
#define DELIVER_MAX_UNREMOVED	256	/* sent, not removable: ids kept */

struct deliver {
	const struct conf	*cf;
	struct sign		*sign;
	struct smtp		*smtp;
	char			*password;
	struct throttle		*pace;	/* provider cap, autoreply count */
	struct stats		*stats;	/* NULL: not counted */
	long			 pause;		/* after a config error, s */
	time_t			 pause_until;
	/*
	 * Sent, but the spool file could not be removed (queue/ read-only
	 * or not writable): never sent again by this runner, only its
	 * removal is tried again at each round.
	 */
	char			 unremoved[DELIVER_MAX_UNREMOVED]
				    [SPOOL_ID_LEN + 1];
	size_t			 nunremoved;
};

/* ---- provider pacing (smtp.max_per_hour) -------------------------- */

/*
 * At most max_per_hour messages in any window of pacing_period: a sliding
 * window in the throttle table (throttle_window()), in Redis when the
 * throttle backend is Redis (so every node shares the provider's cap),
 * else in a small table of its own, state_dir/pacing.shm, kept across
 * restarts.  A slot is taken before the send, so a failed send still
 * counts: the cap is never passed.  Returns 0 when a message may go now,
 * else the time it may.
 */
static time_t
deliver_pace_wait(struct deliver *d, time_t now)
{
	long		 wait = 0;
	int		 rc;

	if (d->cf->smtp.max_per_hour <= 0)
		return 0;
	rc = throttle_window(d->pace, "provider", d->cf->smtp.max_per_hour,
	    d->cf->smtp.pacing_period, throttle_now_us(), &wait);
	if (rc == 1)
		return 0;
	if (rc == -1) {
		/* Not knowing the count, do not risk passing the cap. */
		log_err("deliver: pacing: %s; waiting", strerror(errno));
		return now + 5;
	}
	return now + (wait > 0 ? wait : 1);
}

static int
deliver_pace_open(struct deliver *d, char *err, size_t errsize)
{
	char	 path[4096];

	if (d->cf->throttle.redis)
		return throttle_open_redis(d->cf->throttle.redis_url,
		    THROTTLE_REDIS_TIMEOUT_MS, &d->pace, err, errsize);
	snprintf(path, sizeof(path), "%s/pacing.shm", d->cf->state_dir);
	return throttle_open(path, THROTTLE_MIN_ENTRIES, &d->pace, err,
	    errsize);
}

/* ---- runner ------------------------------------------------------- */

int
deliver_open(const struct conf *cf, struct deliver **out, char *err,
    size_t errsize)
{
	struct deliver	*d;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	d->cf = cf;
	if (stats_open(cf->state_dir, &d->stats, err, errsize) == -1)
		log_warn("stats: %s; counting nothing", err);
	/* The table also counts autoreplies (deliver_envelope_ok). */
	if (deliver_pace_open(d, err, errsize) == -1)
		goto fail;
	if (sign_open(cf, &d->sign, err, errsize) == -1)
		goto fail;
	if (cf->smtp.username != NULL &&
	    (d->password = file_read_secret(cf->smtp.password_file, err,
	    errsize)) == NULL)
		goto fail;
	if (smtp_open(&cf->smtp, d->password, cf->hostname, &d->smtp) == -1) {
		snprintf(err, errsize, "cannot set up libcurl");
		goto fail;
	}
	/* libcurl keeps its own copy: ours need not live on. */
	if (d->password != NULL) {
		explicit_bzero(d->password, strlen(d->password));
		free(d->password);
		d->password = NULL;
	}
	*out = d;
	return 0;
fail:
	deliver_close(d);
	return -1;
}

void
deliver_close(struct deliver *d)
{
	if (d == NULL)
		return;
	smtp_close(d->smtp);
	sign_close(d->sign);
	if (d->password != NULL) {
		explicit_bzero(d->password, strlen(d->password));
		free(d->password);
	}
	throttle_close(d->pace);
	stats_close(d->stats);
	free(d);
}

struct deliver_list {
	char	(*ids)[SPOOL_ID_LEN + 1];
	time_t	*due;
	size_t	 n;
	time_t	 now;
	time_t	 next;
};

static int
deliver_collect(const struct spool_meta *m, void *arg)
{
	struct deliver_list	*l = arg;

	if (m->next_try > l->now) {
		if (l->next == 0 || m->next_try < l->next)
			l->next = m->next_try;
		return 0;
	}
	if (l->n == DELIVER_MAX_IDS) {
		l->next = l->now;	/* more next round */
		return 0;
	}
	memcpy(l->ids[l->n], m->id, sizeof(l->ids[0]));
	l->due[l->n++] = m->next_try;
	return 0;
}

struct deliver_due_id {
	time_t	 due;
	char	 id[SPOOL_ID_LEN + 1];
};

static int
deliver_cmp(const void *a, const void *b)
{
	const struct deliver_due_id *x = a, *y = b;

	return x->due < y->due ? -1 : x->due > y->due;
}

/* Oldest due first, so a backlog drains in order. */
static void
deliver_sort(struct deliver_list *l)
{
	struct deliver_due_id	*v;
	size_t			 i;

	if (l->n < 2 || (v = calloc(l->n, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < l->n; i++) {
		v[i].due = l->due[i];
		memcpy(v[i].id, l->ids[i], sizeof(v[i].id));
	}
	qsort(v, l->n, sizeof(*v), deliver_cmp);
	for (i = 0; i < l->n; i++) {
		l->due[i] = v[i].due;
		memcpy(l->ids[i], v[i].id, sizeof(v[i].id));
	}
	free(v);
}

static int
deliver_in(const struct conf_mailbox *m, size_t n, const char *addr)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(m[i].addr, addr) == 0)
			return 1;
	return 0;
}

/*
 * The spool is written by the workers, which face the visitors: a
 * compromised one could drop a file of its own for us to sign and send.
 * So the envelope must be one the config allows: our envelope sender, a
 * form of the config, recipients among that form's addresses, or one
 * recipient of a form with an autoresponder, within its daily count here.
 * Returns NULL when it is, else the reason.
 */
static const char *
deliver_envelope_ok(struct deliver *d, const struct spool_meta *m)
{
	const struct conf_form	*f;
	char			 key[160];
	size_t			 i, k;
	long			 wait;
	int			 all = 1;

	if (strcmp(m->from, d->cf->envelope_from) != 0)
		return "envelope sender not in config";
	if ((f = conf_form_find(d->cf, m->form, strlen(m->form))) == NULL)
		return "form not in config";
	for (i = 0; i < m->nrcpt && all; i++) {
		all = deliver_in(f->to, f->nto, m->rcpt[i]) ||
		    deliver_in(f->cc, f->ncc, m->rcpt[i]) ||
		    deliver_in(f->bcc, f->nbcc, m->rcpt[i]);
		for (k = 0; !all && k < f->nchoices; k++)
			all = deliver_in(f->choices[k].to, f->choices[k].nto,
			    m->rcpt[i]);
	}
	if (all)
		return NULL;
	if (f->auto_text == NULL || m->nrcpt != 1)
		return "recipients not in config";
	snprintf(key, sizeof(key), "autoreply:%s", f->id);
	if (throttle_window(d->pace, key, f->auto_max_per_day, 86400,
	    throttle_now_us(), &wait) != 1)
		return "autoreplies over max_per_day";
	return NULL;
}

/* ---- sent but not removed ----------------------------------------- */

static int
deliver_unremoved_find(const struct deliver *d, const char *id)
{
	size_t	 k;

	for (k = 0; k < d->nunremoved; k++)
		if (strcmp(d->unremoved[k], id) == 0)
			return (int)k;
	return -1;
}

static void
deliver_unremoved_drop(struct deliver *d, size_t k)
{
	if (--d->nunremoved != k)
		memcpy(d->unremoved[k], d->unremoved[d->nunremoved],
		    sizeof(d->unremoved[k]));
}

/* Forgets the ids whose file is gone (removed by someone else). */
static void
deliver_unremoved_purge(struct deliver *d)
{
	char	 path[4096];
	size_t	 k = 0;

	while (k < d->nunremoved) {
		snprintf(path, sizeof(path), "%s/queue/%s", d->cf->spool_dir,
		    d->unremoved[k]);
		if (access(path, F_OK) == -1 && errno == ENOENT)
			deliver_unremoved_drop(d, k);
		else
			k++;
	}
}

/* A message sent earlier: try to remove it again, never send it. */
static void
deliver_unremoved_retry(struct deliver *d, size_t k)
{
	struct spool_item	*it;
	char			 id[SPOOL_ID_LEN + 1];

	memcpy(id, d->unremoved[k], sizeof(id));
	if (spool_claim(d->cf->spool_dir, id, &it) != 0)
		return;
	if (spool_done(it) == 0) {
		deliver_unremoved_drop(d, k);
		log_info("deliver id=%s: sent earlier, now removed from the "
		    "spool", id);
	}
}

/*
 * Before the send: the envelope against the config, then the signatures
 * into data, followed by the message.  Returns 0, or -1 with the item
 * moved to failed/ and released (data freed).
 */
static int
deliver_prepare(struct deliver *d, struct spool_item *it, struct buf *data)
{
	char		 err[512];
	const char	*why;

	if ((why = deliver_envelope_ok(d, &it->meta)) != NULL) {
		log_err("deliver id=%s form=%s outcome=failed error=\"%s\" "
		    "(not sent: is something writing into the spool?)",
		    it->meta.id, it->meta.form, why);
		spool_fail(it, why);
		return -1;
	}
	if (sign_message(d->sign, it->msg, it->len, data, err,
	    sizeof(err)) == -1 || buf_add(data, it->msg, it->len) == -1) {
		/* The message itself is at fault and would fail every time:
		 * keep it in failed/ for the admin instead of retrying. */
		log_err("deliver id=%s outcome=failed error=\"DKIM signing: "
		    "%s\"", it->meta.id, err);
		spool_fail(it, "DKIM signing failed");
		buf_free(data);
		return -1;
	}
	return 0;
}

/*
 * After the send: counts, logs and records smtp_send()'s result r (err
 * its reason) on the item, which is released.  t0: when the delivery
 * began.  Returns deliver_one()'s value.
 */
static int
deliver_record(struct deliver *d, struct spool_item *it, enum smtp_result r,
    const char *err, const struct timespec *t0)
{
	struct timespec		 t1;
	time_t			 now;
	char			 id[SPOOL_ID_LEN + 1];
	int			 sent = 0;

	memcpy(id, it->meta.id, sizeof(id));
	now = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	switch (r) {
	case SMTP_SENT:
		d->pause = 0;
		stats_inc(d->stats, STATS_DELIVERED);
		log_info("deliver id=%s form=%s outcome=sent rcpt=%zu "
		    "attempts=%u ms=%ld", it->meta.id, it->meta.form,
		    it->meta.nrcpt, it->meta.attempts + 1,
		    (long)((t1.tv_sec - t0->tv_sec) * 1000 +
		    (t1.tv_nsec - t0->tv_nsec) / 1000000));
		/* spool_done() releases it: only the copy of the id is left. */
		if (spool_done(it) == -1) {
			log_err("deliver id=%s: sent but not removed from the "
			    "spool: %s; not sent again by this process, a "
			    "new one may send it once more", id,
			    strerror(errno));
			if (d->nunremoved < DELIVER_MAX_UNREMOVED)
				memcpy(d->unremoved[d->nunremoved++], id,
				    sizeof(id));
		}
		sent = 1;
		break;
	case SMTP_FAIL:
		stats_inc(d->stats, STATS_FAILED);
		log_err("deliver id=%s form=%s outcome=failed error=\"%s\"",
		    it->meta.id, it->meta.form, err);
		spool_fail(it, err);
		break;
	case SMTP_CONFIG:
		/*
		 * Login refused, certificate wrong, no STARTTLS: the same for
		 * every message.  Keep this one queued whatever its age, and
		 * pause the whole queue (60 s doubling to 1 h) so a wrong
		 * password is not tried once per message: providers lock
		 * accounts for less.
		 */
		d->pause = d->pause ? (d->pause * 2 < 3600 ? d->pause * 2 :
		    3600) : 60;
		d->pause_until = now + d->pause;
		log_err("deliver id=%s form=%s outcome=config_error "
		    "error=\"%s\" (kept in the queue; the admin must fix the "
		    "smtp settings; next try in %lds)", it->meta.id,
		    it->meta.form, err, d->pause);
		spool_defer(it, now, LONG_MAX, err);
		stats_inc(d->stats, STATS_DEFERRED);
		sent = -1;
		break;
	default:
		log_warn("deliver id=%s form=%s outcome=deferred error=\"%s\"",
		    it->meta.id, it->meta.form, err);
		stats_inc(d->stats, STATS_DEFERRED);
		if (spool_defer(it, now, d->cf->max_age, err) == 1)
			log_err("deliver id=%s: older than max_age, moved to "
			    "failed/", it->meta.id);
		break;
	}
	return sent;
}

/* Delivers one claimed message; the item is released in every case. */
static int
deliver_one(struct deliver *d, struct spool_item *it)
{
	struct buf		 data = BUF_INIT;
	struct timespec		 t0;
	char			 err[512];
	enum smtp_result	 r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (deliver_prepare(d, it, &data) == -1)
		return 0;
	r = smtp_send(d->smtp, it->meta.from, (const char *const *)it->meta.rcpt,
	    it->meta.nrcpt, data.data, data.len, err, sizeof(err));
	buf_free(&data);
	return deliver_record(d, it, r, err, &t0);
}

int
deliver_due(struct deliver *d, volatile sig_atomic_t *stop, time_t *next_due)
{
	struct deliver_list	 l;
	struct spool_item	*it;
	time_t			 pace;
	size_t			 i;
	int			 n = 0, rc, k;

	memset(&l, 0, sizeof(l));
	l.now = time(NULL);
	*next_due = 0;
	l.ids = calloc(DELIVER_MAX_IDS, sizeof(*l.ids));
	l.due = calloc(DELIVER_MAX_IDS, sizeof(*l.due));
	if (l.ids == NULL || l.due == NULL ||
	    spool_scan(d->cf->spool_dir, SPOOL_QUEUE, deliver_collect, &l) ==
	    -1) {
		free(l.ids);
		free(l.due);
		return -1;
	}
	deliver_sort(&l);
	if (d->pause_until > l.now) {
		*next_due = d->pause_until;
		free(l.ids);
		free(l.due);
		return 0;
	}
	deliver_unremoved_purge(d);
	for (i = 0; i < l.n && !*stop; i++) {
		if ((k = deliver_unremoved_find(d, l.ids[i])) != -1) {
			deliver_unremoved_retry(d, (size_t)k);
			continue;
		}
		/*
		 * A message sent now and not removable could not be
		 * remembered: send nothing until the spool is writable.
		 */
		if (d->nunremoved == DELIVER_MAX_UNREMOVED)
			continue;
		/* Claimed first: a message another deliverer holds must
		 * not use up a slot of the provider's cap. */
		if ((rc = spool_claim(d->cf->spool_dir, l.ids[i], &it)) != 0) {
			if (rc == -1)
				log_err("deliver id=%s: cannot claim: %s",
				    l.ids[i], strerror(errno));
			continue;
		}
		/* A runner may have deferred it since the scan. */
		if (it->meta.next_try > time(NULL)) {
			if (l.next == 0 || it->meta.next_try < l.next)
				l.next = it->meta.next_try;
			spool_release(it);
			continue;
		}
		if ((pace = deliver_pace_wait(d, time(NULL))) != 0) {
			spool_release(it);
			log_info("deliver: smtp.max_per_hour reached, %zu "
			    "message(s) wait", l.n - i);
			l.next = l.next == 0 || pace < l.next ? pace : l.next;
			break;
		}
		if ((rc = deliver_one(d, it)) == -1) {
			l.next = d->pause_until;
			i = l.n;	/* the rest waits for the pause */
			break;
		}
		n += rc;
	}
	if (i < l.n && l.next == 0)
		l.next = time(NULL);
	*next_due = l.next;
	free(l.ids);
	free(l.due);
	return n;
}

void
deliver_loop(struct deliver *d, volatile sig_atomic_t *stop)
{
	char		 path[4096];
	char		 ev[4096] __attribute__((aligned(8)));
	struct pollfd	 pfd;
	time_t		 next = 0, now, last = 0;
	int		 ifd, scan = 1, n, total = 0;

	snprintf(path, sizeof(path), "%s/queue", d->cf->spool_dir);
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd != -1 && inotify_add_watch(ifd, path, IN_MOVED_TO | IN_CREATE) == -1) {
		log_warn("deliver: inotify on %s: %s; polling every second",
		    path, strerror(errno));
		close(ifd);
		ifd = -1;
	}
	while (!*stop) {
		now = time(NULL);
		/* A full scan every 30 s catches what inotify cannot see. */
		if (scan || (next != 0 && next <= now) || now - last >= 30) {
			if ((n = deliver_due(d, stop, &next)) == -1)
				log_err("deliver: cannot read the queue %s: %s",
				    path, strerror(errno));
			else if ((total += n) >= DELIVER_RECYCLE) {
				log_info("deliver: %d messages sent; handing over "
				    "to a fresh process", total);
				break;
			}
			last = now;
			scan = 0;
		}
		pfd.fd = ifd;
		pfd.events = POLLIN;
		if (poll(&pfd, ifd != -1 ? 1 : 0, 1000) > 0) {
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
			scan = 1;
		} else if (ifd == -1)
			scan = 1;
	}
	if (ifd != -1)
		close(ifd);
}
