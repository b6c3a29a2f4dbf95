/*
 * test_fcgi_rec: svc/fcgi_rec.c's record checks on a table of hostile
 * streams (each fed whole, byte by byte and in uneven pieces: the same
 * verdict), then svc/fcgi_guard.c on a real listening socket: only the
 * complete, well-formed request reaches OS_Accept's caller, with
 * FCGI_KEEP_CONN cleared; a body larger than the buffer is read on
 * through OS_Read; a signal of the wait mask ends the wait with EINTR.
 * The deadlines are measured by tests/integration/test_fcgi_abuse.py.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcgios.h>

#include "lib/buf.h"
#include "svc/fcgi_guard.h"
#include "svc/fcgi_rec.h"
#include "t.h"

/* A stream written as records: "B" BEGIN (responder), "b" BEGIN with
 * role 2 (authorizer), "K" BEGIN with FCGI_KEEP_CONN, "P" PARAMS with one
 * pair, "p" empty PARAMS, "S" STDIN "abc", "s" empty STDIN, "G"
 * GET_VALUES (id 0), "A" ABORT_REQUEST, "D" DATA, "U" type 12, "V"
 * version 2, "I" PARAMS of request id 2, "X" a pair claiming 2^31 bytes,
 * "L" a pair claiming more than FREC_PARAMS_MAX, "C" a pair cut by the
 * end of PARAMS, "E" BEGIN of 7 bytes, "Q" BEGIN padded, "q" empty PARAMS
 * padded, "H" STDIN with 255 padding, "Z" one trailing byte, "h" half a
 * header. */
static void
put_rec(struct buf *b, int type, int id, const void *c, size_t n, int pad,
    int version)
{
	unsigned char	 h[8] = { (unsigned char)version, (unsigned char)type,
	    (unsigned char)(id >> 8), (unsigned char)id,
	    (unsigned char)(n >> 8), (unsigned char)n, (unsigned char)pad, 0 };
	static const unsigned char zero[256];

	if (buf_add(b, h, 8) == -1 || buf_add(b, c, n) == -1 ||
	    buf_add(b, zero, (size_t)pad) == -1)
		abort();
}

static void
build(struct buf *b, const char *spec)
{
	static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
	static const unsigned char auth[8] = { 0, 2, 0, 0, 0, 0, 0, 0 };
	static const unsigned char keep[8] = { 0, 1, 1, 0, 0, 0, 0, 0 };
	static const unsigned char pair[] = { 4, 3, 'N', 'A', 'M', 'E', 'v',
	    'a', 'l' };
	static const unsigned char huge[] = { 0x80 | 0x7f, 0xff, 0xff, 0xff,
	    0x80 | 0x7f, 0xff, 0xff, 0xff };
	static const unsigned char over[] = { 0x80, 0x02, 0x00, 0x01, 0 };
	static const unsigned char cut[] = { 10, 10, 'a', 'b' };
	static const unsigned char gv[] = { 14, 0, 'F', 'C', 'G', 'I', '_',
	    'M', 'A', 'X', '_', 'C', 'O', 'N', 'N', 'S' };

	b->len = 0;
	for (; *spec != '\0'; spec++) {
		switch (*spec) {
		case 'B': put_rec(b, 1, 1, begin, 8, 0, 1); break;
		case 'b': put_rec(b, 1, 1, auth, 8, 0, 1); break;
		case 'K': put_rec(b, 1, 1, keep, 8, 0, 1); break;
		case 'E': put_rec(b, 1, 1, begin, 7, 0, 1); break;
		case 'Q': put_rec(b, 1, 1, begin, 8, 8, 1); break;
		case 'P': put_rec(b, 4, 1, pair, sizeof(pair), 7, 1); break;
		case 'p': put_rec(b, 4, 1, "", 0, 0, 1); break;
		case 'q': put_rec(b, 4, 1, "", 0, 8, 1); break;
		case 'S': put_rec(b, 5, 1, "abc", 3, 5, 1); break;
		case 'H': put_rec(b, 5, 1, "abc", 3, 255, 1); break;
		case 's': put_rec(b, 5, 1, "", 0, 0, 1); break;
		case 'G': put_rec(b, 9, 0, gv, sizeof(gv), 0, 1); break;
		case 'A': put_rec(b, 2, 1, "", 0, 0, 1); break;
		case 'D': put_rec(b, 8, 1, "x", 1, 7, 1); break;
		case 'U': put_rec(b, 12, 1, "x", 1, 7, 1); break;
		case 'V': put_rec(b, 1, 1, begin, 8, 0, 2); break;
		case 'I': put_rec(b, 4, 2, pair, sizeof(pair), 7, 1); break;
		case 'X': put_rec(b, 4, 1, huge, sizeof(huge), 0, 1); break;
		case 'L': put_rec(b, 4, 1, over, sizeof(over), 3, 1); break;
		case 'C': put_rec(b, 4, 1, cut, sizeof(cut), 4, 1); break;
		case 'Z': if (buf_add(b, "z", 1) == -1) abort(); break;
		case 'h': if (buf_add(b, "\1\1\0", 3) == -1) abort(); break;
		default: abort();
		}
	}
}

