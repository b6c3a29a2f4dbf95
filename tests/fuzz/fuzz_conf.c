/*
 * fuzz_conf: the config loader on arbitrary files.  Invariants: the status
 * is 0, 1 or 2; a config is returned exactly when the status is 0; every
 * address of a loaded config passes the validator; positions never crash.
 * conf_load reports on stderr: run libFuzzer with -close_fd_mask=2.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/addr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_mailboxes(const struct conf_mailbox *m, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (!addr_spec_ok(m[i].addr, strlen(m[i].addr)))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char	 path[64];
	static int	 init;
	struct conf	*cf = NULL;
	size_t		 i;
	int		 fd, rc;

	if (!init) {
		snprintf(path, sizeof(path), "/tmp/fuzz_conf.%ld.json",
		    (long)getpid());
		init = 1;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	rc = conf_load(path, &cf);
	if (rc != 0 && rc != 1 && rc != 2)
		abort();
	if ((rc == 0) != (cf != NULL))
		abort();
	if (cf != NULL) {
		if (!addr_spec_ok(cf->from.addr, strlen(cf->from.addr)))
			abort();
		for (i = 0; i < cf->nforms; i++) {
			if (cf->forms[i].nto == 0 && cf->forms[i].nchoices == 0)
				abort();
			check_mailboxes(cf->forms[i].to, cf->forms[i].nto);
			check_mailboxes(cf->forms[i].cc, cf->forms[i].ncc);
			check_mailboxes(cf->forms[i].bcc, cf->forms[i].nbcc);
		}
	}
	conf_free(cf);
	unlink(path);
	return 0;
}
