/*
 * test_tmpl_load: template files read and compiled (lib/tmpl_load.c):
 * each outcome and its exact message.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/tmpl.h"
#include "t.h"

static char	 dir[] = "/tmp/f2m-test-tmpl-load.XXXXXX";

static void
put(const char *name, const char *s, size_t n)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL || fwrite(s, 1, n, f) != n ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int
main(void)
{
	struct tmpl	*t;
	char		 err[1024], want[1024], path[512], *big;

	if (mkdtemp(dir) == NULL)
		return 1;
	put("ok.txt", "Hi {{name}}\n", 12);
	put("bad.txt", "Hi\n {{#if x}}\n", 14);
	snprintf(path, sizeof(path), "%s/sub.txt", dir);
	if (mkdir(path, 0700) == -1)
		return 1;
	big = malloc(TMPL_MAX_SIZE + 1);
	memset(big, 'a', TMPL_MAX_SIZE + 1);
	put("big.txt", big, TMPL_MAX_SIZE + 1);
	put("max.txt", big, TMPL_MAX_SIZE);
	free(big);
	snprintf(path, sizeof(path), "%s/ok.txt", dir);
	snprintf(want, sizeof(want), "%s/link.txt", dir);
	if (symlink(path, want) == -1)
		return 1;

	T_INT(tmpl_load(dir, "ok", "txt", &t, err, sizeof(err)), TMPL_LOAD_OK,
	    "ok");
	T_OK(t != NULL && tmpl_uses(t, "name"), "ok compiled");
	T_STR(err, "", "ok: no message");
	tmpl_free(t);
	T_INT(tmpl_load(dir, "link", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_OK, "a link to a regular file");
	tmpl_free(t);
	T_INT(tmpl_load(dir, "max", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_OK, "TMPL_MAX_SIZE octets");
	tmpl_free(t);

	T_INT(tmpl_load(dir, "none", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_ABSENT, "absent");
	T_OK(t == NULL, "absent: NULL");
	snprintf(want, sizeof(want), "template %s/none.txt: No such file or "
	    "directory", dir);
	T_STR(err, want, "absent: message");

	T_INT(tmpl_load(dir, "sub", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_FILE, "a directory");
	snprintf(want, sizeof(want), "template %s/sub.txt: not a regular file "
	    "of at most 65536 octets", dir);
	T_STR(err, want, "directory: message");
	T_INT(tmpl_load(dir, "big", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_FILE, "over TMPL_MAX_SIZE");
	snprintf(want, sizeof(want), "template %s/big.txt: not a regular file "
	    "of at most 65536 octets", dir);
	T_STR(err, want, "big: message");
	T_INT(tmpl_load("/nonexistent-dir", "x", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_ABSENT, "no directory");

	T_INT(tmpl_load(dir, "bad", "txt", &t, err, sizeof(err)),
	    TMPL_LOAD_SYNTAX, "syntax");
	T_OK(t == NULL, "syntax: NULL");
	snprintf(want, sizeof(want), "%s/bad.txt:2:2: ", dir);
	T_OK(strncmp(err, want, strlen(want)) == 0 && strlen(err) >
	    strlen(want), "syntax: [%s] starts with [%s]", err, want);

	T_INT(tmpl_load(dir, "ok", "html", &t, err, 8), TMPL_LOAD_ABSENT,
	    "small err");
	T_INT(strlen(err), 7, "err cut to its size");

	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	T_DONE();
}
