/* spam: rspamd /checkv2 through libcurl; see spam.h. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/buf.h"
#include "lib/curlx.h"
#include "lib/log.h"
#include "gate/spam.h"
#include "lib/addr.h"

#define SPAM_MAX_TIMEOUT	600000L	/* ms */
#define SPAM_MAX_URL		2048
#define SPAM_PATH		"/checkv2"
#define SPAM_LOG_SYMBOL		64	/* octets of one escaped symbol name */
#define SPAM_LOG_TEXT		128	/* octets of other escaped peer text */
#define SPAM_MAX_HEADER		(SPAM_MAX_VALUE + 16)

struct spam {
	CURL		*curl;
	char		*url;		/* <conf url>/checkv2 */
	double		 reject_score;
	double		 hold_score;
	long		 timeout_ms;
	/* One exchange: */
	struct buf	 ans;
	int		 over;		/* the answer passed SPAM_MAX_ANSWER */
	char		 errbuf[CURL_ERROR_SIZE];
};

/* The reason line: appended to in pieces, cut with "..." when full. */
struct spam_why {
	char	*s;
	size_t	 size;
	size_t	 len;
	int	 cut;
};

struct spam_sym {
	const char	*name;
	double		 score;
};

const char *
spam_verdict_name(enum spam_verdict v)
{
	switch (v) {
	case SPAM_HAM:
		return "ham";
	case SPAM_HOLD:
		return "hold";
	case SPAM_REJECT:
		return "reject";
	case SPAM_UNAVAILABLE:
		return "unavailable";
	}
	return "unknown";
}

static void spam_why_add(struct spam_why *, const char *, ...)
    F2M_PRINTF(2, 3);

static void
spam_why_add(struct spam_why *w, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (w->cut || w->size == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->s + w->len, w->size - w->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->s[w->len] = '\0';
		return;
	}
	if ((size_t)n < w->size - w->len) {
		w->len += (size_t)n;
		return;
	}
	w->cut = 1;
	w->len = w->size - 1;
	if (w->size > 4)
		memcpy(w->s + w->size - 4, "...", 4);
}

/* 1 when the url has no such part (none is libcurl's code for that). */
static int
spam_url_lacks(CURLU *u, CURLUPart what, CURLUcode none)
{
	char		*part = NULL;
	CURLUcode	 rc;

	rc = curl_url_get(u, what, &part, 0);
	curl_free(part);
	return rc == none;
}

/*
 * Checks url (spam.h, struct spam_conf) and returns <url>/checkv2 with
 * any trailing slash of the path dropped (malloc'd), or NULL (logged).
 * *https is set for an https:// url.
 */
static char *
spam_url(const char *url, int *https)
{
	CURLU	*u = NULL;
	char	*scheme = NULL, *host = NULL, *path = NULL, *part = NULL;
	char	*full = NULL, *out = NULL;
	size_t	 n;

	if (url == NULL || strlen(url) > SPAM_MAX_URL) {
		log_err("spam: the rspamd url is missing or too long");
		return NULL;
	}
	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		log_err("spam: cannot parse the rspamd url");
		goto out;
	}
	if (!spam_url_lacks(u, CURLUPART_USER, CURLUE_NO_USER) ||
	    !spam_url_lacks(u, CURLUPART_QUERY, CURLUE_NO_QUERY) ||
	    !spam_url_lacks(u, CURLUPART_FRAGMENT, CURLUE_NO_FRAGMENT) ||
	    !spam_url_lacks(u, CURLUPART_ZONEID, CURLUE_NO_ZONEID)) {
		log_err("spam: the rspamd url may not have user info, a "
		    "query, a fragment or a zone id");
		goto out;
	}
	/*
	 * The host of an http:// url must be loopback: the message and the
	 * visitor's address would otherwise cross a network in clear text.
	 * The host is as libcurl's URL parser normalised it ("[::1]" with
	 * brackets, other IPv4 notations rewritten as dotted quads).
	 */
	*https = strcmp(scheme, "https") == 0;
	if (!*https && !(strcmp(scheme, "http") == 0 &&
	    addr_is_loopback(host, strlen(host), 1))) {
		log_err("spam: the rspamd url must be https://, or http:// "
		    "to a loopback address");
		goto out;
	}
	n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		path[--n] = '\0';
	n += sizeof(SPAM_PATH);
	if ((full = malloc(n)) == NULL)
		goto out;
	snprintf(full, n, "%s%s", path, SPAM_PATH);
	if (curl_url_set(u, CURLUPART_PATH, full, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &part, 0) != CURLUE_OK) {
		log_err("spam: cannot build the rspamd url");
		goto out;
	}
	out = strdup(part);
	curl_free(part);
