/*
 * test_answers: every HTTP answer of docs/DESIGN.md "HTTP answers" the
 * request handler gives without outside services (no rspamd, no captcha
 * provider), pinned byte for byte so a refactor of the request path can
 * show that none changed.
 *
 * Each row runs request_handle_cgi() in a forked child, as main.c's CGI
 * path does: parameters in the environment, the body on a pipe to stdin,
 * the answer on stdout and the log on stderr (both captured in files).
 * The parent loaded the config and opened the shared throttle table, the
 * ALTCHA key and the counters, so state carries from row to row the way
 * it does between requests (the burst rows and _metrics rely on that).
 *
 * Per row: the child exits 0; the log line of the request has the row's
 * outcome= and status=; the answer, with its submission id replaced by
 * <ID> (and the random parts of a challenge, the age of the oldest queued
 * message normalised), equals tests/data/answers/<row>.txt; a row that is
 * accepted has its id in the spool's queue, and no other row adds one.
 *
 * F2M_ANSWERS_UPDATE=1 writes the golden files from today's answers
 * instead of comparing (read them before committing: each must be what
 * docs/DESIGN.md says).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/conf.h"
#include "gate/challenge.h"
#include "http/request.h"
#include "lib/buf.h"
#include "lib/log.h"
#include "lib/stats.h"
#include "spool/spool.h"
#include "svc/privsep.h"
#include "svc/worker.h"
#include "throttle/throttle.h"
#include "t.h"

#define GOLDEN_DIR	"tests/data/answers"

static char	 dir[] = "/tmp/f2m-test-answers-XXXXXX";
static char	 cwd[PATH_MAX];

/* Row flags. */
#define SPOOLED		0x01	/* the answer's id is queued in the spool */
#define SAME_ID		0x02	/* the previous row's id again (duplicate) */
#define BUILTIN		0x04	/* config B: no thanks/error templates */
#define LONG_URI	0x08	/* REQUEST_URI of /f/ and 4100 letters */

/* Headers of the environment, one "NAME=value" a line; "NAME=" unsets. */
#define JSON		"HTTP_ACCEPT=application/json\n"
#define URLENC		"application/x-www-form-urlencoded"
#define BOUNDARY	"----f2mAnswers7MA4YWxkTrZu0gW"
#define MULTIPART	"multipart/form-data; boundary=" BOUNDARY
#define PART(name, value) "--" BOUNDARY "\r\nContent-Disposition: " \
	"form-data; name=\"" name "\"\r\n\r\n" value "\r\n"
#define FILEPART(name, file, type, data) "--" BOUNDARY "\r\n" \
	"Content-Disposition: form-data; name=\"" name "\"; filename=\"" \
	file "\"\r\nContent-Type: " type "\r\n\r\n" data "\r\n"
#define END		"--" BOUNDARY "--\r\n"

#define GOOD		"name=Ada+Lovelace&email=ada%40example.org&message=" \
	"Hello%0D%0Athere"
#define GOOD_MP		PART("name", "Ada Lovelace") \
	PART("email", "ada@example.org") PART("message", "Hello\r\nthere")
#define PDF		"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" \
	"trailer <<>>\n%%EOF\n"