static const struct {
	const char		*spec;
	enum frec_err		 err;
	enum frec_phase		 phase;	/* when err is FREC_OK */
} cases[] = {
	{ "BPps", FREC_OK, FREC_PH_DONE },
	{ "KPPpSSs", FREC_OK, FREC_PH_DONE },
	{ "BpHs", FREC_OK, FREC_PH_DONE },
	{ "BPp", FREC_OK, FREC_PH_STDIN },
	{ "BP", FREC_OK, FREC_PH_PARAMS },
	{ "", FREC_OK, FREC_PH_BEGIN },
	{ "h", FREC_OK, FREC_PH_BEGIN },		/* truncated header */
	{ "Bh", FREC_OK, FREC_PH_PARAMS },
	{ "G", FREC_EMGMT, 0 },			/* GET_VALUES first */
	{ "BPGps", FREC_EMGMT, 0 },		/* inside PARAMS */
	{ "BPpsG", FREC_ETRAIL, 0 },		/* GET_VALUES after the end */
	{ "V", FREC_EVERSION, 0 },
	{ "P", FREC_EBEGIN, 0 },		/* no BEGIN first */
	{ "BB", FREC_EBEGIN, 0 },		/* a second BEGIN */
	{ "BPpB", FREC_EBEGIN, 0 },
	{ "E", FREC_EBEGIN, 0 },		/* BEGIN of 7 bytes */
	{ "b", FREC_EROLE, 0 },			/* authorizer */
	{ "BI", FREC_EID, 0 },			/* another request id */
	{ "BS", FREC_EORDER, 0 },		/* STDIN before PARAMS end */
	{ "BPpP", FREC_EORDER, 0 },		/* PARAMS after its end */
	{ "BA", FREC_EORDER, 0 },		/* ABORT_REQUEST */
	{ "BPpD", FREC_EORDER, 0 },		/* DATA (filter role) */
	{ "BU", FREC_ETYPE, 0 },		/* type 12 */
	{ "BXp", FREC_EPARAMS, 0 },		/* a pair of 2^31 + 2^31 */
	{ "BLp", FREC_EPARAMS, 0 },		/* a pair over the limit */
	{ "BCp", FREC_EPARAMS, 0 },		/* a pair cut by the end */
	{ "Q", FREC_EPAD, 0 },			/* padded BEGIN */
	{ "BPq", FREC_EPAD, 0 },		/* padded empty PARAMS */
	{ "BPpsZ", FREC_ETRAIL, 0 },		/* a byte after the end */
	{ "BPpss", FREC_ETRAIL, 0 },
};

static enum frec_err
feed_split(const struct buf *b, size_t step, struct frec *st)
{
	size_t	 i, n;

	frec_init(st);
	for (i = 0; i < b->len; i += n) {
		n = step == 0 ? b->len - i : step + i % 3;
		if (n > b->len - i)
			n = b->len - i;
		if (frec_feed(st, (const unsigned char *)b->data + i, n) !=
		    FREC_OK)
			break;
	}
	return st->err;
}

static void
test_table(void)
{
	struct buf	 b = { 0 };
	struct frec	 st;
	size_t		 i, step;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(&b, cases[i].spec);
		for (step = 0; step < 4; step++) {
			T_OK(feed_split(&b, step, &st) == cases[i].err,
			    "\"%s\" in pieces of %zu: expected %s, got %s",
			    cases[i].spec, step, frec_strerror(cases[i].err),
			    frec_strerror(st.err));
			if (cases[i].err == FREC_OK)
				T_INT(st.phase, cases[i].phase, cases[i].spec);
		}
	}
	/* PARAMS over FREC_PARAMS_MAX in many records. */
	build(&b, "B");
	{
		static unsigned char	 big[60000];

		big[0] = 0x80;		/* a 4-byte name length ... */
		big[3] = 0xff;		/* of 255, then a value of 255 */
		big[4] = 0x80;
		big[7] = 0xff;
		for (i = 0; i < 3; i++)
			put_rec(&b, 4, 1, big, sizeof(big), 0, 1);
	}
	T_INT(feed_split(&b, 0, &st), FREC_EPARAMS, "PARAMS of 180,000 bytes");
	free(b.data);
}