out:
	free(full);
	curl_free(scheme);
	curl_free(host);
	curl_free(path);
	curl_url_cleanup(u);
	return out;
}

static size_t
spam_write(char *p, size_t size, size_t nmemb, void *arg)
{
	struct spam	*s = arg;
	size_t		 n;

	if (nmemb != 0 && size > (size_t)-1 / nmemb)
		return 0;
	n = size * nmemb;
	if (n > SPAM_MAX_ANSWER - s->ans.len) {
		s->over = 1;
		return 0;
	}
	if (buf_add(&s->ans, p, n) == -1)
		return 0;
	return n;
}

struct spam *
spam_open(const struct spam_conf *cf)
{
	struct spam	*s;
	int		 https = 0, bad = 0, ok = 0;

	if (isnan(cf->reject_score) || isnan(cf->hold_score) ||
	    cf->hold_score > cf->reject_score) {
		log_err("spam: hold_score must be a number not above "
		    "reject_score");
		return NULL;
	}
	if (cf->timeout_ms < 1 || cf->timeout_ms > SPAM_MAX_TIMEOUT) {
		log_err("spam: timeout out of range (1 to %ld ms)",
		    SPAM_MAX_TIMEOUT);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->reject_score = cf->reject_score;
	s->hold_score = cf->hold_score;
	s->timeout_ms = cf->timeout_ms;
	if ((s->url = spam_url(cf->url, &https)) == NULL)
		goto out;
	/* The message and the visitor's address go to rspamd only: no proxy
	 * (curlx.h), no redirect. */
	if ((s->curl = curlx_open(&(struct curlx){ .url = s->url,
	    .protocols = https ? "https" : "http",
	    .connect_ms = s->timeout_ms, .total_ms = s->timeout_ms,
	    .errbuf = s->errbuf })) == NULL) {
		log_err("spam: libcurl refused an option");
		goto out;
	}
	bad |= curl_easy_setopt(s->curl, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1) != CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "form2mail") !=
	    CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_POST, 1L) != CURLE_OK;
	/* Content-Length over the cap fails before the body is read. */
	bad |= curl_easy_setopt(s->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)SPAM_MAX_ANSWER) != CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, spam_write) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s) != CURLE_OK;
	if (bad) {
		log_err("spam: libcurl refused an option");
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		spam_close(s);
		s = NULL;
	}
	return s;
}

void
spam_close(struct spam *s)
{
	if (s == NULL)
		return;
	curlx_close(s->curl);
	free(s->url);
	buf_free(&s->ans);
	free(s);
}

/* A header value: printable ASCII without spaces, so it cannot fold or
 * end the header (libcurl sends custom headers as given). */
static int
spam_value_ok(const char *v)
{
	size_t	 i;

	for (i = 0; v[i] != '\0'; i++)
		if (v[i] <= ' ' || v[i] > '~' || i >= SPAM_MAX_VALUE)
			return 0;
	return i > 0;
}

/* Appends "name: value" to *h unless value is NULL; -1 on a bad value or
 * ENOMEM. */
static int
spam_header(struct curl_slist **h, const char *name, const char *value)
{
	struct curl_slist	*n;
	char			 line[SPAM_MAX_HEADER];

	if (value == NULL)
		return 0;
	if (!spam_value_ok(value))
		return -1;
	snprintf(line, sizeof(line), "%s: %s", name, value);
	if ((n = curl_slist_append(*h, line)) == NULL)
		return -1;
	*h = n;
	return 0;
}

/*
 * rspamd judges the visitor's words, not our envelope (docs/DESIGN.md
 * "Deliverability"): the draft is not signed yet and comes from the
 * visitor's IP, so SPF, DKIM, DMARC and ARC would judge the visitor's
 * connection as if it were our relay (R_SPF_FAIL, DMARC_POLICY_REJECT).
 * Those groups are off for this request (rspamd per-request settings,
 * "groups_disabled"); the receiving side scores them on the signed mail.
 * A notification has From on the site's domain (or its first recipient,
 * sender.same_domain_from), the site's envelope sender and the visitor in
 * Reply-To by design, and the web client has no mail host name: the
 * symbols that score exactly that structure are off too.  What we pass
 * (IP, envelope, recipients) is true; hold_score and reject_score then
 * mean content alone.
 */
#define SPAM_SETTINGS	"{\"groups_disabled\":[\"spf\",\"dkim\","	\
	"\"dmarc\",\"arc\"],\"symbols_disabled\":[\"SPOOF_REPLYTO\","	\
	"\"FORGED_SENDER\",\"FROM_NEQ_ENVFROM\","			\
	"\"HFILTER_HOSTNAME_UNKNOWN\",\"RDNS_NONE\",\"HFILTER_HELO_NOT_FQDN\","	\
	"\"HFILTER_HELO_BAREIP\",\"ONCE_RECEIVED\",\"RCVD_COUNT_ZERO\"]}"

