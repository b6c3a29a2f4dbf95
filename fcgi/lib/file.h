/*
 * file: files the service reads or makes durable: a private file (a key,
 * a secret), a one-line secret, a whole small file, a directory's fsync.
 *
 * Errors: functions that return -1 or NULL leave errno set; those that
 * take err/errsize also write a one-line reason that names the path.
 */
#ifndef F2M_FILE_H
#define F2M_FILE_H

#include <fcntl.h>		/* AT_FDCWD */
#include <stddef.h>
#include <sys/stat.h>

#include "lib/buf.h"

/* Octets of a secret file (password_file, captcha secret_file). */
#define FILE_MAX_SECRET		4096

/*
 * Opens a file that must be private (a secret, a key): a regular file with
 * no group or other permission bits.  A symbolic link to one is followed
 * unless nofollow; a FIFO planted there cannot hang the open.  Returns the
 * descriptor (O_RDONLY, O_CLOEXEC) with *st filled, or -1 with a one-line
 * reason naming path in err and errno set (ENOENT kept for a missing file).
 */
int	 file_open_private(const char *path, int nofollow, struct stat *st,
	    char *err, size_t errsize) F2M_WUR;

/*
 * Reads a secret file (password_file): a private file (file_open_private)
 * of at most FILE_MAX_SECRET octets and one line; strips one trailing
 * newline (LF or CRLF).  Returns a malloc'd string or NULL with a message
 * in err.
 */
char	*file_read_secret(const char *path, char *err, size_t errsize) F2M_WUR;

/* file_slurp() flags. */
#define FILE_NOFOLLOW	0x1	/* a symbolic link is refused (ELOOP) */
#define FILE_STREAM	0x2	/* any readable file (a pipe, /dev/stdin):
				   read to its end, not by its size */

enum file_err {
	FILE_OK,
	FILE_EOPEN,	/* open(2) failed: errno */
	FILE_ENOTREG,	/* not a regular file (without FILE_STREAM) */
	FILE_ETOOBIG,	/* more than max octets */
	FILE_ENOMEM,
	FILE_EREAD,	/* read(2) or fstat(2) failed: errno */
	FILE_ESHORT	/* the file shrank between fstat and read */
};

/*
 * Reads the whole file path (relative to dirfd, or AT_FDCWD) of at most
 * max octets.  Without FILE_STREAM the file must be regular; it is opened
 * non-blocking, so a FIFO planted there cannot hang the caller.  On
 * FILE_OK *out is a malloc'd buffer (free() it) of *len octets plus a NUL
 * not counted; otherwise *out is NULL and the caller words the error
 * (errno is kept for FILE_EOPEN and FILE_EREAD).
 */
enum file_err	 file_slurp(int dirfd, const char *path, size_t max, int flags,
		    char **out, size_t *len) F2M_WUR;

/*
 * fsync(2)s the directory dir, so that the entries made in it (a link, a
 * rename) survive a crash.  Returns 0, or -1 with errno set.
 */
int	 file_fsync_dir(const char *dir) F2M_WUR;

/*
 * fsync(2)s the directory that holds path ("." for a bare name, "/" for a
 * name in the root).  Returns 0, or -1 with errno set (ENAMETOOLONG for a
 * path over PATH_MAX).
 */
int	 file_fsync_parent(const char *path) F2M_WUR;

#endif