static const struct row {
	const char	*name;		/* golden file tests/data/answers/NAME.txt */
	const char	*method;
	const char	*uri;		/* DOCUMENT_URI; NULL: none */
	const char	*env;		/* more parameters, see JSON */
	const char	*ctype;		/* CONTENT_TYPE; NULL: none */
	const char	*body;		/* on stdin; NULL: nothing */
	const char	*clen;		/* CONTENT_LENGTH; NULL: the body's */
	const char	*outcome;	/* of the log line */
	int		 status;
	int		 flags;
} rows[] = {
	/* accepted */
	{ "accepted_json", "POST", "/f/contact", JSON, URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED },
	{ "accepted_json_multipart", "POST", "/f/contact", JSON, MULTIPART,
	  GOOD_MP END, NULL, "accepted", 200, SPOOLED },
	{ "accepted_json_body", "POST", "/f/contact", JSON, "application/json",
	  "{\"name\":\"Ada Lovelace\",\"email\":\"ada@example.org\","
	  "\"message\":\"Hello\",\"extra\":[1,true,\"x\"]}", NULL, "accepted",
	  200, SPOOLED },
	{ "accepted_json_accept_list", "POST", "/f/contact",
	  "HTTP_ACCEPT=text/html;q=0.9, application/json\n", URLENC, GOOD,
	  NULL, "accepted", 200, SPOOLED },
	{ "accepted_browser_success_url", "POST", "/f/contact", "", URLENC, GOOD,
	  NULL, "accepted", 303, SPOOLED },
	{ "accepted_browser_next_allowed", "POST", "/f/contact", "", URLENC,
	  GOOD "&_next=https%3A%2F%2Fexample.test%2Fthanks%2Fcontact%3Fa%3D1",
	  NULL, "accepted", 303, SPOOLED },
	{ "accepted_browser_next_outside", "POST", "/f/contact", "", URLENC,
	  GOOD "&_next=https%3A%2F%2Fevil.test%2Fthanks%2F", NULL, "accepted",
	  303, SPOOLED },
	{ "accepted_browser_thanks_page", "POST", "/f/page",
	  "HTTP_REFERER=https://example.test/page.html\n", URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED },
	{ "accepted_browser_thanks_page_fr", "POST", "/f/page",
	  "HTTP_ACCEPT_LANGUAGE=de;q=0.5, fr-CH, en;q=0.8\n", URLENC, GOOD,
	  NULL, "accepted", 200, SPOOLED },
	{ "accepted_browser_builtin_page", "POST", "/f/page", "", URLENC, GOOD,
	  NULL, "accepted", 200, SPOOLED | BUILTIN },
	{ "accepted_browser_builtin_page_de", "POST", "/f/page",
	  "HTTP_ACCEPT_LANGUAGE=de-DE,de;q=0.9\n", URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED | BUILTIN },
	{ "accepted_formspree_json", "POST", "/f/fs", JSON, URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED },
	{ "accepted_formspree_browser", "POST", "/f/fs", "", URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED },
	{ "accepted_request_uri", "POST", NULL,
	  JSON "REQUEST_URI=/f/contact?utm=1#x\n", URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED },
	{ "accepted_request_scheme", "POST", "/f/contact",
	  JSON "HTTPS=\nREQUEST_SCHEME=https\n", URLENC, GOOD, NULL,
	  "accepted", 200, SPOOLED },
	{ "accepted_https_upper", "POST", "/f/contact", JSON "HTTPS=ON\n",
	  URLENC, GOOD, NULL, "accepted", 200, SPOOLED },
	{ "accepted_referer_origin", "POST", "/f/contact",
	  JSON "HTTP_ORIGIN=\nHTTP_REFERER=https://example.test/contact.html\n",
	  URLENC, GOOD, NULL, "accepted", 200, SPOOLED },
	{ "accepted_upload", "POST", "/f/up", JSON, MULTIPART,
	  PART("name", "Ada") FILEPART("cv", "cv.pdf", "application/pdf", PDF)
	  END, NULL, "accepted", 200, SPOOLED },
	{ "accepted_empty_file_input", "POST", "/f/up", JSON, MULTIPART,
	  PART("name", "Ada") FILEPART("cv", "", "application/octet-stream",
	  "") END, NULL, "accepted", 200, SPOOLED },
	/* docs/DESIGN.md "Throttle": a client address that is not an IP address
	 * is refused (503), never admitted unthrottled (issue 16, F4). */
	{ "no_remote_addr", "POST", "/f/contact", JSON "REMOTE_ADDR=\n", URLENC,
	  GOOD, NULL, "no_client_ip", 503, 0 },
	{ "remote_addr_unix", "POST", "/f/contact", JSON "REMOTE_ADDR=unix:\n",
	  URLENC, GOOD, NULL, "no_client_ip", 503, 0 },

	/* honeypot and spam: as accepted, nothing sent */
	{ "honeypot_json", "POST", "/f/contact", JSON, URLENC,
	  GOOD "&_gotcha=x", NULL, "honeypot", 200, 0 },
	{ "honeypot_browser", "POST", "/f/contact", "", URLENC,
	  GOOD "&_gotcha=x", NULL, "honeypot", 303, 0 },
	{ "honeypot_migration_name", "POST", "/f/page", JSON, URLENC,
	  GOOD "&botcheck=on", NULL, "honeypot", 200, 0 },
	{ "honeypot_formspree", "POST", "/f/fs", JSON, URLENC, GOOD "&_honey=1",
	  NULL, "honeypot", 200, 0 },
	{ "spam_links", "POST", "/f/contact", JSON, URLENC,
	  "name=Ada&email=ada%40example.org&message=http%3A%2F%2Fa.test+"
	  "http%3A%2F%2Fb.test+http%3A%2F%2Fc.test", NULL, "spam_links", 200,
	  0 },
	{ "spam_phrase", "POST", "/f/contact", "", URLENC,
	  "name=Ada&email=ada%40example.org&message=Buy+CHEAP+pills+now", NULL,
	  "spam_phrase", 303, 0 },
	{ "duplicate_first", "POST", "/f/contact",
	  JSON "REMOTE_ADDR=203.0.113.5\n", URLENC, GOOD "&n=dup", NULL,
	  "accepted", 200, SPOOLED },
	{ "duplicate_repeat", "POST", "/f/contact",
	  JSON "REMOTE_ADDR=203.0.113.5\n", URLENC, GOOD "&n=dup", NULL,
	  "duplicate", 200, SAME_ID },

	/* invalid fields */
	{ "invalid_json", "POST", "/f/contact", JSON, URLENC,
	  "name=&email=not-an-address&message=Hi", NULL, "invalid", 422, 0 },
	{ "invalid_json_header_value", "POST", "/f/contact", JSON, URLENC,
	  "name=Ada%0D%0ABcc%3A+x%40evil.test&email=ada%40example.org&"
	  "message=Hi", NULL, "invalid", 422, 0 },
	{ "invalid_json_max_length", "POST", "/f/contact", JSON, URLENC,
	  "name=%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9"
	  "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9a&"
	  "email=ada%40example.org&message=Hi", NULL, "invalid", 422, 0 },
	{ "invalid_json_unknown_field", "POST", "/f/page", JSON, URLENC,
	  GOOD "&colour=red", NULL, "invalid", 422, 0 },
	{ "invalid_browser_error_url", "POST", "/f/contact", "", URLENC,
	  "name=Ada", NULL, "invalid", 303, 0 },
	{ "invalid_browser_error_page", "POST", "/f/page", "", URLENC,
	  "name=Ada&email=x", NULL, "invalid", 422, 0 },
	{ "invalid_browser_error_page_nl", "POST", "/f/page",
	  "HTTP_ACCEPT_LANGUAGE=nl\n", URLENC, "name=Ada&email=x", NULL,
	  "invalid", 422, 0 },
	{ "invalid_browser_builtin_page", "POST", "/f/page", "", URLENC,
	  "name=Ada&email=x", NULL, "invalid", 422, BUILTIN },
	{ "invalid_formspree_json", "POST", "/f/fs", JSON, URLENC,
	  "name=Ada&email=x", NULL, "invalid", 422, 0 },
	{ "invalid_formspree_browser", "POST", "/f/fs", "", URLENC,
	  "name=Ada&email=x", NULL, "invalid", 422, 0 },
	{ "file_without_uploads_json", "POST", "/f/contact", JSON, MULTIPART,
	  GOOD_MP FILEPART("attachment", "a.pdf", "application/pdf", PDF) END,
	  NULL, "invalid", 422, 0 },
	{ "file_without_uploads_browser", "POST", "/f/page", "", MULTIPART,
	  GOOD_MP FILEPART("attachment", "a.pdf", "application/pdf", PDF) END,
	  NULL, "invalid", 422, 0 },
	{ "upload_bad_type", "POST", "/f/up", JSON, MULTIPART,
	  PART("name", "Ada") FILEPART("cv", "cv.pdf", "application/pdf",
	  "MZ\x90\x03 not a pdf") END, NULL, "invalid", 422, 0 },
	{ "challenge_missing_json", "POST", "/f/alt", JSON, URLENC,
	  "message=Hi", NULL, "challenge_failed", 422, 0 },
	{ "challenge_bad_browser", "POST", "/f/alt", "", URLENC,
	  "message=Hi&altcha=eyJub3QiOiJ2YWxpZCJ9", NULL, "challenge_failed",
	  422, 0 },

	/* refused before the fields */
	{ "not_https_json", "POST", "/f/contact", JSON "HTTPS=\n", URLENC, GOOD,
	  NULL, "not_https", 403, 0 },
	{ "not_https_browser", "POST", "/f/contact", "HTTPS=off\n", URLENC,
	  GOOD, NULL, "not_https", 403, 0 },
	{ "bad_origin_json", "POST", "/f/contact",
	  JSON "HTTP_ORIGIN=https://evil.test\n", URLENC, GOOD, NULL,
	  "bad_origin", 403, 0 },
	{ "bad_origin_browser", "POST", "/f/contact",
	  "HTTP_ORIGIN=https://example.test.evil.test\n", URLENC, GOOD, NULL,
	  "bad_origin", 403, 0 },
	{ "missing_origin", "POST", "/f/contact", JSON "HTTP_ORIGIN=\n", URLENC,
	  GOOD, NULL, "bad_origin", 403, 0 },
	{ "bad_origin_formspree", "POST", "/f/fs",
	  JSON "HTTP_ORIGIN=null\nHTTP_REFERER=https://evil.test/x\n", URLENC,
	  GOOD, NULL, "bad_origin", 403, 0 },
	{ "bad_type_json", "POST", "/f/contact", JSON, "text/plain", GOOD, NULL,
	  "bad_type", 415, 0 },
	{ "bad_type_browser", "POST", "/f/contact", "",
	  "application/x-www-form-urlencodedx", GOOD, NULL, "bad_type", 415,
	  0 },
	{ "no_type", "POST", "/f/contact", JSON, NULL, GOOD, NULL, "bad_type",
	  415, 0 },
	{ "too_large_json", "POST", "/f/contact", JSON, URLENC, GOOD, "20001",
	  "too_large", 413, 0 },
	{ "too_large_browser", "POST", "/f/contact", "", URLENC, GOOD,
	  "99999999999999999999", "too_large", 413, 0 },
	{ "bad_length", "POST", "/f/contact", JSON, URLENC, GOOD, "12x",
	  "bad_length", 400, 0 },
	{ "short_body", "POST", "/f/contact", JSON, URLENC, GOOD, "500",
	  "short_body", 400, 0 },
	{ "too_many_fields", "POST", "/f/contact", JSON, URLENC,
	  GOOD "&a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9&j=10", NULL,
	  "too_many_fields", 413, 0 },
	{ "value_too_large", "POST", "/f/contact", "", URLENC,
	  "name=Ada&email=ada%40example.org&message="
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789012345678901234567890123456789",
	  NULL, "value_too_large", 413, 0 },
	{ "bad_json_body", "POST", "/f/contact", JSON, "application/json",
	  "{\"name\": \"Ada\", ", NULL, "bad_body", 400, 0 },
	{ "bad_json_nested", "POST", "/f/contact", JSON,
	  "application/json; charset=utf-8", "{\"name\":{\"first\":\"Ada\"}}",
	  NULL, "bad_body", 400, 0 },
	{ "bad_multipart", "POST", "/f/contact", "",
	  "multipart/form-data; boundary=other", GOOD_MP END, NULL, "bad_body",
	  400, 0 },

	/* rate: a burst of 3 per client, failed tries charged too */
	{ "burst_1", "POST", "/f/contact", JSON "REMOTE_ADDR=198.51.100.9\n",
	  URLENC, "name=Ada", NULL, "invalid", 422, 0 },
	{ "burst_2", "POST", "/f/contact", JSON "REMOTE_ADDR=198.51.100.9\n",
	  URLENC, GOOD "&n=2", NULL, "accepted", 200, SPOOLED },
	{ "burst_3", "POST", "/f/contact", "REMOTE_ADDR=198.51.100.9\n",
	  "text/plain", "", NULL, "bad_type", 415, 0 },
	{ "throttled_json", "POST", "/f/contact", JSON
	  "REMOTE_ADDR=198.51.100.9\n", URLENC, GOOD "&n=4", NULL, "throttled",
	  429, 0 },
	{ "throttled_browser", "POST", "/f/page", "REMOTE_ADDR=198.51.100.9\n",
	  URLENC, GOOD "&n=5", NULL, "throttled", 429, 0 },
	{ "ipv6_64_1", "POST", "/f/contact",
	  JSON "REMOTE_ADDR=2001:db8:1:2::1\n", URLENC, GOOD "&n=6", NULL,
	  "accepted", 200, SPOOLED },
	{ "ipv6_64_2", "POST", "/f/contact",
	  JSON "REMOTE_ADDR=2001:db8:1:2::2\n", URLENC, "x=1", NULL,
	  "invalid", 422, 0 },
	{ "ipv6_64_3", "POST", "/f/contact",
	  JSON "REMOTE_ADDR=2001:db8:1:2:aaaa::3\n", URLENC, "x=1", NULL,
	  "invalid", 422, 0 },
	{ "throttled_ipv6_64", "POST", "/f/contact",
	  "REMOTE_ADDR=2001:db8:1:2:ffff::4\n", URLENC, GOOD "&n=7", NULL,
	  "throttled", 429, 0 },

	/* unknown form, methods, preflight, challenge */
	{ "unknown_form_json", "POST", "/f/nope", JSON, URLENC, GOOD, NULL,
	  "unknown_form", 404, 0 },
	{ "unknown_form_browser", "POST", "/f/nope", "", URLENC, GOOD, NULL,
	  "unknown_form", 404, 0 },
	{ "unknown_form_fr", "GET", "/f/", "HTTP_ACCEPT_LANGUAGE=fr\n", NULL,
	  NULL, NULL, "unknown_form", 404, 0 },
	{ "uri_too_long", "GET", NULL, JSON, NULL, NULL, NULL, "uri_too_long",
	  414, LONG_URI },
	{ "get_json", "GET", "/f/contact", JSON, NULL, NULL, NULL, "bad_method",
	  405, 0 },
	{ "get_browser", "GET", "/f/contact", "", NULL, NULL, NULL,
	  "bad_method", 405, 0 },
	{ "put_formspree", "PUT", "/f/fs", JSON, URLENC, GOOD, NULL,
	  "bad_method", 405, 0 },
	{ "options_preflight", "OPTIONS", "/f/contact",
	  "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST\n"
	  "HTTP_ACCESS_CONTROL_REQUEST_HEADERS=content-type\n", NULL, NULL, NULL,
	  "options", 204, 0 },
	{ "options_other_origin", "OPTIONS", "/f/contact",
	  "HTTP_ORIGIN=https://evil.test\n"
	  "HTTP_ACCESS_CONTROL_REQUEST_METHOD=POST\n", NULL, NULL, NULL,
	  "options", 204, 0 },
	{ "options_plain", "OPTIONS", "/f/contact", "HTTP_ORIGIN=\n", NULL,
	  NULL, NULL, "options", 204, 0 },
	{ "challenge_get", "GET", "/f/alt/challenge", "", NULL, NULL, NULL,
	  "challenge", 200, 0 },
	{ "challenge_head", "HEAD", "/f/alt/challenge", JSON, NULL, NULL, NULL,
	  "challenge", 200, 0 },
	{ "challenge_post", "POST", "/f/alt/challenge", JSON, URLENC, GOOD,
	  NULL, "bad_method", 405, 0 },
	{ "challenge_not_altcha", "GET", "/f/contact/challenge", JSON, NULL,
	  NULL, NULL, "no_challenge", 404, 0 },

	/* GET <prefix>/_metrics: last, so the counters hold every row above */
	{ "metrics_refused", "GET", "/f/_metrics", "", NULL, NULL, NULL,
	  "unknown_form", 404, 0 },
	{ "metrics_post", "POST", "/f/_metrics", JSON
	  "REMOTE_ADDR=192.0.2.250\n", URLENC, GOOD, NULL, "unknown_form", 404,
	  0 },
	{ "metrics_allowed", "GET", "/f/_metrics", "REMOTE_ADDR=192.0.2.250\n",
	  NULL, NULL, NULL, "metrics", 200, 0 },
};
#define NROWS	(sizeof(rows) / sizeof(rows[0]))

