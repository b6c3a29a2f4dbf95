/*
 * smtp_peer.h: tests/unit/smtp_peer.py (a real SMTP server, aiosmtpd) as
 * the unit tests start it: peer_start() in peer_dir (set it first; the
 * test CA lands there as ca.pem), the ports it printed, the events of its
 * log, the last message it accepted, peer_stop().  Static functions: one
 * copy per test program that includes it.
 */
#ifndef F2M_TEST_SMTP_PEER_H
#define F2M_TEST_SMTP_PEER_H

#include <sys/types.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"

#define PEER_SCRIPT	"tests/unit/smtp_peer.py"
#define PEER_WAIT	20	/* seconds for the peer to come up */

static const char	*peer_dir;
static const char	*peer_user, *peer_pass;
static pid_t		 peer_pid = -1;
static int		 peer_in = -1;
static int		 port_implicit, port_starttls, port_plain, port_closed;

static inline void
peer_stop(void)
{
	int	 st, i;

	if (peer_in != -1)
		close(peer_in);
	peer_in = -1;
	if (peer_pid == -1)
		return;
	for (i = 0; i < 50; i++) {
		if (waitpid(peer_pid, &st, WNOHANG) == peer_pid) {
			peer_pid = -1;
			return;
		}
		usleep(100000);
	}
	kill(peer_pid, SIGTERM);
	waitpid(peer_pid, &st, 0);
	peer_pid = -1;
}

static inline int
peer_start(const char *user, const char *pass)
{
	struct pollfd	 pfd;
	char		 line[256];
	size_t		 n = 0;
	ssize_t		 r;
	int		 in[2], out[2];
	time_t		 t0 = time(NULL);

	peer_user = user;
	peer_pass = pass;

	if (pipe(in) == -1 || pipe(out) == -1)
		return -1;
	if ((peer_pid = fork()) == -1)
		return -1;
	if (peer_pid == 0) {
		if (dup2(in[0], 0) == -1 || dup2(out[1], 1) == -1)
			_exit(127);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl("/usr/bin/python3", "python3", "-W", "ignore",
		    PEER_SCRIPT, peer_dir, peer_user, peer_pass, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	peer_in = in[1];
	pfd.fd = out[0];
	pfd.events = POLLIN;
	while (n < sizeof(line) - 1 && (n == 0 || line[n - 1] != '\n')) {
		if (time(NULL) - t0 > PEER_WAIT || poll(&pfd, 1, 1000) == -1)
			break;
		if (!(pfd.revents & (POLLIN | POLLHUP)))
			continue;
		if ((r = read(out[0], line + n, sizeof(line) - 1 - n)) <= 0)
			break;
		n += (size_t)r;
	}
	close(out[0]);
	line[n] = '\0';
	if (sscanf(line, "implicit=%d starttls=%d plain=%d closed=%d",
	    &port_implicit, &port_starttls, &port_plain, &port_closed) != 4) {
		fprintf(stderr, "smtp_peer.py did not start (got [%s])\n",
		    line);
		return -1;
	}
	return 0;
}

/* Occurrences of the line ev in peer.log. */
static inline int
peer_count(const char *ev)
{
	char	 path[256], line[256];
	FILE	*f;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/peer.log", peer_dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, ev) == 0)
			n++;
	}
	fclose(f);
	return n;
}

/* The last message the peer accepted, as it received it. */
static inline int
peer_last(struct buf *b)
{
	char	 path[256], line[256];
	FILE	*f;
	size_t	 r;
	int	 n = 0, k;

	snprintf(path, sizeof(path), "%s/peer.log", peer_dir);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "message %*s %d", &k) == 1)
			n = k;
	fclose(f);
	snprintf(path, sizeof(path), "%s/msg-%d.eml", peer_dir, n);
	buf_reset(b);
	if (n == 0 || (f = fopen(path, "rb")) == NULL)
		return -1;
	while ((r = fread(line, 1, sizeof(line), f)) > 0)
		if (buf_add(b, line, r) == -1)
			break;
	fclose(f);
	return 0;
}

#endif
