/*
 * captcha_peer.h: tests/unit/captcha_peer.py (a fake siteverify endpoint
 * over http and https, with a throwaway CA) as the unit tests start it:
 * set peer_dir first; peer_start() fills port_http and port_https, the
 * CAs land in peer_dir (ca.pem, other-ca.pem); peer_stop().  Static
 * functions: one copy per test program that includes it.
 */
#ifndef F2M_TEST_CAPTCHA_PEER_H
#define F2M_TEST_CAPTCHA_PEER_H

#include <sys/types.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define PEER		"tests/unit/captcha_peer.py"
#define PEER_WAIT	20	/* seconds for the peer to come up */
#define PEER_STOP	50	/* tenths of a second for it to go */

static const char	*peer_dir;
static pid_t		 peer_pid = -1;
static int		 peer_in = -1;
static int		 port_http, port_https;

static inline void
peer_stop(void)
{
	int	 st, i;

	if (peer_in != -1)
		close(peer_in);
	peer_in = -1;
	if (peer_pid == -1)
		return;
	for (i = 0; i < PEER_STOP; i++) {
		if (waitpid(peer_pid, &st, WNOHANG) == peer_pid) {
			peer_pid = -1;
			return;
		}
		usleep(100000);
	}
	kill(peer_pid, SIGKILL);
	waitpid(peer_pid, &st, 0);
	peer_pid = -1;
}

static inline int
peer_start(void)
{
	struct pollfd	 pfd;
	char		 line[256];
	size_t		 n = 0;
	ssize_t		 r;
	int		 in[2], out[2];
	time_t		 t0 = time(NULL);

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
		execl("/usr/bin/python3", "python3", "-W", "ignore", PEER, peer_dir,
		    (char *)NULL);
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
	if (sscanf(line, "http=%d https=%d", &port_http, &port_https) != 2) {
		fprintf(stderr, "captcha_peer.py did not start (got [%s])\n",
		    line);
		return -1;
	}
	return 0;
}

#endif
