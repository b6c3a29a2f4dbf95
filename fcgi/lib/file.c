/*
 * file: private files, secrets, whole small files, directory fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

int
file_open_private(const char *path, int nofollow, struct stat *st, char *err,
    size_t errsize)
{
	int	 fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (nofollow ? O_NOFOLLOW : 0));
	if (fd == -1) {
		saved = errno;
		snprintf(err, errsize, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		snprintf(err, errsize, "%s: not a regular file", path);
		close(fd);
		errno = EINVAL;
		return -1;
	}
	if (st->st_mode & 077) {
		snprintf(err, errsize, "%s: readable or writable by group or "
		    "others (mode %04o); chmod 600 it", path,
		    (unsigned)(st->st_mode & 07777));
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

char *
file_read_secret(const char *path, char *err, size_t errsize)
{
	struct stat	 st;
	char		*s = NULL;
	ssize_t		 n;
	int		 fd;

	if ((fd = file_open_private(path, 0, &st, err, errsize)) == -1)
		return NULL;
	if (st.st_size > FILE_MAX_SECRET) {
		snprintf(err, errsize, "%s: larger than %d octets", path,
		    FILE_MAX_SECRET);
		goto out;
	}
	if ((s = calloc(1, (size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errsize, "out of memory");
		goto out;
	}
	if ((n = read(fd, s, (size_t)st.st_size)) != st.st_size) {
		snprintf(err, errsize, "%s: short read", path);
		free(s);
		s = NULL;
		goto out;
	}
	if (n > 0 && s[n - 1] == '\n')
		s[--n] = '\0';
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (memchr(s, '\0', (size_t)n) != NULL || strpbrk(s, "\r\n") != NULL) {
		snprintf(err, errsize, "%s: holds NUL or more than one line",
		    path);
		explicit_bzero(s, (size_t)n);
		free(s);
		s = NULL;
	}
out:
	close(fd);
	return s;
}

/* Reads fd to its end, at most max octets (max + 1 tells "too big"). */
static enum file_err
file_read_stream(int fd, size_t max, char *b, size_t *len)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got <= max) {
		n = read(fd, b + got, max + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return FILE_EREAD;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max)
		return FILE_ETOOBIG;
	*len = got;
	return FILE_OK;
}

/* Reads exactly size octets of a regular file. */
static enum file_err
file_read_size(int fd, size_t size, char *b)
{
	size_t	 got = 0;
	ssize_t	 n;

	while (got < size) {
		n = read(fd, b + got, size - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return FILE_EREAD;
		if (n == 0)
			return FILE_ESHORT;
		got += (size_t)n;
	}
	return FILE_OK;
}

enum file_err
file_slurp(int dirfd, const char *path, size_t max, int flags, char **out,
    size_t *len)
{
	struct stat	 st;
	enum file_err	 rc;
	size_t		 size;
	char		*b = NULL;
	int		 fd, saved;

	*out = NULL;
	*len = 0;
	if ((fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (flags & FILE_NOFOLLOW ? O_NOFOLLOW : 0) |
	    (flags & FILE_STREAM ? 0 : O_NONBLOCK))) == -1)
		return FILE_EOPEN;
	if (flags & FILE_STREAM) {
		if (max == SIZE_MAX) {
			rc = FILE_ETOOBIG;
			goto out;
		}
		if ((b = malloc(max + 1)) == NULL) {
			rc = FILE_ENOMEM;
			goto out;
		}
		rc = file_read_stream(fd, max, b, &size);
	} else {
		if (fstat(fd, &st) == -1) {
			rc = FILE_EREAD;
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = FILE_ENOTREG;
			goto out;
		}
		if ((unsigned long long)st.st_size > max) {
			rc = FILE_ETOOBIG;
			goto out;
		}
		size = (size_t)st.st_size;
		if ((b = malloc(size + 1)) == NULL) {
			rc = FILE_ENOMEM;
			goto out;
		}
		rc = file_read_size(fd, size, b);
	}
	if (rc == FILE_OK) {
		b[size] = '\0';
		*out = b;
		*len = size;
		b = NULL;
	}
out:
	saved = errno;
	free(b);
	close(fd);
	errno = saved;
	return rc;
}

int
file_fsync_dir(const char *dir)
{
	int	 fd, rc, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	if (close(fd) == -1 && rc == 0)
		return -1;
	errno = saved;
	return rc;
}

int
file_fsync_parent(const char *path)
{
	char		 dir[PATH_MAX];
	const char	*slash;
	size_t		 n;

	if ((slash = strrchr(path, '/')) == NULL)
		return file_fsync_dir(".");
	if (slash == path)
		return file_fsync_dir("/");
	if ((n = (size_t)(slash - path)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	return file_fsync_dir(dir);
}
