/* test_file: private files, secrets, whole files, directory fsync. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"
#include "t.h"

static char	 dir[] = "/tmp/f2m-test-file.XXXXXX";

/* Writes n octets of s to dir/name with mode; returns the path. */
static const char *
put(const char *name, const char *s, size_t n, mode_t mode)
{
	static char	 path[PATH_MAX];
	FILE		*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fwrite(s, 1, n, f) != n ||
	    fclose(f) != 0 || chmod(path, mode) == -1) {
		perror(path);
		exit(1);
	}
	return path;
}

static const char *
at(const char *name)
{
	static char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void
test_private(void)
{
	struct stat	 st;
	char		 e[512];
	int		 fd;

	put("key", "k", 1, 0600);
	fd = file_open_private(at("key"), 1, &st, e, sizeof(e));
	T_OK(fd >= 0 && st.st_size == 1, "private file opens: %s", e);
	if (fd >= 0)
		close(fd);
	put("open", "k", 1, 0640);
	fd = file_open_private(at("open"), 0, &st, e, sizeof(e));
	T_OK(fd == -1 && errno == EPERM && strstr(e, "readable or writable "
	    "by group or others (mode 0640); chmod 600 it") != NULL,
	    "group-readable refused: %s", e);
	T_OK(symlink("key", at("link")) == 0, "symlink made");
	fd = file_open_private(at("link"), 1, &st, e, sizeof(e));
	T_OK(fd == -1 && strstr(e, "link: is a symbolic link") != NULL,
	    "nofollow refuses a link: %s", e);
	fd = file_open_private(at("link"), 0, &st, e, sizeof(e));
	T_OK(fd >= 0, "link followed without nofollow: %s", e);
	if (fd >= 0)
		close(fd);
	fd = file_open_private(at("none"), 0, &st, e, sizeof(e));
	T_OK(fd == -1 && errno == ENOENT && strstr(e, "none: No such file")
	    != NULL, "missing file keeps ENOENT: %s", e);
	T_OK(mkfifo(at("fifo"), 0600) == 0, "fifo made");
	fd = file_open_private(at("fifo"), 0, &st, e, sizeof(e));
	T_OK(fd == -1 && errno == EINVAL && strstr(e, "fifo: not a regular "
	    "file") != NULL, "a FIFO neither hangs nor opens: %s", e);
	fd = file_open_private(dir, 0, &st, e, sizeof(e));
	T_OK(fd == -1 && strstr(e, "not a regular file") != NULL,
	    "a directory refused: %s", e);
}

static void
test_secret(void)
{
	static const struct {
		const char	*what, *text;
		size_t		 len;
		const char	*want;	/* NULL: refused with err */
		const char	*err;
	} rows[] = {
		{ "newline stripped", "secret\n", 7, "secret", NULL },
		{ "CRLF stripped", "secret\r\n", 8, "secret", NULL },
		{ "no newline", "secret", 6, "secret", NULL },
		{ "empty", "", 0, "", NULL },
		{ "only one newline stripped", "s\n\n", 3, NULL,
		  "holds NUL or more than one line" },
		{ "two lines", "a\nb\n", 4, NULL,
		  "holds NUL or more than one line" },
		{ "a bare CR inside", "a\rb", 3, NULL,
		  "holds NUL or more than one line" },
		{ "a NUL", "a\0b", 3, NULL, "holds NUL or more than one line" },
	};
	static char	 big[FILE_MAX_SECRET + 1];
	char		 e[512], *s;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		e[0] = '\0';
		s = file_read_secret(put("pw", rows[i].text, rows[i].len,
		    0600), e, sizeof(e));
		if (rows[i].want != NULL)
			T_STR(s, rows[i].want, rows[i].what);
		else
			T_OK(s == NULL && strstr(e, rows[i].err) != NULL,
			    "%s: expected [%s], got [%s] [%s]", rows[i].what,
			    rows[i].err, s ? s : "(null)", e);
		free(s);
	}
	memset(big, 'a', sizeof(big));
	s = file_read_secret(put("pw", big, FILE_MAX_SECRET, 0600), e,
	    sizeof(e));
	T_OK(s != NULL && strlen(s) == FILE_MAX_SECRET, "%d octets read: %s",
	    FILE_MAX_SECRET, e);
	free(s);
	s = file_read_secret(put("pw", big, sizeof(big), 0600), e, sizeof(e));
	T_OK(s == NULL && strstr(e, "pw: larger than 4096 octets") != NULL,
	    "over the limit: %s", e);
	free(s);
	s = file_read_secret(put("pw", "x\n", 2, 0604), e, sizeof(e));
	T_OK(s == NULL && strstr(e, "group or others") != NULL,
	    "an open secret refused: %s", e);
	free(s);
}

