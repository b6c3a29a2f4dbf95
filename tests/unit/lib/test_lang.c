/*
 * test_lang: Accept-Language negotiation (a table of ordinary and hostile
 * values) and the completeness of the seven languages' texts (lang.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/lang.h"
#include "t.h"

#define ALL	LANG_ALL
#define EN	LANG_BIT(LANG_EN)
#define FR	LANG_BIT(LANG_FR)
#define DE	LANG_BIT(LANG_DE)
#define ES	LANG_BIT(LANG_ES)
#define PT	LANG_BIT(LANG_PT)

static const struct {
	const char	*accept;
	unsigned int	 have;
	enum lang	 want;
} cases[] = {
	{ NULL, ALL, LANG_EN },
	{ "", ALL, LANG_EN },
	{ "de", ALL, LANG_DE },
	{ "DE", ALL, LANG_DE },
	{ "de-DE", ALL, LANG_DE },
	{ "de-CH-1996", ALL, LANG_DE },
	{ "es-419", ALL, LANG_ES },
	{ "pt-BR,pt;q=0.9,en-US;q=0.8,en;q=0.7", ALL, LANG_PT },
	{ "nl-BE, nl;q=0.9", ALL, LANG_NL },
	{ "it-IT", ALL, LANG_IT },
	{ "fr-CH, fr;q=0.9, en;q=0.8", ALL, LANG_FR },
	/* the highest q wins, wherever it stands */
	{ "en;q=0.5, de;q=0.9", ALL, LANG_DE },
	{ "de, en;q=0.5, fr;q=0.4", ALL, LANG_DE },
	{ "ja, ko;q=0.9, es;q=0.2, en;q=0.1", ALL, LANG_ES },
	{ "es;q=0.001, en;q=0.0", ALL, LANG_ES },
	/* a tie: the earlier range */
	{ "fr, de", ALL, LANG_FR },
	{ "de;q=0.5, fr;q=0.5", ALL, LANG_DE },
	{ "de;q=0.500, fr;q=0.5", ALL, LANG_DE },
	/* a language named twice: its best q */
	{ "de;q=0.1, fr;q=0.5, de-AT", ALL, LANG_DE },
	/* not offered: the next acceptable, else English */
	{ "ja, zh-CN;q=0.9", ALL, LANG_EN },
	{ "ja, de;q=0.1", ALL, LANG_DE },
	{ "de, fr;q=0.5", EN | FR, LANG_FR },
	{ "de", EN | FR, LANG_EN },
	{ "de", FR | ES, LANG_FR },
	{ "de", 0, LANG_EN },
	{ "es, pt;q=0.4", PT, LANG_PT },
	/* q=0: refused, even the fallback's own rank */
	{ "en;q=0, de;q=0.1", ALL, LANG_DE },
	{ "de;q=0", ALL, LANG_EN },
	{ "de;q=0, *", ALL, LANG_EN },
	{ "*;q=0", ALL, LANG_EN },
	{ "*;q=0, es", ALL, LANG_ES },
	/* "*": any language not named */
	{ "ja, *;q=0.5", ALL, LANG_EN },
	{ "en;q=0, *;q=0.5", ALL, LANG_FR },
	{ "*", DE | ES, LANG_DE },
	{ "ja, *;q=0.1, nl;q=0.2", ALL, LANG_NL },
	/* spacing: OWS around ';' and members, tabs, empty members */
	{ "  de ; q=0.9 ,en;q=0.1", ALL, LANG_DE },
	{ "de\t;\tq=0.9", ALL, LANG_DE },
	{ ",,, ,de,,", ALL, LANG_DE },
	{ "de;Q=0.9", ALL, LANG_DE },
	/* malformed members are ignored, the rest still counts */
	{ "de;q=2, fr;q=0.1", ALL, LANG_FR },
	{ "de;q=1.5", ALL, LANG_EN },
	{ "de;q=1.0001", ALL, LANG_EN },
	{ "de;q=0.1234", ALL, LANG_EN },
	{ "de;q=-0.5", ALL, LANG_EN },
	{ "de;q=.5", ALL, LANG_EN },
	{ "de;q=0.5x", ALL, LANG_EN },
	{ "de;q=", ALL, LANG_EN },
	{ "de;q", ALL, LANG_EN },
	{ "de;", ALL, LANG_EN },
	{ "de;level=1", ALL, LANG_EN },
	{ "de;q=0.9;q=0.1", ALL, LANG_EN },
	{ "de;q=1e0", ALL, LANG_EN },
	{ "de;q=nan, es", ALL, LANG_ES },
	{ "d e", ALL, LANG_EN },
	{ "de_DE", ALL, LANG_EN },
	{ "de-", ALL, LANG_EN },
	{ "de--DE", ALL, LANG_EN },
	{ "de-abcdefghi", ALL, LANG_EN },
	{ "abcdefghi, de;q=0.2", ALL, LANG_DE },
	{ "*de", ALL, LANG_EN },
	{ "**", ALL, LANG_EN },
	/* only the primary subtag, of exactly two letters */
	{ "deu", ALL, LANG_EN },
	{ "d", ALL, LANG_EN },
	{ "x-de", ALL, LANG_EN },
	{ "en-de", ALL, LANG_EN },
	{ "fra, es;q=0.5", ALL, LANG_ES },
	/* octets no header should hold */
	{ "de\r\n", ALL, LANG_EN },
	{ "\xc3\xa9s, es;q=0.3", ALL, LANG_ES },
	{ "\xff\xfe", ALL, LANG_EN },
	{ ";q=1", ALL, LANG_EN },
	{ "=", ALL, LANG_EN },
};

