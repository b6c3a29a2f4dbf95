/*
 * test_slots: lib/slots.h, the cross-process cap (issue 16, F12): n
 * holders at most, each struct its own open file description (so two in
 * one process compete as two processes do), a slot given back, a holder
 * that dies releases its slot (the kernel does), and hostile paths (a
 * FIFO, a symbolic link, a directory) refused without hanging.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/slots.h"
#include "t.h"

static char	 dir[] = "/tmp/test_slots.XXXXXX";

static void
path_of(char *p, size_t size, const char *name)
{
	snprintf(p, size, "%s/%s", dir, name);
}

static void
test_cap(void)
{
	struct slots	 a, b, c;
	char		 p[256], err[256];
	int		 r;

	path_of(p, sizeof(p), "x.slots");
	T_INT(slots_open(&a, p, 2, err, sizeof(err)), 0, err);
	T_INT(slots_open(&b, p, 2, err, sizeof(err)), 0, err);
	T_INT(slots_open(&c, p, 2, err, sizeof(err)), 0, err);
	if ((r = slots_take(&a)) == -1 && errno == EINVAL) {
		T_SKIP("OFD locks", "the kernel has no F_OFD_SETLK");
		return;
	}
	T_INT(r, 1, "a takes the first slot");
	T_INT(a.held, 0, "a holds slot 0");
	T_INT(slots_take(&a), 0, "a holds one already");
	T_INT(slots_take(&b), 1, "b takes the second slot");
	T_INT(b.held, 1, "b holds slot 1");
	T_INT(slots_take(&c), 0, "c: both slots held");
	T_INT(c.held, -1, "c holds none");
	slots_give(&a);
	T_INT(a.held, -1, "a gave its slot back");
	T_INT(slots_take(&c), 1, "c takes the slot a gave back");
	T_INT(c.held, 0, "c holds slot 0");
	slots_give(&a);		/* no-op: holds none */
	T_INT(slots_take(&a), 0, "a: both held again");
	slots_close(&b);
	T_INT(slots_take(&a), 1, "closing b gave its slot back");
	slots_close(&a);
	slots_close(&b);	/* closed twice: no-op */
	slots_close(&c);
	T_INT(slots_take(&c), 0, "a closed struct takes nothing");
}

/* A holder killed with SIGKILL: the kernel releases its slot. */
static void
test_death(void)
{
	struct slots	 s;
	char		 p[256], err[256], x;
	int		 go[2], st, i, got = 0;
	pid_t		 pid;

	path_of(p, sizeof(p), "death.slots");
	if (pipe(go) == -1) {
		T_OK(0, "pipe: %s", strerror(errno));
		return;
	}
	if ((pid = fork()) == 0) {
		close(go[0]);
		/* Its own description, opened after fork(). */
		if (slots_open(&s, p, 1, err, sizeof(err)) == -1 ||
		    slots_take(&s) != 1)
			_exit(1);
		if (write(go[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(go[1]);
	T_INT(read(go[0], &x, 1), 1, "the child holds the slot");
	close(go[0]);
	T_INT(slots_open(&s, p, 1, err, sizeof(err)), 0, err);
	T_INT(slots_take(&s), 0, "held by the child");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	/* The release is done when the process is gone; allow a moment. */
	for (i = 0; i < 50 && (got = slots_take(&s)) == 0; i++)
		usleep(20000);
	T_INT(got, 1, "the dead child's slot is free");
	slots_close(&s);
}

static void
test_hostile(void)
{
	struct slots	 s;
	char		 p[256], q[256], err[256];

	path_of(p, sizeof(p), "x.slots");
	T_INT(slots_open(&s, p, 0, err, sizeof(err)), -1, "0 slots");
	T_OK(strstr(err, "1 to 1024") != NULL, "0 slots: [%s]", err);
	T_INT(s.fd, -1, "0 slots: no descriptor");
	T_INT(slots_open(&s, p, SLOTS_MAX + 1, err, sizeof(err)), -1,
	    "too many slots");
	T_INT(slots_open(&s, p, SLOTS_MAX, err, sizeof(err)), 0, err);
	slots_close(&s);

	path_of(p, sizeof(p), "fifo.slots");
	T_OK(mkfifo(p, 0600) == 0, "mkfifo: %s", strerror(errno));
	T_INT(slots_open(&s, p, 1, err, sizeof(err)), -1, "a FIFO");
	T_OK(strstr(err, "not a regular file") != NULL, "FIFO: [%s]", err);
	T_INT(s.fd, -1, "FIFO: no descriptor");

	path_of(q, sizeof(q), "link.slots");
	path_of(p, sizeof(p), "x.slots");
	T_OK(symlink(p, q) == 0, "symlink: %s", strerror(errno));
	T_INT(slots_open(&s, q, 1, err, sizeof(err)), -1, "a symbolic link");
	T_OK(strstr(err, q) != NULL, "link: names the path [%s]", err);

	T_INT(slots_open(&s, dir, 1, err, sizeof(err)), -1, "a directory");
	path_of(p, sizeof(p), "no/such/dir.slots");
	T_INT(slots_open(&s, p, 1, err, sizeof(err)), -1, "no directory");
}

int
main(void)
{
	char	 cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_cap();
	test_death();
	test_hostile();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	T_DONE();
}
