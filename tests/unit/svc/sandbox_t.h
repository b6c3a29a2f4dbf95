/*
 * sandbox_t.h: what test_sandbox.c and test_sandbox_deliver.c share: a
 * child run under a confinement, its status in words, a loopback peer
 * with a host name for libcurl's resolver, the calls every list forbids
 * and the paths every list must keep (libcurl, getaddrinfo, syslog).
 */
#ifndef F2M_SANDBOX_T_H
#define F2M_SANDBOX_T_H

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <curl/curl.h>

/* Made before any child loads a filter (bind and listen are forbidden). */
static int	 t_port;		/* a loopback listener's port */
static char	 t_host[256];		/* a name /etc/hosts maps to loopback */

static const char *
t_status(int st, char *buf, size_t size)
{
	if (st == -1)
		snprintf(buf, size, "no child");
	else if (WIFSIGNALED(st))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, size, "exit %d", WEXITSTATUS(st));
	return buf;
}

/*
 * Runs fn in a child once load (a confinement: err set on -1) is in
 * place; returns the child's wait status, or -1.  Exit 3: load failed,
 * 2: fn failed.
 */
static int
t_child(int (*load)(char *, size_t), int (*fn)(void))
{
	char	 err[256];
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if (load(err, sizeof(err)) == -1) {
			fprintf(stderr, "%s\n", err);
			_exit(3);
		}
		_exit(fn() == 0 ? 0 : 2);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Sets t_port and t_host, and starts libcurl.  Returns 0 or -1. */
static int
t_loopback(void)
{
	struct sockaddr_in	 sa;
	struct addrinfo		 hints, *res = NULL;
	socklen_t		 len = sizeof(sa);
	int			 fd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, 64) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) == -1)
		return -1;
	t_port = ntohs(sa.sin_port);
	/*
	 * A name other than "localhost" (libcurl answers that one itself)
	 * that the files backend maps to 127.0.0.1: this host's name when
	 * /etc/hosts has it, else "localhost." with the trailing dot.
	 */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	if (gethostname(t_host, sizeof(t_host)) == -1 ||
	    getaddrinfo(t_host, NULL, &hints, &res) != 0 ||
	    ((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr.s_addr !=
	    htonl(INADDR_LOOPBACK))
		snprintf(t_host, sizeof(t_host), "localhost.");
	if (res != NULL)
		freeaddrinfo(res);
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* ---- forbidden in every profile -------------------------------- */

static int
f_execve(void)
{
	char *const argv[] = { (char *)(uintptr_t)"/bin/true", NULL };

	execve("/bin/true", argv, NULL);
	return 0;
}

static int
f_clone_process(void)
{
	return syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L) > 0 ? 0 : 0;
}

static int
f_vfork(void)
{
	return (int)syscall(SYS_vfork);
}

static int
f_process_vm_readv(void)
{
	char		 a[8], b[8];
	struct iovec	 l = { a, sizeof(a) }, r = { b, sizeof(b) };

	return (int)process_vm_readv(getppid(), &l, 1, &r, 1, 0);
}

static int
f_setuid(void)
{
	return (int)syscall(SYS_setuid, 0L);
}

static int
f_packet_socket(void)
{
	return socket(AF_PACKET, SOCK_RAW, 0);
}

static int
f_bind(void)
{
	struct sockaddr_in	 sa;
	int			 fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static int
f_listen(void)
{
	return listen(socket(AF_INET6, SOCK_STREAM, 0), 1);
}

static int
f_kill_parent(void)
{
	return kill(getppid(), 0);
}

static int
f_mprotect_exec(void)
{
	void	*p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);

	return mprotect(p, 4096, PROT_READ | PROT_EXEC);
}

static int
f_memfd(void)
{
	return (int)syscall(SYS_memfd_create, "x", 0L);
}

/* ---- allowed in every profile ---------------------------------- */

static int
a_getaddrinfo(void)
{
	struct addrinfo	 hints, *res = NULL;
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	/* AI_ADDRCONFIG asks rtnetlink first: EAFNOSUPPORT, then files. */
	hints.ai_flags = AI_ADDRCONFIG;
	if ((rc = getaddrinfo(t_host, "80", &hints, &res)) != 0) {
		fprintf(stderr, "getaddrinfo %s: %s\n", t_host,
		    gai_strerror(rc));
		return 1;
	}
	freeaddrinfo(res);
	return 0;
}

/* libcurl resolving a name with its threaded resolver, then connecting. */
static int
a_curl(void)
{
	CURL	*c;
	char	 url[512];
	CURLcode rc;

	if ((c = curl_easy_init()) == NULL)
		return 1;
	snprintf(url, sizeof(url), "http://%s:%d/", t_host, t_port);
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L) != CURLE_OK) {
		curl_easy_cleanup(c);
		return 1;
	}
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		fprintf(stderr, "curl %s: %s\n", url, curl_easy_strerror(rc));
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : 1;
}

/* glibc's syslog (re)connects to /dev/log on each failed send. */
static int
a_syslog(void)
{
	openlog("test_sandbox", LOG_NDELAY, LOG_USER);
	syslog(LOG_DEBUG, "sandbox test");
	closelog();
	syslog(LOG_DEBUG, "sandbox test, reconnecting");
	return 0;
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

/* LeakSanitizer's stop-the-world check, as at the end of CGI and
 * `queue run` (the ASan rows of the CGI and deliverer lists). */
static int
a_lsan(void)
{
	return __lsan_do_recoverable_leak_check() == 0 ? 0 : 1;
}
#endif

#endif
