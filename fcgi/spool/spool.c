/*
 * spool: durable queue; see spool.h.  This file: ids, the directories,
 * claim, release, defer, fail, retry, scan, read, delete.  commit.c writes
 * a message durably (temporary file, fsync, rename, fsync of the
 * directory, dma's and nullmailer's discipline; only then does the
 * message exist), envelope.c holds the envelope format.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "spool/spool.h"
#include "spool/spool_int.h"

#define SPOOL_MAX_ENVELOPE	(64 * 1024)
#define SPOOL_BACKOFF_MIN	60
#define SPOOL_BACKOFF_MAX	3600

static const char *const spool_subdirs[] = {
	"tmp", "queue", "failed", "held", "bad"
};

static const char *
spool_state_dir(enum spool_state st)
{
	switch (st) {
	case SPOOL_FAILED:
		return "failed";
	case SPOOL_HELD:
		return "held";
	default:
		return "queue";
	}
}

int
spool_new_id(char id[SPOOL_ID_LEN + 1])
{
	static const char	 alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char		 r[64];
	size_t			 i, n = 0;

	while (n < SPOOL_ID_LEN) {
		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		/* Rejection sampling keeps the 36 symbols equally likely. */
		for (i = 0; i < sizeof(r) && n < SPOOL_ID_LEN; i++)
			if (r[i] < 252)
				id[n++] = alphabet[r[i] % 36];
	}
	id[n] = '\0';
	return 0;
}

int
spool_id_valid(const char *s)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return i == SPOOL_ID_LEN;
}

/*
 * Creates path (0700) when missing and gives it to uid/gid.  The service
 * user owns the parent: never follow a symbolic link it may have put
 * there, or root would chown the link's target to it.
 */
int
spool_mkdir_owned(const char *path, long uid, long gid)
{
	struct stat	 st;
	int		 fd, saved;

	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (uid != -1 && (st.st_uid != (uid_t)uid || st.st_gid != (gid_t)gid) &&
	    fchown(fd, (uid_t)uid, (gid_t)gid) == -1)
		goto fail;
	close(fd);
	return 0;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
spool_init(const char *dir, long uid, long gid)
{
	char	 p[PATH_MAX];
	size_t	 i;

	if (spool_mkdir_owned(dir, uid, gid) == -1)
		return -1;
	for (i = 0; i < sizeof(spool_subdirs) / sizeof(spool_subdirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, spool_subdirs[i]);
		if (spool_mkdir_owned(p, uid, gid) == -1)
			return -1;
	}
	return 0;
}

static const char *
spool_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISLNK(m))
		return "symlink";
	if (S_ISDIR(m))
		return "directory";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "device";
	return "other";
}

/*
 * Not a spool file: renamed into bad/ as <sub>.<name>.<kind>.<8 hex>, where
 * nothing reads it again (so it is logged once); the admin looks at it
 * and removes it.  rename(2) moves a link or a directory itself.
 */
void
spool_aside(const char *dir, const char *sub, const char *name, mode_t mode)
{
	struct stat	 st;
	char		 src[PATH_MAX], dst[PATH_MAX];
	unsigned int	 r = 0;
	const char	*kind = spool_kind(mode);
	int		 saved;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)getpid();
	if (snprintf(src, sizeof(src), "%s/%s/%s", dir, sub, name) >=
	    (int)sizeof(src) || snprintf(dst, sizeof(dst), "%s/bad/%s.%s.%s.%08x",
	    dir, sub, name, kind, r) >= (int)sizeof(dst))
		return;
	if (rename(src, dst) == 0) {
		log_err("spool: %s/%s is a %s, not a spool file: moved into "
		    "bad/", sub, name, kind);
		return;
	}
	/* Gone already (another runner moved it), or no bad/ yet? */
	saved = errno;
	if (saved == ENOENT && lstat(src, &st) == -1)
		return;
	log_err("spool: %s/%s is a %s, not a spool file, and cannot be "
	    "moved into bad/: %s", sub, name, kind, strerror(saved));
}