/* ---- the guard on a real socket ------------------------------------ */

static char	 dir[] = "/tmp/test_fcgi_rec.XXXXXX";
static struct sockaddr_un sa;

static int
client(const struct buf *b)
{
	int	 fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd == -1 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		abort();
	if (b != NULL && b->len > 0 && write(fd, b->data, b->len) !=
	    (ssize_t)b->len)
		abort();
	return fd;
}

static void
on_usr1(int sig)
{
	(void)sig;
}

static void
test_guard(void)
{
	struct buf		 good = { 0 }, bad = { 0 }, big = { 0 };
	struct sigaction	 act;
	sigset_t		 usr1, waitmask;
	char			 got[300000];
	size_t			 n = 0;
	int			 lfd, fd, c1, c2, c3, c4, r, st;
	pid_t			 pid;
	static unsigned char	 body[65000];
	char			 ok[] = "ok";

	if (mkdtemp(dir) == NULL)
		abort();
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/s", dir);
	if ((lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, 16) == -1)
		abort();
	T_OK(OS_Accept(lfd, 1, NULL) == -1 && errno == EINVAL,
	    "before fguard_init: refused");
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_usr1;
	sigaction(SIGUSR1, &act, NULL);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &waitmask);
	sigdelset(&waitmask, SIGUSR1);
	fguard_init(lfd, 1000, &waitmask);

	build(&bad, "BPGps");
	build(&good, "KPPpSs");
	c1 = client(&bad);
	c2 = client(NULL);		/* idle: stays pending */
	c3 = client(&good);
	fd = OS_Accept(lfd, 1, NULL);
	T_OK(fd >= 0, "the complete request is handed over");
	while (fd >= 0 && (r = OS_Read(fd, got + n, 7)) > 0)
		n += (size_t)r;
	T_INT(n, good.len, "OS_Read gives every byte, then 0");
	T_INT(got[FREC_FLAGS_OFFSET], 0, "FCGI_KEEP_CONN cleared");
	T_OK(memcmp(got + 11, good.data + 11, good.len - 11) == 0,
	    "the rest unchanged");
	T_INT(OS_Write(fd, ok, 2), 2, "OS_Write");
	T_INT(read(c3, got, sizeof(got)), 2, "the peer gets the answer");
	T_INT(OS_IpcClose(fd, 1), 0, "OS_IpcClose");
	T_INT(read(c1, got, sizeof(got)), 0, "GET_VALUES: closed, unanswered");

	/* A body larger than the buffer (max_body 1000): the head and a
	 * full buffer, then OS_Read goes on reading the socket. */
	build(&big, "BPp");
	for (r = 0; r < 4; r++)
		put_rec(&big, 5, 1, body, sizeof(body), 0, 1);
	put_rec(&big, 5, 1, "", 0, 0, 1);
	if ((pid = fork()) == 0) {
		c4 = client(&big);
		_exit(read(c4, got, 1) == 0 ? 0 : 1);
	}
	fd = OS_Accept(lfd, 1, NULL);
	n = 0;
	while (fd >= 0 && (r = OS_Read(fd, got + n, 8192)) > 0)
		n += (size_t)r;
	T_INT(n, big.len, "a body past the buffer: every byte read");
	T_INT(OS_IpcClose(fd, 1), 0, "closed");
	T_OK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	    WEXITSTATUS(st) == 0, "the writer saw the close");

	/* The idle c2 is still pending: a signal ends the wait. */
	if ((pid = fork()) == 0) {
		usleep(200000);
		kill(getppid(), SIGUSR1);
		_exit(0);
	}
	T_OK(OS_Accept(lfd, 1, NULL) == -1 && errno == EINTR,
	    "a signal of the wait mask: EINTR");
	waitpid(pid, &st, 0);
	close(c1);
	close(c2);
	close(c3);
	close(lfd);
	unlink(sa.sun_path);
	rmdir(dir);
	free(good.data);
	free(bad.data);
	free(big.data);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_table();
	test_guard();
	T_DONE();
}
