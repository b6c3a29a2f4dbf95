/*
 * lib/ private: the tables of lang_text.c, read by lang.c.  Only those two
 * include it; the contract is lang.h.
 */
#ifndef F2M_LANG_INT_H
#define F2M_LANG_INT_H

#include "lib/lang.h"

#define LANG_NCODES	12	/* validation codes */
#define LANG_INVALID	3	/* index of "invalid" */
#define LANG_NSTATUS	9	/* statuses with a title */

extern const char *const lang_text_tags[LANG_COUNT];
extern const char *const lang_text_msgs[LANG_COUNT][LANG_MSG_COUNT];
/* The validation error codes, and their texts in that order. */
extern const char *const lang_text_codes[LANG_NCODES];
extern const char *const lang_text_code_texts[LANG_COUNT][LANG_NCODES];
/* The statuses with a title, and the titles in that order (500 is the
 * one before last). */
extern const int lang_text_statuses[LANG_NSTATUS];
extern const char *const lang_text_titles[LANG_COUNT][LANG_NSTATUS];

#endif
