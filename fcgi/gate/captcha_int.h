/*
 * captcha_int.h: what gate/captcha.c (the client) and gate/captcha_answer.c
 * (the answer's judge) share.  Private to gate/.
 */
#ifndef F2M_CAPTCHA_INT_H
#define F2M_CAPTCHA_INT_H

#include <stddef.h>

#include "gate/captcha.h"

#define CAPTCHA_SHOWN	100	/* octets of an untrusted value in why */

/* vsnprintf() into why; nothing when why is NULL or whysize 0. */
void	 captcha_say(char *why, size_t whysize, const char *fmt, ...)
	    F2M_PRINTF(3, 4);

/* Whether the kind's answers carry an "action" (Turnstile, reCAPTCHA v3);
 * 0 for a kind out of range. */
int	 captcha_has_action(enum captcha_kind);

#endif
