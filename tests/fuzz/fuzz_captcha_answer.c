/*
 * fuzz_captcha_answer: captcha_parse_answer on arbitrary siteverify
 * answers, for every kind, under a lax and a strict policy.  Invariants
 * (abort() on violation):
 *  - the result is OK, REJECTED or UNAVAILABLE, never MISSING, and the
 *    same when parsed again, or with why NULL;
 *  - why is non-empty, NUL-terminated within whysize, printable ASCII
 *    (the buffer is allocated to its exact size, so ASan sees overruns),
 *    also for whysize 1 and a small size that the input picks;
 *  - the policy cannot turn an answer into or out of UNAVAILABLE: lax and
 *    strict agree on it; strict OK implies lax OK;
 *  - OK only when the answer, read by jansson here, is an object whose
 *    "success" is true; under the strict policy also a "hostname" that is
 *    one of the allowed (ASCII case aside), for Turnstile and reCAPTCHA v3
 *    "action" "contact", and for v3 a "score" of at least 0.7;
 *  - REJECTED under the lax policy, for kinds without an action to check,
 *    only when "success" is false.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gate/captcha.h"

#define FZ_WHY		256
#define FZ_STRICT_SCORE	0.7

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fz_hosts[] = { "example.com", "www.example.com" };

static void
fz_why(const char *why, size_t size)
{
	size_t	 i;

	for (i = 0; i < size && why[i] != '\0'; i++)
		if (why[i] < ' ' || why[i] > '~')
			abort();
	if (i == size || (i == 0 && size > 1))
		abort();
}

static enum captcha_result
fz_parse(const struct captcha_conf *c, const char *data, size_t size)
{
	enum captcha_result	 r, again;
	char			*why;
	size_t			 ws;

	if ((why = malloc(FZ_WHY)) == NULL)
		abort();
	r = captcha_parse_answer(c, data, size, why, FZ_WHY);
	if (r != CAPTCHA_OK && r != CAPTCHA_REJECTED &&
	    r != CAPTCHA_UNAVAILABLE)
		abort();
	fz_why(why, FZ_WHY);
	free(why);
	if (captcha_parse_answer(c, data, size, NULL, 0) != r)
		abort();
	/* 1, then a size that the input picks. */
	for (ws = 1; ws < FZ_WHY; ws = 2 + size % (FZ_WHY / 4)) {
		if ((why = malloc(ws)) == NULL)
			abort();
		again = captcha_parse_answer(c, data, size, why, ws);
		fz_why(why, ws);
		free(why);
		if (again != r)
			abort();
		if (ws > 1)
			break;
	}
	return r;
}

/* What an OK answer must hold, read here without captcha.c. */
static void
fz_check_ok(const struct captcha_conf *c, const char *data, size_t size,
    int strict)
{
	json_t		*root, *v;
	const char	*s;
	size_t		 i;
	int		 found = 0;

	if ((root = json_loadb(data, size, 0, NULL)) == NULL ||
	    !json_is_true(json_object_get(root, "success")))
		abort();
	if (strict) {
		v = json_object_get(root, "hostname");
		if ((s = json_string_value(v)) == NULL)
			abort();
		for (i = 0; i < c->nhostnames; i++)
			if (strlen(s) == json_string_length(v) &&
			    strcasecmp(s, c->hostnames[i]) == 0)
				found = 1;
		if (!found)
			abort();
	}
	if (c->action != NULL) {
		v = json_object_get(root, "action");
		if ((s = json_string_value(v)) == NULL ||
		    strcmp(s, c->action) != 0 ||
		    json_string_length(v) != strlen(c->action))
			abort();
	}
	if (c->kind == CAPTCHA_RECAPTCHA_V3) {
		v = json_object_get(root, "score");
		if (!json_is_number(v) || json_number_value(v) > 1 ||
		    json_number_value(v) < c->min_score)
			abort();
	}
	json_decref(root);
}

static void
fz_check_rejected(const char *data, size_t size)
{
	json_t	*root;

	if ((root = json_loadb(data, size, 0, NULL)) == NULL ||
	    !json_is_false(json_object_get(root, "success")))
		abort();
	json_decref(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*answer = (const char *)data;
	struct captcha_conf	 lax, strict;
	enum captcha_result	 rl, rs;
	int			 k;

	for (k = CAPTCHA_TURNSTILE; k <= CAPTCHA_RECAPTCHA_V3; k++) {
		memset(&lax, 0, sizeof(lax));
		lax.kind = (enum captcha_kind)k;
		if (k == CAPTCHA_RECAPTCHA_V3) {
			lax.action = "contact";
			lax.min_score = 0.01;
		}
		strict = lax;
		strict.hostnames = fz_hosts;
		strict.nhostnames = 2;
		if (k == CAPTCHA_TURNSTILE || k == CAPTCHA_RECAPTCHA_V3)
			strict.action = "contact";
		strict.min_score = FZ_STRICT_SCORE;

		rl = fz_parse(&lax, answer, size);
		rs = fz_parse(&strict, answer, size);
		if ((rl == CAPTCHA_UNAVAILABLE) != (rs == CAPTCHA_UNAVAILABLE))
			abort();
		if (rs == CAPTCHA_OK && rl != CAPTCHA_OK)
			abort();
		if (rl == CAPTCHA_OK)
			fz_check_ok(&lax, answer, size, 0);
		if (rs == CAPTCHA_OK)
			fz_check_ok(&strict, answer, size, 1);
		if (rl == CAPTCHA_REJECTED && lax.action == NULL)
			fz_check_rejected(answer, size);
	}
	return 0;
}
