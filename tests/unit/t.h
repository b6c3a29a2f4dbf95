/*
 * t.h: the tiny unit test kit.  A failed check prints file:line, what was
 * expected and what came, and the program exits 1 at the end.
 */
#ifndef F2M_T_H
#define F2M_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	t_failed, t_checks;

#define T_OK(cond, ...) do {						\
	t_checks++;							\
	if (!(cond)) {							\
		t_failed++;						\
		fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

#define T_INT(got, want, what) do {					\
	long long t_g = (long long)(got), t_w = (long long)(want);	\
	T_OK(t_g == t_w, "%s: expected %lld, got %lld", (what), t_w, t_g); \
} while (0)

#define T_STR(got, want, what) do {					\
	const char *t_gs = (got), *t_ws = (want);			\
	T_OK(t_gs != NULL && strcmp(t_gs, t_ws) == 0,			\
	    "%s:\n  expected [%s]\n  got      [%s]", (what), t_ws,	\
	    t_gs ? t_gs : "(null)");					\
} while (0)

#define T_DONE() do {							\
	printf("%d checks, %d failed\n", t_checks, t_failed);		\
	return t_failed ? 1 : 0;					\
} while (0)

#endif