static void
test_slurp(void)
{
	enum file_err	 fe;
	char		*b;
	size_t		 len;
	int		 dfd, p[2];

	put("ten", "0123456789", 10, 0644);
	fe = file_slurp(AT_FDCWD, at("ten"), 10, 0, &b, &len);
	T_INT(fe, FILE_OK, "a file of max octets");
	T_OK(b != NULL && len == 10 && memcmp(b, "0123456789", 11) == 0,
	    "contents and NUL");
	free(b);
	fe = file_slurp(AT_FDCWD, at("ten"), 9, 0, &b, &len);
	T_OK(fe == FILE_ETOOBIG && b == NULL, "one octet over max: %d", fe);
	fe = file_slurp(AT_FDCWD, at("ten"), 9, FILE_STREAM, &b, &len);
	T_OK(fe == FILE_ETOOBIG && b == NULL, "over max, stream: %d", fe);
	fe = file_slurp(AT_FDCWD, at("ten"), 10, FILE_STREAM, &b, &len);
	T_OK(fe == FILE_OK && len == 10 && b[10] == '\0', "stream read");
	free(b);
	put("empty", "", 0, 0644);
	fe = file_slurp(AT_FDCWD, at("empty"), 0, 0, &b, &len);
	T_OK(fe == FILE_OK && len == 0 && b != NULL && b[0] == '\0',
	    "an empty file");
	free(b);
	fe = file_slurp(AT_FDCWD, at("none"), 10, 0, &b, &len);
	T_OK(fe == FILE_EOPEN && errno == ENOENT, "missing: %d", fe);
	fe = file_slurp(AT_FDCWD, at("fifo"), 10, 0, &b, &len);
	T_OK(fe == FILE_ENOTREG, "a FIFO neither hangs nor reads: %d", fe);
	fe = file_slurp(AT_FDCWD, dir, 10, 0, &b, &len);
	T_OK(fe == FILE_ENOTREG, "a directory: %d", fe);
	fe = file_slurp(AT_FDCWD, dir, 10, FILE_STREAM, &b, &len);
	T_OK(fe == FILE_EREAD && errno == EISDIR, "a directory, stream: %d",
	    fe);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1) {
		perror(dir);
		exit(1);
	}
	fe = file_slurp(dfd, "ten", 100, FILE_NOFOLLOW, &b, &len);
	T_OK(fe == FILE_OK && len == 10, "relative to a directory fd: %d", fe);
	free(b);
	T_OK(symlink("ten", at("tenlink")) == 0, "symlink made");
	fe = file_slurp(dfd, "tenlink", 100, FILE_NOFOLLOW, &b, &len);
	T_OK(fe == FILE_EOPEN && errno == ELOOP, "nofollow: %d", fe);
	fe = file_slurp(dfd, "tenlink", 100, 0, &b, &len);
	T_OK(fe == FILE_OK && len == 10, "link followed: %d", fe);
	free(b);
	close(dfd);

	/* A pipe, as doctor's --sts-ca /dev/stdin would be. */
	if (pipe(p) == -1 || write(p[1], "abc", 3) != 3) {
		perror("pipe");
		exit(1);
	}
	close(p[1]);
	{
		char	 name[64];

		snprintf(name, sizeof(name), "/proc/self/fd/%d", p[0]);
		fe = file_slurp(AT_FDCWD, name, 100, FILE_STREAM, &b, &len);
		T_OK(fe == FILE_OK && len == 3 && memcmp(b, "abc", 4) == 0,
		    "a pipe read to its end: %d", fe);
		free(b);
		fe = file_slurp(AT_FDCWD, name, 100, 0, &b, &len);
		T_INT(fe, FILE_ENOTREG, "a pipe without FILE_STREAM");
	}
	close(p[0]);
}

static void
test_fsync(void)
{
	char	 p[PATH_MAX];

	T_INT(file_fsync_dir(dir), 0, "fsync a directory");
	T_OK(file_fsync_dir(at("none")) == -1 && errno == ENOENT,
	    "missing directory: %s", strerror(errno));
	T_OK(file_fsync_dir(at("ten")) == -1 && errno == ENOTDIR,
	    "a file is no directory: %s", strerror(errno));
	T_INT(file_fsync_parent(at("ten")), 0, "parent of a file");
	T_INT(file_fsync_parent("/etc"), 0, "parent in the root");
	T_INT(file_fsync_parent("bare-name"), 0, "parent of a bare name");
	T_OK(file_fsync_parent(at("nodir/x")) == -1 && errno == ENOENT,
	    "missing parent: %s", strerror(errno));
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[sizeof(p) - 3] = '/';
	p[sizeof(p) - 2] = 'x';
	p[sizeof(p) - 1] = '\0';
	T_OK(file_fsync_parent(p) == -1 && errno == ENAMETOOLONG,
	    "parent over PATH_MAX: %s", strerror(errno));
}

int
main(void)
{
	char	 cmd[PATH_MAX + 16];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_private();
	test_secret();
	test_slurp();
	test_fsync();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	T_DONE();
}
