/*
 * lang: the languages of the visitor's answers (built-in pages, error
 * texts, Formspree-style messages) and their choice by Accept-Language.
 *
 * Seven languages, each written as its speakers write a web form's
 * messages: en, fr, de, es, it, nl, pt.  Every text is plain UTF-8 without
 * markup; callers escape it for HTML or JSON.  No function allocates or
 * fails: an unknown code or message id gets a generic text.
 */
#ifndef F2M_LANG_H
#define F2M_LANG_H

enum lang {
	LANG_EN,	/* the fallback of every choice */
	LANG_FR,
	LANG_DE,
	LANG_ES,
	LANG_IT,
	LANG_NL,
	LANG_PT,
	LANG_COUNT
};

/* A set of languages: bit (1u << lang). */
#define LANG_BIT(l)	(1u << (unsigned int)(l))
#define LANG_ALL	((1u << LANG_COUNT) - 1)

/* Longest Accept-Language value looked at; the rest is ignored. */
#define LANG_MAX_ACCEPT	1024

enum lang_msg {
	LANG_SEP,		/* between a field's label and its text */
	LANG_THANKS_TITLE,
	LANG_THANKS_TEXT,
	LANG_REFERENCE,		/* before the submission id */
	LANG_BACK,		/* the link back to the site */
	LANG_CHECK_TITLE,	/* the page of invalid fields */
	LANG_CHECK_TEXT,
	LANG_RATE_TEXT,		/* 429 */
	LANG_BAD_REQUEST,
	LANG_NO_FORM,
	LANG_TRY_LATER,
	LANG_NOT_HTTPS,
	LANG_BAD_ORIGIN,
	LANG_BAD_TYPE,
	LANG_TOO_LARGE,
	LANG_TOO_MANY,
	LANG_VALUE_TOO_LARGE,
	LANG_CAPTCHA_DOWN,
	LANG_DUPLICATE,
	LANG_NOT_CHECKED,
	LANG_NOT_STORED,
	LANG_INTERNAL,
	LANG_CHALLENGE_ONLY,
	LANG_POST_ONLY,
	LANG_LABEL_CHALLENGE,	/* the label of the anti-spam check */
	LANG_LABEL_CAPTCHA,
	LANG_LABEL_FIELD,	/* a field whose name cannot be shown */
	LANG_LINK_INVALID,	/* a confirmation link refused */
	LANG_MSG_COUNT
};

/* "en", "fr", ...: the tag of Content-Language, <html lang> and file
 * names (NAME.<tag>.html); NULL for a value out of range. */
const char	*lang_tag(enum lang);

/*
 * The visitor's language among the set `have`, from an Accept-Language
 * value (RFC 9110 section 12.5.4; NULL: none sent).  Ranges match by
 * their primary subtag ("pt-BR" is pt, "*" any language not named);
 * the highest q wins, the earlier range on a tie; q=0 refuses a
 * language; a range with a malformed q is ignored.  When no language of
 * `have` is acceptable: en if in `have`, else the first of `have`; en
 * when `have` is empty.
 */
enum lang	 lang_negotiate(const char *accept, unsigned int have);

/* A message of the answers in that language. */
const char	*lang_msg(enum lang, enum lang_msg);

/*
 * The text of a validation code ("required", "email", ... "file") in that
 * language, written to follow the field's label and lang_msg(LANG_SEP):
 * "Email is not a valid email address.", "E-Mail: Bitte geben Sie ...".
 * An unknown code gets the text of "invalid".
 */
const char	*lang_code_text(enum lang, const char *code);

/* The title of an error page for an HTTP status in that language. */
const char	*lang_status_title(enum lang, int status);

#endif