#define CONFIG \
	"{\n" \
	"  \"listen\": \"unix:@DIR@/sock\",\n" \
	"  \"spool_dir\": \"@DIR@/spool\",\n" \
	"  \"user\": \"nobody\",\n" \
	"  \"state_dir\": \"@DIR@/state\",\n" \
	"  \"templates_dir\": \"@TPL@\",\n" \
	"  \"log\": \"stderr\",\n" \
	"  \"limits\": { \"max_body\": 20000, \"max_fields\": 12,\n" \
	"              \"max_value\": 300 },\n" \
	"  \"throttle\": { \"per_ip\": \"3/1h\", \"per_form\": \"1000/1h\",\n" \
	"                \"global\": \"1000/1h\" },\n" \
	"  \"metrics\": { \"allow\": [\"192.0.2.250\"] },\n" \
	"  \"sender\": { \"from\": \"Forms <forms@example.test>\",\n" \
	"              \"hostname\": \"mail.example.test\" },\n" \
	"  \"smtp\": { \"url\": \"smtps://localhost:4650\",\n" \
	"            \"username\": \"u\",\n" \
	"            \"password_file\": \"@DIR@/pw\" },\n" \
	"  \"dkim\": [ { \"domain\": \"example.test\", \"selector\": \"s1\",\n" \
	"              \"key_file\": \"@DIR@/key\" } ],\n" \
	"  \"forms\": {\n" \
	"    \"contact\": {\n" \
	"      \"recipients\": [\"Sales <sales@example.test>\"],\n" \
	"      \"subject\": \"Contact: {{name}}\",\n" \
	"      \"fields\": " FIELDS ",\n" \
	"      \"success_url\": \"https://example.test/thanks.html\",\n" \
	"      \"error_url\": \"https://example.test/contact.html\",\n" \
	"      \"redirect_allowlist\": [\"https://example.test/thanks/\"],\n" \
	"      \"allowed_origins\": [\"https://example.test\"],\n" \
	"      \"honeypot\": \"_gotcha\",\n" \
	"      \"max_links\": 2,\n" \
	"      \"blocked_phrases\": [\"cheap pills\"]\n" \
	"    },\n" \
	"    \"page\": {\n" \
	"      \"recipients\": [\"Sales <sales@example.test>\"],\n" \
	"      \"subject\": \"Page: {{name}}\",\n" \
	"      \"fields\": " FIELDS ",\n" \
	"      \"extra_fields\": \"reject\",\n" \
	"      \"allowed_origins\": [\"https://example.test\"]\n" \
	"    },\n" \
	"    \"fs\": {\n" \
	"      \"recipients\": [\"Sales <sales@example.test>\"],\n" \
	"      \"subject\": \"Formspree-style post\",\n" \
	"      \"fields\": " FIELDS ",\n" \
	"      \"json_style\": \"formspree\",\n" \
	"      \"site_url\": \"https://example.test/\",\n" \
	"      \"allowed_origins\": [\"https://example.test\"]\n" \
	"    },\n" \
	"    \"alt\": {\n" \
	"      \"recipients\": [\"Sales <sales@example.test>\"],\n" \
	"      \"subject\": \"Challenge form\",\n" \
	"      \"fields\": { \"message\": { \"required\": true,\n" \
	"                                 \"multiline\": true } },\n" \
	"      \"challenge\": { \"type\": \"altcha\", \"max_number\": 5000 }\n" \
	"    },\n" \
	"    \"up\": {\n" \
	"      \"recipients\": [\"Sales <sales@example.test>\"],\n" \
	"      \"subject\": \"Upload from {{name}}\",\n" \
	"      \"fields\": { \"name\": { \"required\": true } },\n" \
	"      \"uploads\": { \"allowed_types\": [\"application/pdf\"],\n" \
	"                   \"max_file_size\": 2000, \"max_files\": 2,\n" \
	"                   \"max_total\": 4000 },\n" \
	"      \"allowed_origins\": [\"https://example.test\"]\n" \
	"    }\n" \
	"  }\n" \
	"}\n"
