/* test_spool: commit, claim, defer, fail, retry, scan on a real directory. */
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool/spool.h"
#include "t.h"

static char	 dir[] = "/tmp/f2m-test-spool-XXXXXX";

static int
count(const char *sub)
{
	char		 p[512];
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	snprintf(p, sizeof(p), "%s/%s", dir, sub);
	if ((d = opendir(p)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char	 rcpt_a[] = "a@example.test", rcpt_b[] = "b@example.test";
static char	 rcpt_evil[] = "b@example.test\r\nRCPT TO:<x@evil.test>";

static void
meta_init(struct spool_meta *m, const char *id)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	snprintf(m->form, sizeof(m->form), "contact");
	snprintf(m->from, sizeof(m->from), "bounces@example.test");
	m->rcpt[0] = rcpt_a;
	m->rcpt[1] = rcpt_b;
	m->nrcpt = 2;
	m->created = 1000;
	m->next_try = 1000;
}

/* commit.seq as spool.c lays it out: magic, linked, synced. */
static int
read_seq(unsigned long long v[3])
{
	char	 p[512];
	int	 fd, ok;

	snprintf(p, sizeof(p), "%s/commit.seq", dir);	/* beside the spool */
	if ((fd = open(p, O_RDONLY)) == -1)
		return -1;
	ok = pread(fd, v, 3 * sizeof(v[0]), 0) == (ssize_t)(3 * sizeof(v[0]));
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Group commit: several processes commit at once; every commit reports
 * success only once a fsync of queue/ that began after its link is over.
 * The counters show every link counted and covered.
 */
static void
test_group_commit(void)
{
	static const char	 msg[] = "Subject: g\r\n\r\nbody\r\n";
	unsigned long long	 v[3], w[3];
	struct spool_meta	 m;
	char			 id[SPOOL_ID_LEN + 1], p[512];
	pid_t			 kids[4];
	int			 i, k, st, fd, bad = 0;

	snprintf(p, sizeof(p), "%s/commit.seq", dir);
	T_INT(spool_sync_init(p, -1, -1), 0, "sync init");
	T_INT(read_seq(v), 0, "commit.seq readable");
	T_INT(spool_sync_init(p, -1, -1), 0, "sync init again keeps it");
	T_INT(read_seq(w), 0, "commit.seq readable again");
	T_OK(v[1] == w[1] && v[2] == w[2], "counters kept by a second init");
	for (k = 0; k < 4; k++) {
		if ((kids[k] = fork()) == 0) {
			if (spool_sync_open(p, dir) == -1)
				_exit(3);
			for (i = 0; i < 50; i++) {
				if (spool_new_id(id) == -1)
					_exit(2);
				meta_init(&m, id);
				if (spool_commit(dir, &m, msg,
				    sizeof(msg) - 1) == -1)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (k = 0; k < 4; k++)
		if (kids[k] == -1 || waitpid(kids[k], &st, 0) == -1 ||
		    !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	T_INT(bad, 0, "4 processes x 50 concurrent commits succeed");
	T_INT(read_seq(w), 0, "commit.seq after the commits");
	T_INT(w[1] - v[1], 200, "every link counted");
	T_INT(w[2], w[1], "every link covered by a finished fsync");
	T_INT(count("queue"), 200, "200 queued");

	/* A foreign commit.seq: not mapped, commits fsync on their own. */
	fd = open(p, O_WRONLY | O_TRUNC);
	T_OK(fd != -1 && write(fd, "junk", 4) == 4, "commit.seq spoiled");
	close(fd);
	if (fork() == 0) {	/* a fresh process maps the file anew */
		if (spool_sync_open(p, dir) != -1)
			_exit(3);
		if (spool_new_id(id) == -1)
			_exit(2);
		meta_init(&m, id);
		_exit(spool_commit(dir, &m, msg, sizeof(msg) - 1) == 0 ? 0 : 1);
	}
	T_OK(wait(&st) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "commit with a foreign commit.seq still succeeds");
	T_INT(count("queue"), 201, "and is queued");
	T_INT(spool_sync_init(p, -1, -1), 0, "init resets a foreign file");
	T_INT(read_seq(w), 0, "commit.seq after reset");
	T_OK(w[1] == 0 && w[2] == 0, "reset counters");
	snprintf(p, sizeof(p), "rm -f %s/queue/*", dir);
	if (system(p) != 0)
		fprintf(stderr, "cleanup failed\n");
}

/* An entry of kind k (0 FIFO, 1 symlink, 2 directory, 3 socket) at p. */
static int
plant(const char *p, int k)
{
	struct sockaddr_un	 sa;
	int			 fd, rc;

	switch (k) {
	case 0:
		return mkfifo(p, 0600);
	case 1:
		return symlink("/etc/passwd", p);
	case 2:
		return mkdir(p, 0700);
	default:
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if (strlen(p) >= sizeof(sa.sun_path))
			return -1;
		memcpy(sa.sun_path, p, strlen(p));
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
			return -1;
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		return rc;
	}
}

static int	 scan_count(const struct spool_meta *, void *);

/*
 * Issue 16, F6: what is not a regular file under an id's name (a FIFO
 * would hang an open) is never read, is moved into bad/, and the
 * runners go on; tmp/ID.defer (a rewrite's name) too.  Each call under
 * alarm(): a hang is a failure, not a stuck test.
 */
static void
test_entries(void)
{
	static const char *const kinds[] = { "fifo", "symlink", "directory",
	    "socket" };
	static const enum spool_state states[] = { SPOOL_QUEUE, SPOOL_HELD,
	    SPOOL_FAILED };
	static const char *const sub[] = { "queue", "held", "failed" };
	struct spool_item	*it;
	struct spool_meta	 m;
	char			 id[SPOOL_ID_LEN + 1], good[SPOOL_ID_LEN + 1];
	char			 p[512], what[128], *rmsg;
	const char		 msg[] = "Subject: x\r\n\r\nbody\r\n";
	size_t			 k, s, rlen;
	int			 n, bad0, seen;

	T_INT(spool_new_id(good), 0, "entries: id");
	meta_init(&m, good);
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), 0,
	    "entries: a genuine message");
	alarm(20);
	for (s = 0; s < 3; s++)
		for (k = 0; k < 4; k++) {
			snprintf(what, sizeof(what), "%s in %s/", kinds[k],
			    sub[s]);
			T_INT(spool_new_id(id), 0, "entries: id");
			snprintf(p, sizeof(p), "%s/%s/%s", dir, sub[s], id);
			n = 0;
			seen = spool_scan(dir, states[s], scan_count, &n);
			T_INT(plant(p, (int)k), 0, what);
			bad0 = count("bad");
			T_INT(spool_scan(dir, states[s], scan_count, &n), seen,
			    what);
			T_INT(access(p, F_OK) == -1 && errno == ENOENT, 1, what);
			T_INT(count("bad"), bad0 + 1, what);
			T_INT(plant(p, (int)k), 0, what);
			T_INT(spool_read(dir, states[s], id, &m, &rmsg, &rlen), 1,
			    what);
			if (s == 0) {
				T_INT(plant(p, (int)k), 0, what);
				T_INT(spool_claim(dir, id, &it), 1, what);
			}
			T_INT(access(p, F_OK) == -1, 1, what);
		}
	/* tmp/ID.defer: the name spool_retry() rewrites through */
	for (k = 0; k < 4; k++) {
		snprintf(p, sizeof(p), "%s/tmp/%s.defer", dir, good);
		T_INT(plant(p, (int)k), 0, "entries: tmp");
		T_INT(spool_retry(dir, good, 2000), 1, kinds[k]);
		T_INT(access(p, F_OK) == -1, 1, "entries: tmp/ID.defer gone");
	}
	alarm(0);
	T_INT(spool_claim(dir, good, &it), 0, "entries: the genuine one");
	T_INT(spool_done(it), 0, "entries: done");
}

/* Issue 16, F11: the reserve refuses new messages, not the rewrites. */
static void
test_reserve(void)
{
	struct spool_item	*it;
	struct spool_meta	 m;
	char			 id[SPOOL_ID_LEN + 1], id2[SPOOL_ID_LEN + 1];
	const char		 msg[] = "Subject: x\r\n\r\nbody\r\n";

	T_INT(spool_new_id(id), 0, "reserve: id");
	meta_init(&m, id);
	spool_reserve_set(dir, 0, 0);
	T_INT(spool_room(dir, 100), 0, "reserve off");
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), 0,
	    "reserve: commit with none");
	spool_reserve_set(dir, 1ULL << 62, 0);
	T_INT(spool_room(dir, 100), 1, "reserve above the free space");
	T_INT(spool_new_id(id2), 0, "reserve: id 2");
	meta_init(&m, id2);
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), -1,
	    "reserve: new message refused");
	T_INT(errno, ENOSPC, "reserve: ENOSPC");
	T_INT(spool_commit_held(dir, &m, msg, sizeof(msg) - 1), -1,
	    "reserve: held refused");
	T_INT(spool_room("/nonexistent-other-spool", 100), 0,
	    "reserve: another spool is not held to it");
	T_INT(spool_claim(dir, id, &it), 0, "reserve: claim");
	T_INT(spool_defer(it, 2000, 86400, "451 later"), 0,
	    "reserve: a deferral is recorded");
	T_INT(spool_retry(dir, id, 3000), 1, "reserve: retry rewrites");
	T_INT(spool_claim(dir, id, &it), 0, "reserve: claim 2");
	T_INT(spool_fail(it, "550 no"), 0, "reserve: a failure is recorded");
	T_INT(spool_delete(dir, SPOOL_FAILED, id), 0, "reserve: delete");
	spool_reserve_set(dir, 0, 99);
	T_INT(spool_room(dir, 100), 1, "reserve 99 %");
	spool_reserve_set(dir, 4096, 0);
	T_INT(spool_room(dir, 100), 0, "reserve of 4096 octets");
	spool_reserve_set(dir, 0, 0);
}

static int
scan_count(const struct spool_meta *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

int
main(void)
{
	static const char	 msg[] = "Subject: hi\r\n\r\nbody\r\n";
	struct spool_meta	 m;
	struct spool_item	*it, *it2;
	char			 id[SPOOL_ID_LEN + 1], id2[SPOOL_ID_LEN + 1];
	char			 p[512];
	long			 b;
	int			 n, fd;

	if (mkdtemp(dir) == NULL)
		return 1;
	T_INT(spool_init(dir, -1, -1), 0, "init");
	T_INT(spool_init(dir, -1, -1), 0, "init again");

	T_INT(spool_new_id(id), 0, "new id");
	T_INT(strlen(id), SPOOL_ID_LEN, "id length");
	T_OK(spool_id_valid(id), "id valid: %s", id);
	T_INT(spool_new_id(id2), 0, "second id");
	T_OK(strcmp(id, id2) != 0, "ids differ");
	T_OK(!spool_id_valid("../../etc/passwd"), "path id refused");
	T_OK(!spool_id_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), "upper case refused");
	T_OK(!spool_id_valid(""), "empty id refused");

	/* Envelope values are re-checked: no CR/LF into SMTP. */
	meta_init(&m, id);
	m.rcpt[1] = rcpt_evil;
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), -1,
	    "commit with CRLF in rcpt refused");
	T_INT(count("queue"), 0, "nothing queued after refusal");
	T_INT(count("tmp"), 0, "nothing left in tmp after refusal");

	meta_init(&m, id);
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), 0, "commit");
	T_INT(count("queue"), 1, "one queued");
	T_INT(count("tmp"), 0, "tmp empty after commit");
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), -1,
	    "same id twice refused");
	T_INT(count("queue"), 1, "still one queued");

	T_INT(spool_claim(dir, id, &it), 0, "claim");
	T_STR(it->meta.form, "contact", "form read back");
	T_STR(it->meta.from, "bounces@example.test", "from read back");
	T_INT(it->meta.nrcpt, 2, "rcpt count");
	T_STR(it->meta.rcpt[1], "b@example.test", "rcpt read back");
	T_INT(it->len, sizeof(msg) - 1, "message length");
	T_OK(it->msg && memcmp(it->msg, msg, it->len) == 0, "message bytes");
	T_INT(spool_claim(dir, id, &it2), 1, "second claim while locked");

	b = spool_backoff(1);
	T_INT(b, 60, "first backoff");
	T_INT(spool_backoff(2), 120, "second backoff");
	T_INT(spool_backoff(20), 3600, "backoff capped");
	T_INT(spool_defer(it, 2000, 5 * 86400, "451 try later"), 0, "defer");
	T_INT(spool_claim(dir, id, &it), 0, "claim after defer");
	T_INT(it->meta.attempts, 1, "attempts after defer");
	T_OK(it->meta.next_try >= 2000 + 48 && it->meta.next_try <= 2000 + 72,
	    "next_try within 60 s +/- 20 %%: %lld", (long long)it->meta.next_try);
	T_STR(it->meta.error, "451 try later", "error recorded");
	T_INT(count("tmp"), 0, "tmp empty after defer");
	spool_release(it);

	n = 0;
	T_INT(spool_scan(dir, SPOOL_QUEUE, scan_count, &n), 1, "scan");
	T_INT(n, 1, "scan callback count");
	{
		struct stats_queue	 sq;

		spool_census(dir, &sq);
		T_INT(sq.queued, 1, "census: queued");
		T_INT(sq.held + sq.failed, 0, "census: none held or failed");
		T_INT(sq.oldest, 1000, "census: the oldest queued one");
		spool_census("/dev/null", &sq);
		T_INT(sq.queued, -1, "census of an unreadable spool: queued");
		T_INT(sq.held, -1, "census of an unreadable spool: held");
		T_INT(sq.failed, -1, "census of an unreadable spool: failed");
	}

	T_INT(spool_retry(dir, id, 3000), 1, "retry");
	T_INT(spool_claim(dir, id, &it), 0, "claim after retry");
	T_INT(it->meta.next_try, 3000, "retry sets next_try");
	/* Past max_age: failed/, not deferred. */
	T_INT(spool_defer(it, 1000 + 5 * 86400, 5 * 86400, "still down"), 1,
	    "defer past max_age fails");
	T_INT(count("queue"), 0, "queue empty");
	T_INT(count("failed"), 1, "one failed");
	{
		struct stats_queue	 sq;

		spool_census(dir, &sq);
		T_INT(sq.queued * 10 + sq.failed, 1, "census: one failed only");
		T_INT(sq.oldest, 0, "census: no queued one, no age");
	}

	/* Delivered: gone. */
	meta_init(&m, id2);
	T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), 0, "commit 2");
	T_INT(spool_claim(dir, id2, &it), 0, "claim 2");
	T_INT(spool_done(it), 0, "done");
	T_INT(count("queue"), 0, "queue empty after done");
	T_INT(spool_claim(dir, id2, &it), 1, "claim of a delivered one");

	/* Sent but not removable (works as root too: a directory stands at
	 * the path): -1 with errno kept across the release, so the
	 * deliverer can say why and not send it again. */
	{
		char	 q[512], qb[512];

		T_INT(spool_new_id(id2), 0, "id unremovable");
		meta_init(&m, id2);
		T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), 0,
		    "commit unremovable");
		T_INT(spool_claim(dir, id2, &it), 0, "claim unremovable");
		snprintf(q, sizeof(q), "%s/queue/%s", dir, id2);
		snprintf(qb, sizeof(qb), "%s/%s.bak", dir, id2);
		T_INT(rename(q, qb), 0, "move the file away");
		T_INT(mkdir(q, 0700), 0, "a directory in its place");
		errno = 0;
		T_INT(spool_done(it), -1, "done on an unremovable path");
		T_INT(errno, EISDIR, "errno kept after the release");
		T_INT(rmdir(q), 0, "directory away");
		T_INT(unlink(qb), 0, "file away");
	}

	/* A corrupt file is moved aside, not delivered. */
	T_INT(spool_new_id(id2), 0, "id 3");
	snprintf(p, sizeof(p), "%s/queue/%s", dir, id2);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	T_OK(fd != -1 && write(fd, "garbage\n\n", 9) == 9, "write corrupt");
	close(fd);
	T_INT(spool_claim(dir, id2, &it), -1, "corrupt claim");
	T_INT(count("failed"), 2, "corrupt file in failed/");

	/* Held: invisible to the deliverer until released. */
	{
		struct spool_meta	 rm;
		char			*rmsg;
		size_t			 rlen;

		T_INT(spool_new_id(id2), 0, "id held");
		meta_init(&m, id2);
		T_INT(spool_commit_held(dir, &m, msg, sizeof(msg) - 1), 0,
		    "commit held");
		T_INT(count("held"), 1, "one held");
		T_INT(spool_claim(dir, id2, &it), 1, "held is not claimable");
		T_INT(spool_read(dir, SPOOL_HELD, id2, &rm, &rmsg, &rlen), 0,
		    "read held");
		T_INT(rlen, sizeof(msg) - 1, "held message length");
		T_STR(rm.form, "contact", "held envelope");
		spool_meta_clear(&rm);
		free(rmsg);
		T_INT(spool_release_held(dir, id2, 5000), 0, "release");
		T_INT(count("held"), 0, "held empty after release");
		T_INT(spool_claim(dir, id2, &it), 0, "released is claimable");
		T_INT(it->meta.next_try, 5000, "released is due now");
		T_INT(spool_delete(dir, SPOOL_QUEUE, id2), 1,
		    "delete of a claimed message waits");
		spool_release(it);
		T_INT(spool_delete(dir, SPOOL_QUEUE, id2), 0, "delete queued");
		T_INT(spool_delete(dir, SPOOL_QUEUE, id2), 1, "delete again");
		T_INT(spool_release_held(dir, id2, 5000), 1, "release absent");
		T_INT(spool_delete(dir, SPOOL_HELD, "../../x"), -1,
		    "delete refuses a path");
	}

	/* A spool that cannot take the file (works as root too: tmp is not
	 * a directory): commit fails, nothing is queued. */
	{
		char	 t[512], tb[512];

		snprintf(t, sizeof(t), "%s/tmp", dir);
		snprintf(tb, sizeof(tb), "%s/tmp.bak", dir);
		T_INT(rename(t, tb), 0, "move tmp away");
		fd = open(t, O_WRONLY | O_CREAT, 0600);
		close(fd);
		T_INT(spool_new_id(id2), 0, "id 4");
		meta_init(&m, id2);
		T_INT(spool_commit(dir, &m, msg, sizeof(msg) - 1), -1,
		    "commit into a broken spool");
		T_INT(errno, ENOTDIR, "errno ENOTDIR");
		T_INT(count("queue"), 0, "nothing queued");
		unlink(t);
		T_INT(rename(tb, t), 0, "tmp back");
	}
	test_group_commit();
	test_entries();
	test_reserve();
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	if (system(p) != 0)
		fprintf(stderr, "cleanup failed\n");
	T_DONE();
}
