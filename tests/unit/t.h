/*
 * t.h: the tiny unit test kit.  A failed check prints file:line, what was
 * expected and what came, and the program exits 1 at the end.
 *
 * A check this machine cannot make (a kernel feature it lacks) is
 * T_SKIP'd with the reason: it prints "SKIP what: why" and is counted
 * apart, never as passed.  A program that checked nothing at all exits
 * 77, which CMakeLists.txt tells ctest means "skipped".
 */
#ifndef F2M_T_H
#define F2M_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	t_failed, t_checks, t_skipped;

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

#define T_SKIP(what, ...) do {						\
	t_skipped++;							\
	printf("SKIP %s: ", (what));					\
	printf(__VA_ARGS__);						\
	putchar('\n');							\
	fflush(stdout);							\
} while (0)

#define T_DONE() do {							\
	printf("%d checks, %d failed, %d skipped\n", t_checks, t_failed, \
	    t_skipped);							\
	return t_failed ? 1 : t_checks == 0 ? 77 : 0;			\
} while (0)

/* Printable form of s[0..len) for failure messages (one static buffer:
 * one call per message). */
static inline const char *
t_show(const char *s, size_t len)
{
	static char	 out[1024];
	size_t		 i, o = 0;

	for (i = 0; i < len && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, sizeof(out) - o,
			    "\\x%02x", c);
	}
	out[o] = '\0';
	return out;
}

#endif