#define FIELDS \
	"{ \"name\": { \"label\": \"Name\", \"required\": true, " \
	"\"max_length\": 20 },\n" \
	"        \"email\": { \"label\": \"Email\", \"required\": true, " \
	"\"type\": \"email\", \"reply_to\": true },\n" \
	"        \"message\": { \"label\": \"Message\", \"required\": true, " \
	"\"multiline\": true } }"

static void
write_file(const char *path, const char *text, size_t len, mode_t mode)
{
	int	 fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	if (fd == -1 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		exit(1);
	}
	fchmod(fd, mode);
	close(fd);
}

/* The whole file into b (emptied first); -1 when it cannot be read. */
static int
read_file(const char *path, struct buf *b)
{
	char	 chunk[8192];
	ssize_t	 n;
	int	 fd;

	b->len = 0;
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(b, chunk, (size_t)n) == -1)
			abort();
	close(fd);
	if (n < 0)
		return -1;
	/* NUL-terminated for the searches below, not counted in len. */
	if (buf_addc(b, '\0') == -1)
		abort();
	b->len--;
	return 0;
}

/* Writes the config with @DIR@ and @TPL@ expanded; returns it loaded. */
static struct conf *
load_conf(const char *name, const char *tpl)
{
	struct buf	 b = BUF_INIT;
	struct conf	*cf = NULL;
	char		 path[PATH_MAX];
	const char	*p;

	for (p = CONFIG; *p; p++) {
		if (strncmp(p, "@DIR@", 5) == 0) {
			if (buf_adds(&b, dir) == -1)
				abort();
			p += 4;
		} else if (strncmp(p, "@TPL@", 5) == 0) {
			if (buf_adds(&b, tpl) == -1)
				abort();
			p += 4;
		} else if (buf_addc(&b, *p) == -1)
			abort();
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	write_file(path, b.data, b.len, 0644);
	buf_free(&b);
	if (conf_load(path, &cf) != 0)
		return NULL;
	return cf;
}

/* Copies one shipped template into the config B templates_dir. */
static void
copy_template(const char *name)
{
	struct buf	 b = BUF_INIT;
	char		 from[PATH_MAX], to[PATH_MAX];

	if (snprintf(from, sizeof(from), "%s/templates/%s", cwd, name) >=
	    (int)sizeof(from))
		exit(1);
	snprintf(to, sizeof(to), "%s/tpl/%s", dir, name);
	if (read_file(from, &b) == -1) {
		perror(from);
		exit(1);
	}
	write_file(to, b.data, b.len, 0644);
	buf_free(&b);
}

/* The CGI environment of a row: defaults, then the row's lines. */
static void
set_env(const struct row *r, size_t i)
{
	char		 ip[32], len[32];
	const char	*p, *nl, *eq;
	char		 line[8192];

	clearenv();
	snprintf(ip, sizeof(ip), "192.0.2.%zu", i + 1);
	setenv("GATEWAY_INTERFACE", "CGI/1.1", 1);
	setenv("SERVER_PROTOCOL", "HTTP/1.1", 1);
	setenv("REQUEST_METHOD", r->method, 1);
	if (r->uri != NULL) {
		setenv("DOCUMENT_URI", r->uri, 1);
		setenv("REQUEST_URI", r->uri, 1);
	}
	if (r->flags & LONG_URI) {
		memcpy(line, "/f/", 3);
		memset(line + 3, 'a', 4100);
		line[4103] = '\0';
		setenv("REQUEST_URI", line, 1);
	}
	setenv("HTTPS", "on", 1);
	setenv("HTTP_ORIGIN", "https://example.test", 1);
	setenv("REMOTE_ADDR", ip, 1);
	if (r->ctype != NULL)
		setenv("CONTENT_TYPE", r->ctype, 1);
	if (r->clen != NULL)
		setenv("CONTENT_LENGTH", r->clen, 1);
	else if (r->body != NULL) {
		snprintf(len, sizeof(len), "%zu", strlen(r->body));
		setenv("CONTENT_LENGTH", len, 1);
	}
	for (p = r->env; *p != '\0'; p = *nl ? nl + 1 : nl) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if ((size_t)(nl - p) >= sizeof(line))
			abort();
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			abort();
		line[eq - line] = '\0';
		if (eq[1] == '\0')
			unsetenv(line);
		else
			setenv(line, eq + 1, 1);
	}
}