/* Keeps the SPAM_TOP_SYMBOLS highest scores, ties by name, in top[]. */
static void
spam_rank(struct spam_sym *top, size_t *ntop, const char *name, double sc)
{
	size_t	 i;

	for (i = *ntop; i > 0; i--) {
		if (top[i - 1].score > sc || (top[i - 1].score == sc &&
		    strcmp(top[i - 1].name, name) < 0))
			break;
		if (i < SPAM_TOP_SYMBOLS)
			top[i] = top[i - 1];
	}
	if (i >= SPAM_TOP_SYMBOLS)
		return;
	top[i].name = name;
	top[i].score = sc;
	if (*ntop < SPAM_TOP_SYMBOLS)
		(*ntop)++;
}

/*
 * The answer of rspamd's protocol (rspamd.com/doc/architecture/protocol):
 * {"score": N, "required_score": N, "action": S, "symbols": {NAME:
 * {"name": S, "score": N, ...}}, ...}.  Returns 0 with *sc, *reject and
 * the reason line written, or -1 with the fault in why.
 */
static int
spam_parse(struct spam *s, double *sc, int *reject, struct spam_why *w)
{
	struct spam_sym	 top[SPAM_TOP_SYMBOLS];
	json_t		*root, *js, *jsyms, *jv;
	json_error_t	 jerr;
	const char	*action, *key;
	char		 esc[SPAM_LOG_TEXT];
	size_t		 ntop = 0, i;
	int		 rc = -1;

	root = json_loadb(s->ans.data != NULL ? s->ans.data : "", s->ans.len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		spam_why_add(w, "malformed answer: %s at line %d column %d",
		    log_escape(esc, sizeof(esc), jerr.text, strlen(jerr.text)),
		    jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		spam_why_add(w, "malformed answer: not a JSON object");
		goto out;
	}
	js = json_object_get(root, "score");
	if (!json_is_number(js) || !isfinite(json_number_value(js))) {
		spam_why_add(w, "malformed answer: no numeric score");
		goto out;
	}
	if (!json_is_string(js = json_object_get(root, "action"))) {
		spam_why_add(w, "malformed answer: no action string");
		goto out;
	}
	action = json_string_value(js);
	if ((jsyms = json_object_get(root, "symbols")) != NULL) {
		if (!json_is_object(jsyms)) {
			spam_why_add(w, "malformed answer: symbols is not an "
			    "object");
			goto out;
		}
		json_object_foreach(jsyms, key, jv) {
			js = json_is_object(jv) ?
			    json_object_get(jv, "score") : NULL;
			if (!json_is_number(js) ||
			    !isfinite(json_number_value(js))) {
				spam_why_add(w, "malformed answer: symbol "
				    "\"%s\" without a numeric score",
				    log_escape(esc, SPAM_LOG_SYMBOL, key,
				    strlen(key)));
				goto out;
			}
			spam_rank(top, &ntop, key, json_number_value(js));
		}
	}
	*sc = json_number_value(json_object_get(root, "score"));
	*reject = strcmp(action, "reject") == 0;
	spam_why_add(w, "score %.2f (hold %.2f, reject %.2f), action \"%s\"",
	    *sc, s->hold_score, s->reject_score,
	    log_escape(esc, sizeof(esc), action, strlen(action)));
	for (i = 0; i < ntop; i++)
		spam_why_add(w, "%s%s(%.2f)", i == 0 ? ", symbols " : " ",
		    log_escape(esc, SPAM_LOG_SYMBOL, top[i].name,
		    strlen(top[i].name)), top[i].score);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* An error answer's text when it is rspamd's {"error": "..."}. */
static void
spam_http_error(struct spam *s, long status, struct spam_why *w)
{
	json_t		*root, *je;
	char		 esc[SPAM_LOG_TEXT];

	spam_why_add(w, "HTTP status %ld", status);
	if ((root = json_loadb(s->ans.data != NULL ? s->ans.data : "",
	    s->ans.len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return;
	if (json_is_object(root) &&
	    json_is_string(je = json_object_get(root, "error")))
		spam_why_add(w, ": %s", log_escape(esc, sizeof(esc),
		    json_string_value(je), json_string_length(je)));
	json_decref(root);
}

/*
 * The request half: rspamd's headers for this message (spam.h), each value
 * checked, into *hp (freed by the caller).  Returns 0, or -1 with the
 * reason in w.
 */
static int
spam_headers(struct curl_slist **hp, const char *client_ip,
    const char *mail_from, const char *const *rcpt, size_t nrcpt,
    const char *helo, const char *hostname, const char *queue_id,
    struct spam_why *w)
{
	struct curl_slist	*h;
	size_t			 i;
	int			 bad;

	/* An empty "Expect:" and "Content-Type:" keep libcurl's own out. */
	if ((*hp = curl_slist_append(NULL, "Expect:")) == NULL ||
	    (h = curl_slist_append(*hp, "Content-Type:")) == NULL) {
		spam_why_add(w, "out of memory");
		return -1;
	}
	*hp = h;
	bad = (client_ip != NULL && !addr_ip_ok(client_ip)) ||
	    spam_header(hp, "IP", client_ip) == -1 ||
	    spam_header(hp, "From", mail_from) == -1 ||
	    spam_header(hp, "Helo", helo) == -1 ||
	    spam_header(hp, "Hostname", hostname) == -1 ||
	    spam_header(hp, "Queue-Id", queue_id) == -1 ||
	    spam_header(hp, "Settings", SPAM_SETTINGS) == -1;
	for (i = 0; !bad && i < nrcpt; i++)
		bad = rcpt[i] == NULL || spam_header(hp, "Rcpt", rcpt[i]) == -1;
	if (bad) {
		spam_why_add(w, "an envelope value is not printable ASCII "
		    "(or the IP not an address), or out of memory");
		return -1;
	}
	return 0;
}

/*
 * The answer half: the transfer's result cc and what rspamd sent, as a
 * verdict (spam.h), with the reason in w; *score (may be NULL) set when a
 * score was parsed.
 */
static enum spam_verdict
spam_answer(struct spam *s, CURLcode cc, double *score, struct spam_why *w)
{
	char	 esc[SPAM_LOG_TEXT];
	double	 sc = 0;
	long	 status = 0;
	int	 reject = 0;

	if (s->over || cc == CURLE_FILESIZE_EXCEEDED) {
		spam_why_add(w, "answer over %lu octets", SPAM_MAX_ANSWER);
		return SPAM_UNAVAILABLE;
	}
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		spam_why_add(w, "no answer within %ld ms", s->timeout_ms);
		return SPAM_UNAVAILABLE;
	}
	if (cc != CURLE_OK) {
		spam_why_add(w, "curl: %s (code %d)", curl_easy_strerror(cc),
		    (int)cc);
		if (s->errbuf[0] != '\0')
			spam_why_add(w, ": %s", log_escape(esc, sizeof(esc),
			    s->errbuf, strlen(s->errbuf)));
		return SPAM_UNAVAILABLE;
	}
	if (curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status) !=
	    CURLE_OK || status != 200) {
		spam_http_error(s, status, w);
		return SPAM_UNAVAILABLE;
	}
	if (spam_parse(s, &sc, &reject, w) == -1)
		return SPAM_UNAVAILABLE;
	if (score != NULL)
		*score = sc;
	if (reject || sc >= s->reject_score)
		return SPAM_REJECT;
	if (sc >= s->hold_score)
		return SPAM_HOLD;
	return SPAM_HAM;
}

enum spam_verdict
spam_check(struct spam *s, const char *msg, size_t len,
    const char *client_ip, const char *mail_from, const char *const *rcpt,
    size_t nrcpt, const char *helo, const char *hostname,
    const char *queue_id, double *score, char *why, size_t whysize)
{
	struct spam_why		 w = { why, whysize, 0, 0 };
	struct curl_slist	*h = NULL;
	enum spam_verdict	 v = SPAM_UNAVAILABLE;

	if (whysize > 0)
		why[0] = '\0';
	if (s == NULL || msg == NULL) {
		spam_why_add(&w, "not configured");
		return SPAM_UNAVAILABLE;
	}
	if (len > SPAM_MAX_MESSAGE) {
		spam_why_add(&w, "message of %zu octets over the limit", len);
		return SPAM_UNAVAILABLE;
	}
	if (nrcpt > SPAM_MAX_RCPT || (nrcpt > 0 && rcpt == NULL)) {
		spam_why_add(&w, "too many recipients");
		return SPAM_UNAVAILABLE;
	}
	if (spam_headers(&h, client_ip, mail_from, rcpt, nrcpt, helo,
	    hostname, queue_id, &w) == -1)
		goto out;
	buf_free(&s->ans);
	s->over = 0;
	s->errbuf[0] = '\0';
	if (curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, msg) != CURLE_OK ||
	    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)len) != CURLE_OK) {
		spam_why_add(&w, "libcurl refused an option");
		goto out;
	}
	v = spam_answer(s, curl_easy_perform(s->curl), score, &w);
out:
	/* The handle must not keep pointers into this call's memory. */
	(void)curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	(void)curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(h);
	buf_free(&s->ans);
	return v;
}
