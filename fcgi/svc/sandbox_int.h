/*
 * sandbox_int: what the files of the sandbox share (sandbox.c, the
 * worker and CGI allowlist and the loader; sandbox_deliver.c, the
 * deliverer's allowlist and its Landlock rules).  Not for other modules.
 */
#ifndef F2M_SANDBOX_INT_H
#define F2M_SANDBOX_INT_H

#include <stddef.h>
#include <stdint.h>

#include <linux/sched.h>
#include <seccomp.h>

/* Which profiles a row of an allowlist belongs to. */
#define SBX_WORKER	0x1
#define SBX_CGI		0x2
#define SBX_BOTH	(SBX_WORKER | SBX_CGI)
#define SBX_DELIVER	0x4	/* sandbox_deliver_rules, and the ASan rows */

/*
 * clone() flags that would leave the caller's namespaces.  A thread
 * (CLONE_THREAD, which the kernel only takes with CLONE_SIGHAND and
 * CLONE_VM) may carry none of them.  CLONE_NEWTIME is left out: for
 * clone() its bit is part of the exit signal, and a thread has none.
 */
#define SBX_CLONE_NS	(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | \
	CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)

/* The command bits of a futex op (the kernel's FUTEX_CMD_MASK also
 * keeps higher bits, and any of them makes the op unknown: ENOSYS). */
#define SBX_FUTEX_CMD	0x7f

/* The type bits of socket()'s second argument, without the flags. */
#define SBX_SOCK_TYPE	0xf

struct sandbox_rule {
	const char		*name;
	unsigned		 profiles;
	uint32_t		 action;
	unsigned		 nargs;
	struct scmp_arg_cmp	 a, b;
};

/*
 * Argument comparisons are on the 64-bit registers the kernel sees.
 * glibc passes int arguments sign-extended; other upper bits make an
 * equality fail, which errs towards the kill.
 */
#define SBX_NONE		{ 0, SCMP_CMP_EQ, 0, 0 }
#define SBX_EQ(i, v)		{ (i), SCMP_CMP_EQ, (scmp_datum_t)(v), 0 }
#define SBX_MASKED(i, m, v)	{ (i), SCMP_CMP_MASKED_EQ, (m), (v) }
#define SBX_ANY(n, p)		{ (n), (p), SCMP_ACT_ALLOW, 0, SBX_NONE, SBX_NONE }
#define SBX_IF(n, p, a)		{ (n), (p), SCMP_ACT_ALLOW, 1, a, SBX_NONE }
#define SBX_IF2(n, p, a, b)	{ (n), (p), SCMP_ACT_ALLOW, 2, a, b }
#define SBX_ERRNO(n, p, e)	{ (n), (p), SCMP_ACT_ERRNO(e), 0, SBX_NONE, \
				  SBX_NONE }
#define SBX_ERRNO_IF(n, p, e, a) { (n), (p), SCMP_ACT_ERRNO(e), 1, a, \
				  SBX_NONE }

/* The deliverer's allowlist (sandbox_deliver.c): rows of SBX_DELIVER. */
extern const struct sandbox_rule	 sandbox_deliver_rules[];
extern const size_t			 sandbox_deliver_nrules;

/*
 * Builds the filter of profile (one SBX_ bit) from the rows of both
 * tables that carry it, which kills the process on any other call, and
 * loads it for every thread.  Returns 0 or -1 (err).
 */
int	 sandbox_load(unsigned profile, char *err, size_t errsize);

#endif
