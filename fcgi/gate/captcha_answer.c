/*
 * captcha_answer: a siteverify answer judged (captcha_parse_answer(), see
 * captcha.h); the fuzz target's entry point.  No network, no allocation
 * kept.  And the names of captcha.h (fields, kinds, results).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "gate/captcha.h"
#include "gate/captcha_int.h"
#include "lib/log.h"

const char *
captcha_field(enum captcha_kind k)
{
	switch (k) {
	case CAPTCHA_TURNSTILE:
		return "cf-turnstile-response";
	case CAPTCHA_HCAPTCHA:
		return "h-captcha-response";
	case CAPTCHA_RECAPTCHA_V2:
	case CAPTCHA_RECAPTCHA_V3:
		return "g-recaptcha-response";
	}
	return NULL;
}

const char *
captcha_kind_name(enum captcha_kind k)
{
	switch (k) {
	case CAPTCHA_TURNSTILE:
		return "turnstile";
	case CAPTCHA_HCAPTCHA:
		return "hcaptcha";
	case CAPTCHA_RECAPTCHA_V2:
		return "recaptcha-v2";
	case CAPTCHA_RECAPTCHA_V3:
		return "recaptcha-v3";
	}
	return "unknown";
}

const char *
captcha_result_name(enum captcha_result r)
{
	switch (r) {
	case CAPTCHA_OK:
		return "ok";
	case CAPTCHA_MISSING:
		return "missing";
	case CAPTCHA_REJECTED:
		return "rejected";
	case CAPTCHA_UNAVAILABLE:
		return "unavailable";
	case CAPTCHA_BUSY:
		return "busy";
	}
	return "unknown";
}

void
captcha_say(char *why, size_t whysize, const char *fmt, ...)
{
	va_list	 ap;

	if (why == NULL || whysize == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
}

/*
 * What each provider's answer carries beyond "success", "error-codes" and
 * "hostname" (the same for all): Turnstile and reCAPTCHA v3 an "action",
 * reCAPTCHA v3 a "score" whenever "success" is true.
 */
static const struct {
	int	 action;
	int	 score;
} captcha_answers[] = {
	[CAPTCHA_TURNSTILE] = { 1, 0 },
	[CAPTCHA_HCAPTCHA] = { 0, 0 },
	[CAPTCHA_RECAPTCHA_V2] = { 0, 0 },
	[CAPTCHA_RECAPTCHA_V3] = { 1, 1 },
};

/*
 * Error codes of a "success": false answer that say the fault lies with
 * this site's setup or with the provider, not with the visitor's token:
 * no verdict on the token was reached, so the post gets 503 and the admin
 * a log line, rather than the visitor a "captcha failed".
 */
static const char *const captcha_our_errors[] = {
	"missing-input-secret",		/* all three providers */
	"invalid-input-secret",
	"bad-request",
	"internal-error",		/* Turnstile: retry later */
	"sitekey-secret-mismatch",	/* hCaptcha */
	"invalid-remoteip",
	"missing-remoteip",
	NULL
};

/* The fields of an answer whose shape passed. */
struct captcha_answer {
	json_t		*root;
	const json_t	*codes;		/* NULL: absent */
	const json_t	*host;
	const json_t	*action;
	double		 score;
	char		 scoretext[32];	/* " score 0.90" or "" */
	int		 success;
};

int
captcha_has_action(enum captcha_kind k)
{
	return (size_t)k < sizeof(captcha_answers) /
	    sizeof(captcha_answers[0]) && captcha_answers[k].action;
}

static int
captcha_has_score(enum captcha_kind k)
{
	return (size_t)k < sizeof(captcha_answers) /
	    sizeof(captcha_answers[0]) && captcha_answers[k].score;
}

/* ASCII case-insensitive equality of a JSON string and a host name. */
static int
captcha_same_host(const char *a, size_t alen, const char *b)
{
	size_t	 i;
	char	 x, y;

	if (alen != strlen(b))
		return 0;
	for (i = 0; i < alen; i++) {
		x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i];
		y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] - 'A' + 'a' : b[i];
		if (x != y)
			return 0;
	}
	return 1;
}

/*
 * The strings of an "error-codes" array, escaped and joined by ',' into
 * dst; *ours set when one of them is in captcha_our_errors.
 */
static void
captcha_codes(const json_t *codes, char *dst, size_t dstsize, int *ours)
{
	const json_t	*v;
	char		 one[CAPTCHA_SHOWN];
	size_t		 i, j, o = 0;
	int		 n;

	*ours = 0;
	dst[0] = '\0';
	if (codes == NULL)
		return;
	json_array_foreach(codes, i, v) {
		if (!json_is_string(v))
			continue;
		for (j = 0; captcha_our_errors[j] != NULL; j++)
			if (strcmp(json_string_value(v),
			    captcha_our_errors[j]) == 0)
				*ours = 1;
		if (o + 1 >= dstsize)
			continue;
		log_escape(one, sizeof(one), json_string_value(v),
		    json_string_length(v));
		n = snprintf(dst + o, dstsize - o, "%s%s", o > 0 ? "," : "",
		    one);
		if (n < 0 || (size_t)n >= dstsize - o)
			o = dstsize;
		else
			o += (size_t)n;
	}
}

/*
 * The answer's shape (captcha.h): one JSON object, no duplicate keys,
 * boolean "success", and the provider's fields of the right types.
 * Returns 0 with a filled (root to be json_decref'd), or -1 with why.
 */
static int
captcha_answer_shape(enum captcha_kind kind, const char *answer, size_t len,
    struct captcha_answer *a, char *why, size_t whysize)
{
	json_error_t	 jerr;
	const json_t	*score;
	char		 e[CAPTCHA_SHOWN];

