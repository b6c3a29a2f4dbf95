/*
 * spool: durable queue; see spool.h.  The commit discipline is the one of
 * dma and nullmailer: write a temporary file, fsync it, rename it into
 * place, fsync the directory.  Only then does the message exist.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/file.h"
#include "lib/log.h"
#include "spool/spool.h"

#define SPOOL_MAGIC		"form2mail-spool 1\n"
#define SPOOL_MAX_FILE		(256L * 1024 * 1024)
#define SPOOL_MAX_ENVELOPE	(64 * 1024)
#define SPOOL_BACKOFF_MIN	60
#define SPOOL_BACKOFF_MAX	3600
#define SPOOL_SYNC_MAGIC	0x66326d73796e6331ULL	/* "f2msync1" */

static const char *const spool_subdirs[] = { "tmp", "queue", "failed", "held" };

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

static int
spool_fsync_dir(const char *dir, const char *sub)
{
	char	 p[PATH_MAX];

	if (snprintf(p, sizeof(p), "%s/%s", dir, sub) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return file_fsync_dir(p);
}

/*
 * Group commit of the queue/ directory fsync.  Every process that commits
 * into the spool (workers, CGI runs) maps a small counters file (in
 * state_dir, so that it never keeps the spool's file system busy):
 * "linked" counts links made into queue/, "synced" the highest count a
 * finished fsync of queue/ covered.  After its link a committer takes a
 * ticket; if a fsync that began after its link has finished, its entry
 * is durable and it is done.  Otherwise it takes the flock (one fsync at
 * a time: the kernel drops the lock of a process that dies), checks
 * again, reads how many links exist now, fsyncs, and publishes that
 * count: one fsync covers every link made before it began.  Any doubt (no
 * mapping, a foreign file, another spool) falls back to a fsync of its
 * own.  A process that can write the file can only make others skip a
 * fsync: that risks durability, not integrity, and that process can
 * delete the spool anyway.
 */
struct spool_sync {
	uint64_t		 magic;
	_Atomic uint64_t	 linked;
	_Atomic uint64_t	 synced;
};

static struct {
	char			 dir[PATH_MAX];	/* the spool it serves */
	int			 fd;
	struct spool_sync	*s;
} spool_gc = { "", -1, NULL };

int
spool_sync_open(const char *path, const char *dir)
{
	struct stat	 st;
	void		*m;
	int		 fd;

	if (spool_gc.s != NULL) {
		munmap(spool_gc.s, sizeof(*spool_gc.s));
		close(spool_gc.fd);
		spool_gc.s = NULL;
		spool_gc.fd = -1;
	}
	if (strlen(dir) >= sizeof(spool_gc.dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size != (off_t)sizeof(struct spool_sync)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	m = mmap(NULL, sizeof(struct spool_sync), PROT_READ | PROT_WRITE,
	    MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return -1;
	}
	if (((struct spool_sync *)m)->magic != SPOOL_SYNC_MAGIC) {
		munmap(m, sizeof(struct spool_sync));
		close(fd);
		errno = EINVAL;
		return -1;
	}
	snprintf(spool_gc.dir, sizeof(spool_gc.dir), "%s", dir);
	spool_gc.fd = fd;
	spool_gc.s = m;
	return 0;
}

int
spool_sync_init(const char *path, long uid, long gid)
{
	struct spool_sync	 z;
	struct stat		 st;
	int			 fd, rc = -1;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	if (st.st_size != (off_t)sizeof(z)) {
		/* New, or not ours: start from zero. */
		memset(&z, 0, sizeof(z));
		z.magic = SPOOL_SYNC_MAGIC;
		if (ftruncate(fd, 0) == -1 ||
		    pwrite(fd, &z, sizeof(z), 0) != (ssize_t)sizeof(z) ||
		    fsync(fd) == -1)
			goto out;
	}
	if (uid != -1 && fchown(fd, (uid_t)uid, (gid_t)gid) == -1)
		goto out;
	rc = 0;
out:
	close(fd);
	return rc;
}

/* Makes the links into queue/ made so far durable (see above). */
static int
spool_sync_queue(const char *dir)
{
	struct spool_sync	*s;
	uint64_t		 ticket, target, cur;
	int			 rc;

	if ((s = spool_gc.s) == NULL || strcmp(spool_gc.dir, dir) != 0)
		return spool_fsync_dir(dir, "queue");
	ticket = atomic_fetch_add(&s->linked, 1) + 1;
	if (atomic_load(&s->synced) >= ticket)
		return 0;
	while (flock(spool_gc.fd, LOCK_EX) == -1)
		if (errno != EINTR)
			return spool_fsync_dir(dir, "queue");
	if (atomic_load(&s->synced) >= ticket) {
		flock(spool_gc.fd, LOCK_UN);
		return 0;
	}
	target = atomic_load(&s->linked);
	if ((rc = spool_fsync_dir(dir, "queue")) == 0) {
		cur = atomic_load(&s->synced);
		while (cur < target &&
		    !atomic_compare_exchange_weak(&s->synced, &cur, target))
			;
	}
	flock(spool_gc.fd, LOCK_UN);
	return rc;
}

static int
spool_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
spool_envelope(const struct spool_meta *m, struct buf *b)
{
	char	 esc[sizeof(m->error) * 4];
	size_t	 i;

	if (buf_printf(b, "%sform %s\ncreated %lld\nattempts %u\nnext_try "
	    "%lld\nfrom %s\n", SPOOL_MAGIC, m->form, (long long)m->created,
	    m->attempts, (long long)m->next_try, m->from) == -1)
		return -1;
	for (i = 0; i < m->nrcpt; i++)
		if (buf_printf(b, "rcpt %s\n", m->rcpt[i]) == -1)
			return -1;
	if (m->error[0] != '\0') {
		log_escape(esc, sizeof(esc), m->error, strlen(m->error));
		if (buf_printf(b, "error %s\n", esc) == -1)
			return -1;
	}
	return buf_addc(b, '\n');
}

/* Envelope values end up in SMTP commands and paths: check them again. */
static int
spool_meta_ok(const struct spool_meta *m)
{
	size_t	 i;

	if (!spool_id_valid(m->id) || m->form[0] == '\0' ||
	    strpbrk(m->form, " \r\n/") != NULL || m->nrcpt == 0 ||
	    !addr_spec_ok(m->from, strlen(m->from)))
		return 0;
	for (i = 0; i < m->nrcpt; i++)
		if (m->rcpt[i] == NULL ||
		    !addr_spec_ok(m->rcpt[i], strlen(m->rcpt[i])))
			return 0;
	return 1;
}

/*
 * Writes meta + msg into tmp/<id><suffix> and renames it to <to>/<id>.
 * With O_EXCL for a first commit; later rewrites (we hold the lock) may
 * find a leftover of a crash and truncate it.
 */
static int
spool_write(const char *dir, const struct spool_meta *m, const char *msg,
    size_t len, const char *suffix, const char *to)
{
	struct buf	 env = BUF_INIT;
	char		 tmp[PATH_MAX], dst[PATH_MAX];
	int		 fd = -1, rc = -1, saved;
	int		 flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW;

	if (!spool_meta_ok(m)) {
		errno = EINVAL;
		return -1;
	}
	flags |= suffix[0] == '\0' ? O_EXCL : O_TRUNC;
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s%s", dir, m->id, suffix);
	snprintf(dst, sizeof(dst), "%s/%s/%s", dir, to, m->id);
	if (spool_envelope(m, &env) == -1) {
		errno = ENOMEM;
		goto out;
	}
	if ((fd = open(tmp, flags, 0600)) == -1)
		goto out;
	if (spool_write_all(fd, env.data, env.len) == -1 ||
	    spool_write_all(fd, msg, len) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* A first commit must not replace anything: link() refuses an
	 * existing name where rename() would not. */
	if (suffix[0] == '\0') {
		if (link(tmp, dst) == -1)
			goto fail;
		unlink(tmp);
	} else if (rename(tmp, dst) == -1)
		goto fail;
	if ((suffix[0] == '\0' && strcmp(to, "queue") == 0 ?
	    spool_sync_queue(dir) : spool_fsync_dir(dir, to)) == -1)
		goto out;	/* renamed; the caller must not claim success */
	rc = 0;
	goto out;
fail:
	saved = errno;
	unlink(tmp);
	errno = saved;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	buf_free(&env);
	errno = saved;
	return rc;
}

static int
spool_commit_to(const char *dir, const struct spool_meta *m, const char *msg,
    size_t len, const char *to)
{
	char	 dst[PATH_MAX];
	int	 saved;

	if (spool_write(dir, m, msg, len, "", to) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;	/* someone else's message: leave it */
	/*
	 * The link may have happened before the directory fsync failed:
	 * take the file back so the visitor's "failed" answer is true.
	 */
	saved = errno;
	snprintf(dst, sizeof(dst), "%s/%s/%s", dir, to, m->id);
	if (spool_id_valid(m->id))
		unlink(dst);
	errno = saved;
	return -1;
}

int
spool_commit(const char *dir, const struct spool_meta *m, const char *msg,
    size_t len)
{
	return spool_commit_to(dir, m, msg, len, "queue");
}

int
spool_commit_held(const char *dir, const struct spool_meta *m,
    const char *msg, size_t len)
{
	return spool_commit_to(dir, m, msg, len, "held");
}


static long long
spool_num(const char *s)
{
	char		*end;
	long long	 n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end != '\0' || end == s || n < 0)
		return -1;
	return n;
}

static int
spool_copy(char *dst, size_t size, const char *src)
{
	if (strlen(src) >= size)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * Parses the envelope at the start of data.  Sets *body to the offset of
 * the message.  Returns 0 or -1 (malformed).
 */
static int
spool_parse(const char *id, char *data, size_t len, struct spool_meta *m,
    size_t *body)
{
	char		*p = data, *end = data + len, *nl, *val;
	long long	 n;
	size_t		 ml = strlen(SPOOL_MAGIC);

	memset(m, 0, sizeof(*m));
	if (spool_copy(m->id, sizeof(m->id), id) == -1)
		return -1;
	if (len < ml || memcmp(data, SPOOL_MAGIC, ml) != 0)
		return -1;
	p += ml;
	for (;;) {
		if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		if (nl == p)
			break;
		*nl = '\0';
		if (memchr(p, '\0', (size_t)(nl - p)) != NULL ||
		    (val = strchr(p, ' ')) == NULL)
			return -1;
		*val++ = '\0';
		if (strcmp(p, "form") == 0) {
			if (spool_copy(m->form, sizeof(m->form), val) == -1)
				return -1;
		} else if (strcmp(p, "from") == 0) {
			if (spool_copy(m->from, sizeof(m->from), val) == -1)
				return -1;
		} else if (strcmp(p, "error") == 0) {
			if (spool_copy(m->error, sizeof(m->error), val) == -1)
				m->error[0] = '\0';
		} else if (strcmp(p, "rcpt") == 0) {
			if (m->nrcpt == SPOOL_MAX_RCPT ||
			    (m->rcpt[m->nrcpt] = strdup(val)) == NULL)
				return -1;
			m->nrcpt++;
		} else {
			if ((n = spool_num(val)) < 0)
				return -1;
			if (strcmp(p, "created") == 0)
				m->created = (time_t)n;
			else if (strcmp(p, "attempts") == 0)
				m->attempts = (unsigned)(n > 100000 ? 100000 : n);
			else if (strcmp(p, "next_try") == 0)
				m->next_try = (time_t)n;
			else
				return -1;
		}
		p = nl + 1;
	}
	*body = (size_t)(p + 1 - data);
	return spool_meta_ok(m) ? 0 : -1;
}

static int
spool_read_fd(int fd, size_t max, char **out, size_t *outlen)
{
	struct stat	 st;
	char		*data;
	size_t		 want, got = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size > SPOOL_MAX_FILE) {
		errno = EFBIG;
		return -1;
	}
	want = (size_t)st.st_size < max ? (size_t)st.st_size : max;
	if ((data = malloc(want + 1)) == NULL)
		return -1;
	while (got < want) {
		n = pread(fd, data + got, want - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(data);
			errno = n == 0 ? EIO : errno;
			return -1;
		}
		got += (size_t)n;
	}
	data[got] = '\0';
	*out = data;
	*outlen = got;
	return 0;
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
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
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
	if (spool_read_fd(fd, SPOOL_MAX_FILE, &data, &len) == -1) {
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
	if (spool_parse(id, data, len, &it->meta, &body) == -1) {
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
	if (spool_write(it->dir, &it->meta, it->msg, it->len, ".fail",
	    "failed") == -1 || unlink(it->path) == -1 ||
	    spool_fsync_dir(it->dir, "queue") == -1)
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
	if (spool_write(it->dir, &it->meta, it->msg, it->len, ".defer",
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
		rc = spool_write(dir, &it->meta, it->msg, it->len, ".defer",
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
		snprintf(p, sizeof(p), "%s/%s/%s", dir, spool_state_dir(st),
		    de->d_name);
		if ((fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
			continue;
		if (spool_read_fd(fd, SPOOL_MAX_ENVELOPE, &data, &len) == 0) {
			if (spool_parse(de->d_name, data, len, &m, &body) == 0) {
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
	char	 path[PATH_MAX];
	char	*data;
	size_t	 dlen, body;
	int	 fd;

	memset(m, 0, sizeof(*m));
	if (!spool_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, spool_state_dir(st), id);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return errno == ENOENT ? 1 : -1;
	if (spool_read_fd(fd, SPOOL_MAX_FILE, &data, &dlen) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	if (spool_parse(id, data, dlen, m, &body) == -1) {
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
	rc = spool_commit(dir, &m, msg, len);
	spool_meta_clear(&m);
	free(msg);
	if (rc == -1)
		return -1;
	snprintf(src, sizeof(src), "%s/held/%s", dir, id);
	if (unlink(src) == -1 || spool_fsync_dir(dir, "held") == -1)
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
	return spool_fsync_dir(dir, spool_state_dir(st));
}