struct world {
	const struct conf	*cf[2];	/* A: the repo's templates; B: none */
	struct throttle		*throttle;
	struct stats		*stats;
	unsigned char		 key[CHALLENGE_KEY_LEN];
};

/* The child: one CGI request, as main.c's main_cgi() serves it. */
static void
child(const struct world *w, const struct row *r, size_t i, int in,
    int out, int err)
{
	struct request_ctx	 ctx;
	struct worker_shared	 sh = { .thr = w->throttle, .stats = w->stats,
	    .have_key = 1 };
	char			 e[512];

	alarm(60);
	memcpy(sh.altcha_key, w->key, sizeof(sh.altcha_key));
	set_env(r, i);
	if (dup2(in, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1)
		_exit(90);
	close(in);
	close(out);
	close(err);
	log_role("cgi");
	log_init("form2mail", 0);
	if (worker_env_open(&ctx, w->cf[(r->flags & BUILTIN) != 0], &sh, e,
	    sizeof(e)) == -1) {
		fprintf(stderr, "worker_env_open: %s\n", e);
		_exit(91);
	}
	request_handle_cgi(&ctx);
	worker_env_close(&ctx);
	fflush(stdout);
	exit(0);	/* the sanitizers' leak check runs here */
}

/* Replaces every occurrence of what (n octets) in b by with. */
static void
replace_all(struct buf *b, const char *what, size_t n, const char *with)
{
	struct buf	 o = BUF_INIT;
	size_t		 i = 0;

	if (n == 0)
		return;
	while (i < b->len) {
		if (i + n <= b->len && memcmp(b->data + i, what, n) == 0) {
			if (buf_adds(&o, with) == -1)
				abort();
			i += n;
		} else if (buf_addc(&o, b->data[i++]) == -1)
			abort();
	}
	buf_free(b);
	*b = o;
	if (b->data == NULL && buf_adds(b, "") == -1)
		abort();
}

/*
 * After each of the prefixes, the run of characters of the class
 * (isdigit or isxdigit) becomes with: the random and time-bound parts of
 * a challenge, the age of the oldest queued message.
 */
static void
mask_after(struct buf *b, const char *prefix, int hex, const char *with)
{
	struct buf	 o = BUF_INIT;
	size_t		 i = 0, pl = strlen(prefix);

	while (i < b->len) {
		if (i + pl <= b->len && memcmp(b->data + i, prefix, pl) == 0) {
			if (buf_add(&o, prefix, pl) == -1)
				abort();
			i += pl;
			if (i < b->len && (hex ? isxdigit((unsigned char)
			    b->data[i]) : isdigit((unsigned char)b->data[i]))) {
				while (i < b->len && (hex ? isxdigit(
				    (unsigned char)b->data[i]) : isdigit(
				    (unsigned char)b->data[i])))
					i++;
				if (buf_adds(&o, with) == -1)
					abort();
			}
		} else if (buf_addc(&o, b->data[i++]) == -1)
			abort();
	}
	buf_free(b);
	*b = o;
	if (b->data == NULL && buf_adds(b, "") == -1)
		abort();
}

/*
 * An answer whose body holds a time-bound number (the age of the oldest
 * queued message, whose digits vary with the machine's speed): when its
 * Content-Length is the body's true length, it becomes <LEN>.  A wrong
 * length stays in the text, and the comparison with the golden fails.
 */
static void
mask_length(struct buf *b)
{
	const char	*hdr = "\r\nContent-Length: ", *end, *p;
	char		 want[32];
	size_t		 body;

	if (b->data == NULL || memmem(b->data, b->len,
	    "form2mail_oldest_queued_seconds ", 32) == NULL ||
	    (end = memmem(b->data, b->len, "\r\n\r\n", 4)) == NULL ||
	    (p = memmem(b->data, (size_t)(end - b->data), hdr,
	    strlen(hdr))) == NULL)
		return;
	body = b->len - (size_t)(end + 4 - b->data);
	snprintf(want, sizeof(want), "%s%zu\r\n", hdr, body);
	if (strncmp(p, want, strlen(want)) == 0)
		mask_after(b, "\r\nContent-Length: ", 0, "<LEN>");
}

/*
 * The per-IP budget (3/1h) gives a throttled post 1200 s to wait, less
 * the seconds the rows before it took on a loaded machine: a wait of 1141
 * to 1200 s is written as 1200 (same digit count, so Content-Length
 * holds).  Any other value stays, and the comparison fails.
 */
static void
mask_wait(struct buf *b)
{
	static const char *const pre[] = { "Retry-After: ",
	    "\"retry_after\":" };
	char	*p;
	size_t	 i, pl;
	long	 v;

	for (i = 0; i < 2; i++) {
		pl = strlen(pre[i]);
		if (b->data == NULL || (p = memmem(b->data, b->len, pre[i],
		    pl)) == NULL || (size_t)(p - b->data) + pl + 5 > b->len)
			continue;
		p += pl;
		if (sscanf(p, "%4ld", &v) == 1 && v > 1140 && v < 1200 &&
		    isdigit((unsigned char)p[3]) &&
		    !isdigit((unsigned char)p[4]))
			memcpy(p, "1200", 4);
	}
}

static void
normalise(struct buf *b, const char *id)
{
	mask_length(b);
	mask_wait(b);
	if (id[0] != '\0')
		replace_all(b, id, strlen(id), "<ID>");
	mask_after(b, "\"challenge\":\"", 1, "<HEX>");
	mask_after(b, "\"salt\":\"", 1, "<HEX>");
	mask_after(b, "\"signature\":\"", 1, "<HEX>");
	mask_after(b, "?expires=", 0, "<T>");
	mask_after(b, "&issued=", 0, "<T>");
	mask_after(b, "form2mail_oldest_queued_seconds ", 0, "<N>");
}

/* Finds the request's log line; its id (or "" for "-"), outcome, status. */
static int
parse_log(const char *log, char *id, size_t idsize, char *outcome,
    size_t osize, int *status)
{
	const char	*p = log, *l, *q;
	size_t		 n;

	for (l = NULL; (p = strstr(p, " request id=")) != NULL; p++)
		if ((q = strchr(p, '\n')) != NULL && memmem(p, (size_t)(q - p),
		    " outcome=", 9) != NULL)
			l = p;
	if (l == NULL)
		return -1;
	l += strlen(" request id=");
	n = strcspn(l, " \n");
	snprintf(id, idsize, "%.*s", (int)n, l);
	if (strcmp(id, "-") == 0)
		id[0] = '\0';
	if ((q = strstr(l, " outcome=")) == NULL)
		return -1;
	q += 9;
	n = strcspn(q, " \n");
	snprintf(outcome, osize, "%.*s", (int)n, q);
	if ((q = strstr(q, " status=")) == NULL)
		return -1;
	*status = atoi(q + 8);
	return 0;
}

struct find {
	const char	*id;
	int		 found;
};

static int
find_id(const struct spool_meta *m, void *arg)
{
	struct find	*f = arg;

	if (strcmp(m->id, f->id) == 0)
		f->found = 1;
	return 0;
}

/* Shows an answer with CR and other controls visible. */
static void
show(const char *what, const struct buf *b)
{
	size_t	 i;

	fprintf(stderr, "  %s (%zu octets):\n    ", what, b->len);
	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\n')
			fputs("\\n\n    ", stderr);
		else if (c == '\r')
			fputs("\\r", stderr);
		else if (c < 0x20 || c == 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputc('\n', stderr);
}

static void
run_row(const struct world *w, size_t i, int update, char *previd)
{
	const struct row	*r = &rows[i];
	struct buf		 out = BUF_INIT, log = BUF_INIT, want = BUF_INIT;
	char			 opath[PATH_MAX], epath[PATH_MAX];
	char			 gpath[PATH_MAX];
	char			 id[64], outcome[64];
	struct find		 f;
	int			 p[2], ofd, efd, st, status = 0, queued;
	size_t			 k;
	pid_t			 pid;

	snprintf(opath, sizeof(opath), "%s/out", dir);
	snprintf(epath, sizeof(epath), "%s/err", dir);
	snprintf(gpath, sizeof(gpath), "%s/%s.txt", GOLDEN_DIR, r->name);
	queued = spool_scan(w->cf[0]->spool_dir, SPOOL_QUEUE, find_id,
	    &(struct find){ "", 0 });
	if (pipe(p) == -1 || (ofd = open(opath, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) == -1 || (efd = open(epath, O_WRONLY | O_CREAT | O_TRUNC,
	    0600)) == -1) {
		perror("row files");
		exit(1);
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(p[1]);
		child(w, r, i, p[0], ofd, efd);
	}
	close(p[0]);
	close(ofd);
	close(efd);
	/* Every body fits the pipe: written whole before the child reads. */
	if (r->body != NULL && write(p[1], r->body, strlen(r->body)) !=
	    (ssize_t)strlen(r->body) && errno != EPIPE)
		perror("write body");
	close(p[1]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (read_file(opath, &out) == -1 || read_file(epath, &log) == -1) {
		perror("row output");
		exit(1);
	}
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: child exit status "
	    "%d; stderr:\n%s", r->name, st, log.data);

	if (parse_log(log.data, id, sizeof(id), outcome, sizeof(outcome),
	    &status) == -1) {
		T_OK(0, "%s: no request log line in:\n%s", r->name, log.data);
		id[0] = outcome[0] = '\0';
	} else {
		T_STR(outcome, r->outcome, r->name);
		T_INT(status, r->status, r->name);
	}
	if (id[0] != '\0')
		T_OK(strlen(id) == SPOOL_ID_LEN && spool_id_valid(id),
		    "%s: submission id [%s]", r->name, id);
	if (r->flags & SAME_ID)
		T_OK(id[0] != '\0' && strcmp(id, previd) == 0, "%s: expected "
		    "the previous row's id %s, got %s", r->name, previd, id);
	else if (id[0] != '\0' && strcmp(id, previd) == 0)
		T_OK(0, "%s: id %s repeats the previous row's", r->name, id);

	/* Accepted rows are queued under their id; no other row queues. */
	f = (struct find){ id, 0 };
	k = (size_t)spool_scan(w->cf[0]->spool_dir, SPOOL_QUEUE, find_id, &f);
	T_INT((long)k - queued, (r->flags & SPOOLED) ? 1 : 0, r->name);
	T_INT(f.found, (r->flags & (SPOOLED | SAME_ID)) != 0 && id[0] != '\0',
	    r->name);

	normalise(&out, id);
	if (update) {
		write_file(gpath, out.data, out.len, 0644);
		printf("wrote %s\n", gpath);
	} else if (read_file(gpath, &want) == -1) {
		T_OK(0, "%s: no golden file %s (F2M_ANSWERS_UPDATE=1 writes it)",
		    r->name, gpath);
	} else {
		T_OK(out.len == want.len && memcmp(out.data, want.data,
		    out.len) == 0, "%s: the answer differs from %s", r->name,
		    gpath);
		if (out.len != want.len || memcmp(out.data, want.data,
		    out.len) != 0) {
			for (k = 0; k < out.len && k < want.len &&
			    out.data[k] == want.data[k]; k++)
				;
			fprintf(stderr, "  first difference at octet %zu\n", k);
			show("expected", &want);
			show("got", &out);
		}
	}
	snprintf(previd, 64, "%s", id);
	buf_free(&out);
	buf_free(&log);
	buf_free(&want);
}

int
main(void)
{
	struct world	 w;
	struct conf	*a, *b;
	char		 path[PATH_MAX], err[512], previd[64] = "";
	const char	*u = getenv("F2M_ANSWERS_UPDATE");
	int		 update = u != NULL && strcmp(u, "1") == 0;
	size_t		 i;

	signal(SIGPIPE, SIG_IGN);
	if (getcwd(cwd, sizeof(cwd)) == NULL || mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pw", dir);
	write_file(path, "secret\n", 7, 0600);
	snprintf(path, sizeof(path), "%s/key", dir);
	write_file(path, "not read by the worker\n", 23, 0600);
	snprintf(path, sizeof(path), "%s/tpl", dir);
	if (mkdir(path, 0755) == -1)
		return 1;
	copy_template("default.txt");
	copy_template("default.html");
	if (snprintf(path, sizeof(path), "%s/templates", cwd) >=
	    (int)sizeof(path))
		return 1;
	a = load_conf("a.json", path);
	snprintf(path, sizeof(path), "%s/tpl", dir);
	b = load_conf("b.json", path);
	if (a == NULL || b == NULL) {
		fprintf(stderr, "the test configs do not load (run from the "
		    "source tree)\n");
		return 1;
	}
	memset(&w, 0, sizeof(w));
	w.cf[0] = a;
	w.cf[1] = b;
	/* As main_cgi(): directories, throttle table, ALTCHA key, counters. */
	if (privsep_prepare_dirs(a) == -1)
		return 1;
	privsep_sync_open(a);
	snprintf(path, sizeof(path), "%s/throttle.shm", a->state_dir);
	if (throttle_open(path, a->throttle.entries, &w.throttle, err,
	    sizeof(err)) == -1 ||
	    (snprintf(path, sizeof(path), "%s/altcha.key", a->state_dir),
	    challenge_key_load(path, w.key, err, sizeof(err))) == -1 ||
	    stats_open(a->state_dir, &w.stats, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}

	for (i = 0; i < NROWS; i++)
		run_row(&w, i, update, previd);
	printf("%zu rows\n", NROWS);

	throttle_close(w.throttle);
	stats_close(w.stats);
	conf_free(a);
	conf_free(b);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path) != 0)
		return 1;
	T_DONE();
}