	memset(a, 0, sizeof(*a));
	if (len > CAPTCHA_MAX_ANSWER) {
		captcha_say(why, whysize, "answer over %d octets",
		    CAPTCHA_MAX_ANSWER);
		return -1;
	}
	/* Two "success" keys could be read two ways: refuse the answer. */
	if ((a->root = json_loadb(answer, len, JSON_REJECT_DUPLICATES,
	    &jerr)) == NULL) {
		log_escape(e, sizeof(e), jerr.text, strlen(jerr.text));
		captcha_say(why, whysize, "answer is not JSON: line %d column "
		    "%d: %s", jerr.line, jerr.column, e);
		return -1;
	}
	if (!json_is_object(a->root)) {
		captcha_say(why, whysize, "answer is not a JSON object");
		return -1;
	}
	if (!json_is_boolean(json_object_get(a->root, "success"))) {
		captcha_say(why, whysize, "answer has no boolean \"success\"");
		return -1;
	}
	a->success = json_is_true(json_object_get(a->root, "success"));
	if ((a->codes = json_object_get(a->root, "error-codes")) != NULL &&
	    !json_is_array(a->codes)) {
		captcha_say(why, whysize, "answer's \"error-codes\" is not an "
		    "array");
		return -1;
	}
	if ((a->host = json_object_get(a->root, "hostname")) != NULL &&
	    !json_is_string(a->host)) {
		captcha_say(why, whysize, "answer's \"hostname\" is not a "
		    "string");
		return -1;
	}
	if (captcha_has_action(kind) &&
	    (a->action = json_object_get(a->root, "action")) != NULL &&
	    !json_is_string(a->action)) {
		captcha_say(why, whysize, "answer's \"action\" is not a "
		    "string");
		return -1;
	}
	if (!captcha_has_score(kind))
		return 0;
	if ((score = json_object_get(a->root, "score")) != NULL) {
		if (!json_is_number(score) ||
		    !((a->score = json_number_value(score)) >= 0 &&
		    a->score <= 1)) {
			captcha_say(why, whysize, "answer's \"score\" is not a "
			    "number in [0, 1]");
			return -1;
		}
		snprintf(a->scoretext, sizeof(a->scoretext), " score %.2f",
		    a->score);
	} else if (a->success) {
		captcha_say(why, whysize, "answer has no \"score\" (not a "
		    "reCAPTCHA v3 key?)");
		return -1;
	}
	return 0;
}

/* A "success": true answer against conf's hostnames, action and score:
 * CAPTCHA_OK or CAPTCHA_REJECTED, with why. */
static enum captcha_result
captcha_answer_judge(const struct captcha_conf *conf,
    const struct captcha_answer *a, char *why, size_t whysize)
{
	const char	*s;
	char		 e1[CAPTCHA_SHOWN], e2[CAPTCHA_SHOWN];
	double		 min;
	size_t		 i;

	if (a->host != NULL)
		log_escape(e1, sizeof(e1), json_string_value(a->host),
		    json_string_length(a->host));
	else
		snprintf(e1, sizeof(e1), "-");
	if (conf->nhostnames > 0) {
		if (a->host == NULL) {
			captcha_say(why, whysize, "answer has no hostname");
			return CAPTCHA_REJECTED;
		}
		for (i = 0; i < conf->nhostnames; i++)
			if (conf->hostnames[i] != NULL &&
			    captcha_same_host(json_string_value(a->host),
			    json_string_length(a->host), conf->hostnames[i]))
				break;
		if (i == conf->nhostnames) {
			captcha_say(why, whysize, "hostname \"%s\" is not "
			    "allowed", e1);
			return CAPTCHA_REJECTED;
		}
	}
	if (captcha_has_action(conf->kind) && conf->action != NULL) {
		s = a->action != NULL ? json_string_value(a->action) : NULL;
		if (s == NULL || json_string_length(a->action) !=
		    strlen(conf->action) || strcmp(s, conf->action) != 0) {
			log_escape(e2, sizeof(e2), s, s != NULL ?
			    json_string_length(a->action) : 0);
			captcha_say(why, whysize, "action \"%s\" is not the "
			    "form's", e2);
			return CAPTCHA_REJECTED;
		}
	}
	if (captcha_has_score(conf->kind)) {
		/* Written so that a NaN min_score means the default. */
		min = conf->min_score > 0 ? conf->min_score :
		    CAPTCHA_DEFAULT_SCORE;
		if (a->score < min) {
			captcha_say(why, whysize, "score %.2f below %.2f",
			    a->score, min);
			return CAPTCHA_REJECTED;
		}
	}
	captcha_say(why, whysize, "hostname \"%s\"%s", e1, a->scoretext);
	return CAPTCHA_OK;
}

enum captcha_result
captcha_parse_answer(const struct captcha_conf *conf, const char *answer,
    size_t len, char *why, size_t whysize)
{
	struct captcha_answer	 a;
	enum captcha_result	 r = CAPTCHA_UNAVAILABLE;
	char			 list[2 * CAPTCHA_SHOWN];
	int			 ours;

	if (captcha_answer_shape(conf->kind, answer, len, &a, why,
	    whysize) == -1)
		goto out;
	if (!a.success) {
		captcha_codes(a.codes, list, sizeof(list), &ours);
		captcha_say(why, whysize, "%s: %s", ours ? "provider error" :
		    "provider refused the token", list[0] ? list :
		    "no error code");
		r = ours ? CAPTCHA_UNAVAILABLE : CAPTCHA_REJECTED;
		goto out;
	}
	r = captcha_answer_judge(conf, &a, why, whysize);
out:
	json_decref(a.root);
	return r;
}