int
spool_open_file(const char *dir, const char *sub, const char *name)
{
	struct stat	 st;
	char		 p[PATH_MAX];
	int		 fd, saved;

	if (snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name) >=
	    (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* No open(2) of what is not regular: a device is never opened. */
	if (lstat(p, &st) == -1)
		return -1;
	if (!S_ISREG(st.st_mode))
		goto aside;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY);
	if (fd == -1) {
		/* Replaced since the lstat: a link (ELOOP), a socket (ENXIO). */
		saved = errno;
		if (lstat(p, &st) == 0 && !S_ISREG(st.st_mode))
			goto aside;
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	saved = errno;
	close(fd);
	if (S_ISREG(st.st_mode)) {
		errno = saved;
		return -1;
	}
aside:
	spool_aside(dir, sub, name, st.st_mode);
	errno = ENOENT;
	return -1;
}

/* Moves a file that cannot be parsed out of the way. */
static void
spool_quarantine(const char *dir, const char *id)
{
	char	 src[PATH_MAX], dst[PATH_MAX];

	snprintf(src, sizeof(src), "%s/queue/%s", dir, id);
	snprintf(dst, sizeof(dst), "%s/failed/%s", dir, id);
	if (rename(src, dst) == 0)
		log_err("spool: %s is corrupt, moved to failed/", id);
}

int
spool_claim(const char *dir, const char *id, struct spool_item **out)
{
	struct spool_item	*it;
	struct stat		 a, b;
	char			 path[PATH_MAX];
	char			*data = NULL;
	size_t			 len, body;
	int			 fd;

	*out = NULL;
	if (!spool_id_valid(id))
		return -1;
	snprintf(path, sizeof(path), "%s/queue/%s", dir, id);
	if ((fd = spool_open_file(dir, "queue", id)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		close(fd);
		return errno == EWOULDBLOCK ? 1 : -1;
	}
	/* Locked: is the path still this file (not delivered or replaced)? */
	if (fstat(fd, &a) == -1 || stat(path, &b) == -1 || a.st_nlink == 0 ||
	    a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
		close(fd);
		return 1;
	}
	if (envelope_read_fd(fd, SPOOL_MAX_FILE, &data, &len) == -1) {
		close(fd);
		return -1;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL ||
	    (it->path = strdup(path)) == NULL) {
		free(it);
		free(data);
		close(fd);
		return -1;
	}
	if (envelope_parse(id, data, len, &it->meta, &body) == -1) {
		spool_meta_clear(&it->meta);
		spool_quarantine(dir, id);
		free(it->path);
		free(it);
		free(data);
		close(fd);
		return -1;
	}
	memmove(data, data + body, len - body);
	it->msg = data;
	it->len = len - body;
	it->fd = fd;
	it->dir = dir;
	*out = it;
	return 0;
}

void
spool_meta_clear(struct spool_meta *m)
{
	size_t	 i;

	for (i = 0; i < m->nrcpt; i++) {
		free(m->rcpt[i]);
		m->rcpt[i] = NULL;
	}
	m->nrcpt = 0;
}

void
spool_release(struct spool_item *it)
{
	if (it == NULL)
		return;
	if (it->fd != -1)
		close(it->fd);
	spool_meta_clear(&it->meta);
	free(it->msg);
	free(it->path);
	free(it);
}

int
spool_done(struct spool_item *it)
{
	int	 rc = 0, saved = 0;

	/*
	 * No directory fsync after the unlink: if a crash undoes it, the
	 * message is sent once more, the same at-least-once duplicate as a
	 * lost final reply; it can never be lost this way.
	 */
	if (unlink(it->path) == -1) {
		rc = -1;
		saved = errno;
	}
	spool_release(it);
	if (rc == -1)
		errno = saved;
	return rc;
}

long
spool_backoff(unsigned attempts)
{
	long	 d = SPOOL_BACKOFF_MIN;

	while (attempts-- > 1 && d < SPOOL_BACKOFF_MAX)
		d *= 2;
	return d < SPOOL_BACKOFF_MAX ? d : SPOOL_BACKOFF_MAX;
}

/* d +/- 20 %, uniformly. */
static long
spool_jitter(long d)
{
	unsigned int	 r;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return d;
	return d - d / 5 + (long)(r % (unsigned)(2 * (d / 5) + 1));
}

static void
spool_set_error(struct spool_meta *m, const char *error)
{
	snprintf(m->error, sizeof(m->error), "%s", error ? error : "");
}

int
spool_fail(struct spool_item *it, const char *error)
{
	int	 rc = 0;

	spool_set_error(&it->meta, error);
	if (commit_write(it->dir, &it->meta, it->msg, it->len, ".fail",
	    "failed") == -1 || unlink(it->path) == -1 ||
	    commit_fsync_dir(it->dir, "queue") == -1)
		rc = -1;
	if (rc == -1)
		log_err("spool: %s: cannot move to failed/: %s", it->meta.id,
		    strerror(errno));
	spool_release(it);
	return rc;
}

int
spool_defer(struct spool_item *it, time_t now, long max_age,
    const char *error)
{
	int	 rc = 0;

	it->meta.attempts++;
	if (now - it->meta.created >= max_age)
		return spool_fail(it, error) == 0 ? 1 : -1;
	it->meta.next_try = now + spool_jitter(spool_backoff(it->meta.attempts));
	spool_set_error(&it->meta, error);
	if (commit_write(it->dir, &it->meta, it->msg, it->len, ".defer",
	    "queue") == -1) {
		log_err("spool: %s: cannot record the deferral: %s",
		    it->meta.id, strerror(errno));
		rc = -1;
	}
	spool_release(it);
	return rc;
}

int
spool_retry(const char *dir, const char *id, time_t now)
{
	struct spool_item	*it;
	DIR			*d;
	struct dirent		*de;
	char			 p[PATH_MAX];
	int			 n = 0, rc;

	if (id != NULL) {
		if ((rc = spool_claim(dir, id, &it)) != 0)
			return rc == 1 ? 0 : -1;
		it->meta.next_try = now;
		rc = commit_write(dir, &it->meta, it->msg, it->len, ".defer",
		    "queue");
		spool_release(it);
		return rc == 0 ? 1 : -1;
	}
	snprintf(p, sizeof(p), "%s/queue", dir);
	if ((d = opendir(p)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL)
		if (spool_id_valid(de->d_name) &&
		    spool_retry(dir, de->d_name, now) == 1)
			n++;
	closedir(d);
	return n;
}

int
spool_scan(const char *dir, enum spool_state st,
    int (*fn)(const struct spool_meta *, void *), void *arg)
{
	struct spool_meta	 m;
	DIR			*d;
	struct dirent		*de;
	char			 p[PATH_MAX];
	char			*data;
	size_t			 len, body;
	int			 fd, n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, spool_state_dir(st));
	if ((d = opendir(p)) == NULL)
		return errno == ENOENT ? 0 : -1;	/* no spool yet */
	while ((de = readdir(d)) != NULL) {
		if (!spool_id_valid(de->d_name))
			continue;
		if ((fd = spool_open_file(dir, spool_state_dir(st),
		    de->d_name)) == -1)
			continue;
		if (envelope_read_fd(fd, SPOOL_MAX_ENVELOPE, &data, &len) == 0) {
			if (envelope_parse(de->d_name, data, len, &m, &body) == 0) {
				n++;
				if (fn(&m, arg) == -1) {
					spool_meta_clear(&m);
					free(data);
					close(fd);
					break;
				}
			}
			spool_meta_clear(&m);
			free(data);
		}
		close(fd);
	}
	closedir(d);
	return n;
}

struct spool_tally {
	long	 n;
	time_t	 oldest;
};

static int
spool_tally(const struct spool_meta *m, void *arg)
{
	struct spool_tally	*t = arg;

	t->n++;
	if (t->oldest == 0 || m->created < t->oldest)
		t->oldest = m->created;
	return 0;
}

void
spool_census(const char *dir, struct stats_queue *sq)
{
	struct spool_tally	 q = { 0, 0 }, h = { 0, 0 }, f = { 0, 0 };

	if (spool_scan(dir, SPOOL_QUEUE, spool_tally, &q) == -1 ||
	    spool_scan(dir, SPOOL_HELD, spool_tally, &h) == -1 ||
	    spool_scan(dir, SPOOL_FAILED, spool_tally, &f) == -1)
		q.n = h.n = f.n = -1;
	sq->queued = q.n;
	sq->held = h.n;
	sq->failed = f.n;
	sq->oldest = q.oldest;
}

int
spool_read(const char *dir, enum spool_state st, const char *id,
    struct spool_meta *m, char **msg, size_t *len)
{
	char	*data;
	size_t	 dlen, body;
	int	 fd;

	memset(m, 0, sizeof(*m));
	if (!spool_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if ((fd = spool_open_file(dir, spool_state_dir(st), id)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (envelope_read_fd(fd, SPOOL_MAX_FILE, &data, &dlen) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	if (envelope_parse(id, data, dlen, m, &body) == -1) {
		spool_meta_clear(m);
		free(data);
		errno = EINVAL;
		return -1;
	}
	memmove(data, data + body, dlen - body);
	*msg = data;
	*len = dlen - body;
	return 0;
}

int
spool_release_held(const char *dir, const char *id, time_t now)
{
	struct spool_meta	 m;
	char			 src[PATH_MAX];
	char			*msg;
	size_t			 len;
	int			 rc;

	if ((rc = spool_read(dir, SPOOL_HELD, id, &m, &msg, &len)) != 0)
		return rc;
	m.next_try = now;
	rc = spool_commit_free(dir, &m, msg, len);
	spool_meta_clear(&m);
	free(msg);
	if (rc == -1)
		return -1;
	snprintf(src, sizeof(src), "%s/held/%s", dir, id);
	if (unlink(src) == -1 || commit_fsync_dir(dir, "held") == -1)
		return -1;
	return 0;
}

int
spool_delete(const char *dir, enum spool_state st, const char *id)
{
	struct spool_item	*it;
	char			 path[PATH_MAX];
	int			 rc;

	if (!spool_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (st == SPOOL_QUEUE) {
		/* Under the lock, so a message is not pulled from under a
		 * runner that is sending it. */
		if ((rc = spool_claim(dir, id, &it)) != 0)
			return rc;
		rc = spool_done(it);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, spool_state_dir(st), id);
	if (unlink(path) == -1)
		return errno == ENOENT ? 1 : -1;
	return commit_fsync_dir(dir, spool_state_dir(st));
}
