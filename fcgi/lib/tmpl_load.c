/*
 * tmpl_load: a template file read and compiled; see tmpl.h.  Apart from
 * the language (tmpl.c) because it is file I/O: the config loads every
 * template it names once, at start.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/tmpl.h"

enum tmpl_load
tmpl_load(const char *dir, const char *name, const char *ext,
    struct tmpl **out, char *err, size_t errsize)
{
	char		 file[PATH_MAX], why[256];
	struct stat	 st;
	char		*text = NULL;
	ssize_t		 n;
	int		 fd;
	enum tmpl_load	 rc = TMPL_LOAD_FILE;

	*out = NULL;
	err[0] = '\0';
	snprintf(file, sizeof(file), "%s/%s.%s", dir, name, ext);
	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1) {
		rc = errno == ENOENT ? TMPL_LOAD_ABSENT : TMPL_LOAD_FILE;
		snprintf(err, errsize, "template %s: %s", file,
		    strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TMPL_MAX_SIZE) {
		snprintf(err, errsize, "template %s: not a regular file of at "
		    "most %d octets", file, TMPL_MAX_SIZE);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		rc = TMPL_LOAD_NOMEM;
		goto out;
	}
	n = read(fd, text, (size_t)st.st_size);
	if (n != st.st_size) {
		snprintf(err, errsize, "template %s: short read", file);
		goto out;
	}
	if (tmpl_parse(text, (size_t)n, out, why, sizeof(why)) == -1) {
		snprintf(err, errsize, "%s:%s", file, why);
		rc = TMPL_LOAD_SYNTAX;
	} else
		rc = TMPL_LOAD_OK;
out:
	free(text);
	close(fd);
	return rc;
}