/* Every language's texts exist, are non-empty UTF-8 without markup or
 * controls, and (but for the shared words) differ from English. */
static void
t_texts(void)
{
	static const char *const codes[] = { "required", "max_length",
	    "email", "invalid", "unknown", "letters", "choice", "challenge",
	    "captcha", "type", "size", "file" };
	static const int statuses[] = { 400, 403, 404, 405, 411, 413, 414,
	    415, 429, 500, 503 };
	const unsigned char	*s;
	size_t			 l, i;
	int			 ok;

	for (l = 0; l < LANG_COUNT; l++) {
		T_OK(lang_tag((enum lang)l) != NULL &&
		    strlen(lang_tag((enum lang)l)) == 2, "tag of %zu", l);
		for (i = 0; i < LANG_MSG_COUNT + sizeof(codes) /
		    sizeof(codes[0]) + sizeof(statuses) / sizeof(statuses[0]);
		    i++) {
			const char *t = i < LANG_MSG_COUNT ?
			    lang_msg((enum lang)l, (enum lang_msg)i) :
			    i < LANG_MSG_COUNT + sizeof(codes) /
			    sizeof(codes[0]) ? lang_code_text((enum lang)l,
			    codes[i - LANG_MSG_COUNT]) : lang_status_title(
			    (enum lang)l, statuses[i - LANG_MSG_COUNT -
			    sizeof(codes) / sizeof(codes[0])]);

			ok = t != NULL && *t != '\0';
			for (s = (const unsigned char *)t; ok && *s; s++)
				if (*s < 0x20 || *s == '<' || *s == '>' ||
				    *s == '&' || *s == '"' || *s == 0x7f)
					ok = 0;
			T_OK(ok, "%s text %zu: present, no markup or controls",
			    lang_tag((enum lang)l), i);
		}
		if (l == LANG_EN)
			continue;
		T_OK(strcmp(lang_msg((enum lang)l, LANG_THANKS_TEXT),
		    lang_msg(LANG_EN, LANG_THANKS_TEXT)) != 0 &&
		    strcmp(lang_code_text((enum lang)l, "required"),
		    lang_code_text(LANG_EN, "required")) != 0 &&
		    strcmp(lang_code_text((enum lang)l, "file"),
		    lang_code_text(LANG_EN, "file")) != 0 &&
		    strcmp(lang_status_title((enum lang)l, 413),
		    lang_status_title(LANG_EN, 413)) != 0,
		    "%s is translated", lang_tag((enum lang)l));
	}
	T_STR(lang_code_text(LANG_DE, "no such code"),
	    lang_code_text(LANG_DE, "invalid"), "an unknown code");
	T_STR(lang_code_text(LANG_ES, NULL), lang_code_text(LANG_ES,
	    "invalid"), "no code");
	T_STR(lang_code_text(LANG_EN, "required"), "is required.",
	    "English required");
	T_STR(lang_msg((enum lang)LANG_COUNT, LANG_THANKS_TITLE), "Thank you",
	    "a language out of range");
	T_STR(lang_status_title(LANG_DE, 299),
	    lang_status_title(LANG_DE, 500), "an unknown status");
	T_OK(lang_tag((enum lang)LANG_COUNT) == NULL, "tag out of range");
	T_STR(lang_tag(LANG_PT), "pt", "tag of pt");
}

int
main(void)
{
	char	*big;
	size_t	 i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum lang got = lang_negotiate(cases[i].accept, cases[i].have);

		T_OK(got == cases[i].want, "\"%s\" over %#x: expected %s, got "
		    "%s", cases[i].accept ? cases[i].accept : "(null)",
		    cases[i].have, lang_tag(cases[i].want), lang_tag(got));
	}
	/* A long value: what lies past LANG_MAX_ACCEPT is not read. */
	n = LANG_MAX_ACCEPT * 4;
	if ((big = malloc(n + 1)) == NULL)
		return 1;
	memset(big, ',', n);
	memcpy(big + LANG_MAX_ACCEPT - 8, "nl;q=0.1", 8);
	memcpy(big + LANG_MAX_ACCEPT + 8, "de", 2);
	big[n] = '\0';
	T_OK(lang_negotiate(big, ALL) == LANG_NL, "ranges past %d octets are "
	    "not read", LANG_MAX_ACCEPT);
	for (i = 0; i + 3 <= n; i += 3)
		memcpy(big + i, "x-,", 3);
	T_OK(lang_negotiate(big, ALL) == LANG_EN, "a long list of malformed "
	    "ranges");
	free(big);
	t_texts();
	T_DONE();
}
