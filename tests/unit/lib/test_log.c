/* test_log: escaping of untrusted strings for log lines. */
#include "lib/log.h"
#include "t.h"

static const struct {
	const char	*in;
	size_t		 len;
	size_t		 size;
	const char	*want;
} cases[] = {
	{ "plain", 5, 64, "plain" },
	{ "a\r\nb", 4, 64, "a\\x0d\\x0ab" },
	{ "nul\0x", 5, 64, "nul\\x00x" },
	{ "q\"uote\\", 7, 64, "q\\x22uote\\x5c" },
	{ "\xc3\xa9", 2, 64, "\\xc3\\xa9" },
	{ "\x1b[31mred", 8, 64, "\\x1b[31mred" },
	{ "abcdefghij", 10, 8, "abcd..." },
	{ "\n\n\n\n", 4, 10, "\\x0a..." },
	{ "", 0, 4, "" },
	{ "x\x7f", 2, 64, "x\\x7f" },
};

int
main(void)
{
	char	 out[64];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_escape(out, cases[i].size, cases[i].in, cases[i].len);
		T_STR(out, cases[i].want, cases[i].in);
		T_OK(strlen(out) < cases[i].size, "case %zu fits", i);
	}
	log_escape(out, sizeof(out), NULL, 3);
	T_STR(out, "-", "NULL source");
	T_DONE();
}
