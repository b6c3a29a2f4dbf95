/*
 * slots: at most n holders at a time of one named resource, counted
 * across processes (the workers are separate processes).  Each slot is
 * one byte of a small file, held by an open file description lock
 * (fcntl F_OFD_SETLK, Linux 3.15+): never waited for, and released by
 * the kernel when the holder's descriptor closes, a worker that dies
 * included.  issue 16, F12: the cap on workers waiting on one captcha
 * provider.
 *
 * Each process must open the file itself (slots_open() after fork()): a
 * descriptor inherited across fork() shares its description, and with it
 * the locks, with the parent's.  A process holds at most one slot of a
 * struct slots at a time.
 */
#ifndef F2M_SLOTS_H
#define F2M_SLOTS_H

#include <stddef.h>

#include "lib/buf.h"

#define SLOTS_MAX	1024	/* slots of one file */

struct slots {
	int		 fd;	/* -1: closed */
	unsigned	 n;	/* 1..SLOTS_MAX */
	int		 held;	/* the slot held, -1: none */
};

/*
 * Opens (creating it 0600, O_NOFOLLOW, O_CLOEXEC) the regular file path
 * for n slots.  Returns 0, or -1 with a one-line reason naming path in
 * err (n out of range, open, not a regular file).
 */
int	 slots_open(struct slots *s, const char *path, unsigned n, char *err,
	    size_t errsize) F2M_WUR;

/*
 * Takes a free slot without waiting.  Returns 1 (taken: s->held), 0 (all
 * n held by others, or this struct already holds one), or -1 (fcntl
 * failed: errno).
 */
int	 slots_take(struct slots *s) F2M_WUR;

/* Gives back the slot held; no-op when none is. */
void	 slots_give(struct slots *s);

/* Closes the file (which gives back a slot held); a struct that was
 * never opened or is closed already is accepted if zeroed with fd -1. */
void	 slots_close(struct slots *s);

#endif
