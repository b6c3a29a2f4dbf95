/*
 * privsep: the service user and what is made for it (privsep.h).
 */
#include <sys/types.h>
#include <sys/prctl.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "spool/spool.h"
#include "svc/privsep.h"
#include "svc/sandbox.h"

/* No core dumps (sandbox_no_core); 0 or -1, logged. */
int
privsep_no_core(void)
{
	char	 err[256];

	if (sandbox_no_core(err, sizeof(err)) == -1) {
		log_err("%s", err);
		return -1;
	}
	return 0;
}

/*
 * No fallback to "nobody": every other process running as nobody could
 * then read the submissions and change the spool (issue 16, F6).
 */
int
privsep_user(const struct conf *cf, uid_t *uid, gid_t *gid)
{
	struct passwd	*pw;

	if ((pw = getpwnam(cf->user != NULL ? cf->user :
	    PRIVSEP_DEFAULT_USER)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
privsep_user_check(const struct conf *cf, char *msg, size_t len)
{
	uid_t	 uid;
	gid_t	 gid;

	msg[0] = '\0';
	if (privsep_user(cf, &uid, &gid) == -1) {
		if (cf->user != NULL)
			snprintf(msg, len, "no user \"%s\" (\"user\")",
			    cf->user);
		else
			snprintf(msg, len, "no \"user\" is set and there is "
			    "no \"%s\" account: create it (adduser --system "
			    "--group %s) or set \"user\"; form2mail does not "
			    "run as \"nobody\" unless told to",
			    PRIVSEP_DEFAULT_USER, PRIVSEP_DEFAULT_USER);
		return -1;
	}
	if (cf->user != NULL && strcmp(cf->user, "nobody") == 0) {
		snprintf(msg, len, "\"user\": \"nobody\": every other process "
		    "running as nobody can read the submissions in the spool "
		    "and change or delete them; create a \"%s\" account "
		    "(adduser --system --group %s) and remove \"user\"",
		    PRIVSEP_DEFAULT_USER, PRIVSEP_DEFAULT_USER);
		return 1;
	}
	return 0;
}

int
privsep_drop(const struct conf *cf)
{
	char	 msg[512];
	uid_t	 uid;
	gid_t	 gid;

	if (geteuid() != 0)
		goto nnp;
	if (privsep_user_check(cf, msg, sizeof(msg)) == -1 ||
	    privsep_user(cf, &uid, &gid) == -1) {
		log_err("no service user: %s", msg);
		return -1;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		log_err("cannot drop privileges: %s", strerror(errno));
		return -1;
	}
	if (setuid(0) != -1) {
		log_err("privileges could be regained; stopping");
		return -1;
	}
nnp:
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		log_err("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	/* After the uid change, which reset "dumpable" to suid_dumpable. */
	return privsep_no_core();
}

int
privsep_prepare_dirs(const struct conf *cf)
{
	char	 p[PATH_MAX], msg[512];
	uid_t	 uid;
	gid_t	 gid;
	long	 u = -1, g = -1;

	if (geteuid() == 0) {
		if (privsep_user_check(cf, msg, sizeof(msg)) == -1 ||
		    privsep_user(cf, &uid, &gid) == -1) {
			log_err("no service user: %s", msg);
			return -1;
		}
		u = (long)uid;
		g = (long)gid;
	}
	if (spool_init(cf->spool_dir, u, g) == -1) {
		log_err("spool %s: %s", cf->spool_dir, strerror(errno));
		return -1;
	}
	if (spool_mkdir_owned(cf->state_dir, u, g) == -1) {
		log_err("state_dir %s: %s", cf->state_dir, strerror(errno));
		return -1;
	}
	/* Without it every commit fsyncs queue/ alone: slower, still safe. */
	snprintf(p, sizeof(p), "%s/%s", cf->state_dir, PRIVSEP_SYNC_FILE);
	if (spool_sync_init(p, u, g) == -1)
		log_warn("%s: no group commit (%s)", p, strerror(errno));
	return 0;
}

void
privsep_sync_open(const struct conf *cf)
{
	char	 p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", cf->state_dir, PRIVSEP_SYNC_FILE);
	if (spool_sync_open(p, cf->spool_dir) == -1)
		log_warn("%s: no group commit (%s)", p, strerror(errno));
	spool_reserve_set(cf->spool_dir, cf->min_free, cf->min_free_pct);
}
