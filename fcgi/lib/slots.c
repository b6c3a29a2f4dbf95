/* slots: a cross-process cap through OFD byte locks; see slots.h. */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/slots.h"

int
slots_open(struct slots *s, const char *path, unsigned n, char *err,
    size_t errsize)
{
	struct stat	 st;

	s->fd = -1;
	s->n = 0;
	s->held = -1;
	if (n == 0 || n > SLOTS_MAX) {
		snprintf(err, errsize, "%s: 1 to %d slots", path, SLOTS_MAX);
		return -1;
	}
	/* O_NONBLOCK: a FIFO planted there cannot hang the open. */
	if ((s->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600)) == -1) {
		snprintf(err, errsize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(s->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsize, "%s: not a regular file", path);
		slots_close(s);
		return -1;
	}
	s->n = n;
	return 0;
}

/* F_OFD_SETLK of one byte: l_pid must be 0. */
static int
slots_lock(int fd, unsigned i, short type)
{
	struct flock	 fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)i;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

int
slots_take(struct slots *s)
{
	unsigned	 i;

	if (s->fd == -1 || s->held != -1)
		return 0;
	for (i = 0; i < s->n; i++) {
		if (slots_lock(s->fd, i, F_WRLCK) == 0) {
			s->held = (int)i;
			return 1;
		}
		if (errno != EAGAIN && errno != EACCES)
			return -1;
	}
	return 0;
}

void
slots_give(struct slots *s)
{
	if (s->fd == -1 || s->held == -1)
		return;
	(void)slots_lock(s->fd, (unsigned)s->held, F_UNLCK);
	s->held = -1;
}

void
slots_close(struct slots *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	s->held = -1;
}
