/*
 * conf: the JSON config (docs/DESIGN.md "Config"), loaded through jansson.
 *
 * Every problem is reported on stderr as "file:line:column: message" (both
 * 1-based, the position of the offending value, or of the key for an
 * unknown key, with a "did you mean" when one is close).  Loading checks
 * everything that can be checked without reading a secret: types, ranges,
 * addresses, URLs, rates, that secret files exist and are not readable by
 * group or others, and that templates parse.  Secrets themselves are read
 * only by the deliverer (sign.h, file_read_secret()).
 */
#ifndef F2M_CONF_H
#define F2M_CONF_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "lib/buf.h"
#include "lib/lang.h"
#include "lib/rate.h"

struct tmpl;

#define CONF_DEFAULT_PATH	"/etc/form2mail/form2mail.json"

struct conf_field {
	char	*name;
	char	*label;		/* shown in the mail; defaults to name */
	int	 required;
	size_t	 max_length;	/* code points; 0: only limits.max_value */
	int	 email;		/* "type": "email" */
	int	 reply_to;	/* goes into Reply-To */
	int	 multiline;	/* may hold CR and LF (TAB is allowed in
				   every field not bound for a header) */
	int	 header;	/* derived: reply_to, or used by subject */
	int	 letters;	/* must hold at least one letter */
};


enum conf_extra {
	CONF_EXTRA_INCLUDE,	/* unknown fields shown after the others */
	CONF_EXTRA_IGNORE,
	CONF_EXTRA_REJECT	/* 422 "unknown" */
};

struct conf_mailbox {
	char	*display;	/* "" when none */
	char	*addr;		/* validated addr-spec */
};

enum conf_captcha_kind {
	CONF_CAPTCHA_NONE,
	CONF_CAPTCHA_TURNSTILE,
	CONF_CAPTCHA_HCAPTCHA,
	CONF_CAPTCHA_RECAPTCHA_V2,
	CONF_CAPTCHA_RECAPTCHA_V3
};

struct conf_captcha {
	enum conf_captcha_kind	 kind;
	char			*secret;	/* read from secret_file at load */
	char			*secret_file;
	char			*verify_url;	/* NULL: the provider's */
	char			**hostnames;
	size_t			 nhostnames;
	char			*action;
	double			 min_score;	/* reCAPTCHA v3 */
	long			 timeout;	/* seconds */
};

/* One choice of a route: the visitor's value and its recipients. */
struct conf_choice {
	char			*value;
	struct conf_mailbox	*to;
	size_t			 nto;
};

/* Encrypted notifications (docs/DESIGN.md "Encrypted notifications"). */
enum conf_enc_method {
	CONF_ENC_NONE = 0,	/* plain notifications */
	CONF_ENC_SMIME,		/* X.509 certificates (PEM) */
	CONF_ENC_OPENPGP	/* ASCII-armoured OpenPGP public keys */
};

#define CONF_DEFAULT_ENC_SUBJECT	"Form submission"

/* The shape of JSON answers (docs/DESIGN.md "HTTP answers"). */
enum conf_json_style {
	CONF_JSON_FORM2MAIL = 0,	/* {"ok":...,"errors":{"field":"code"}} */
	CONF_JSON_FORMSPREE		/* {"ok":true,"next":URL}, 422 {"errors":
					   [{"field","code","message"}]} */
};

struct conf_form {
	char			*id;
	char			*route_field;	/* NULL: recipients only */
	struct conf_choice	*choices;
	size_t			 nchoices;
	int			 allow_subject_field;	/* _subject */
	struct conf_mailbox	*to;
	size_t			 nto;
	struct conf_mailbox	*cc;
	size_t			 ncc;
	struct conf_mailbox	*bcc;	/* envelope only */
	size_t			 nbcc;
	struct conf_field	*fields;
	size_t			 nfields;
	char			*success_url;	/* NULL: built-in page */
	char			*error_url;	/* NULL: built-in page */
	char			*site_url;	/* the thank-you page's way back;
						   NULL: the allowed Origin */
	enum conf_json_style	 json_style;	/* shape of JSON answers */
	char			**origins;	/* allowed_origins */
	size_t			 norigins;
	int			 allow_missing_origin;
	char			*honeypot;	/* NULL: none */
	enum conf_extra		 extra;
	char			**redirect_allowlist;
	size_t			 nredirect;
	int			 altcha;	/* "challenge": altcha */
	long			 altcha_max_number;
	long			 altcha_min_seconds;
	long			 altcha_expires;	/* seconds */
	struct conf_captcha	 captcha;
	/* Uploads (multipart/form-data); up_allowed NULL: no uploads. */
	char			**up_allowed;	/* sniffed types allowed */
	size_t			 nup_allowed;
	size_t			 up_max_file_size;
	size_t			 up_max_files;
	size_t			 up_max_total;
	long			 max_links;	/* -1: no limit */
	char			**blocked_phrases;
	size_t			 nblocked;
	struct tmpl		*subject;	/* compiled "subject" */
	struct tmpl		*text;		/* <template>.txt */
	struct tmpl		*html;		/* <template>.html or NULL */
	/* Answer pages by language (lang.h): thanks and error, from
	 * templates_dir/<name>.<lang>.html; NULL: none in that language
	 * (none at all: the built-in page). */
	struct tmpl		*thanks[LANG_COUNT];
	struct tmpl		*error[LANG_COUNT];
	/* Autoresponder (off when auto_text is NULL): to the address in
	 * auto_field, at most one per address per auto_per_address seconds
	 * and auto_max_per_day in all; only behind a challenge or captcha. */
	struct tmpl		*auto_subject;
	struct tmpl		*auto_text;
	struct tmpl		*auto_html;
	char			*auto_field;
	long			 auto_per_address;
	long			 auto_max_per_day;
	/* Double opt-in (autoresponder.confirm): a new mailbox first gets
	 * only the signed link auto_confirm_url?t=TOKEN (mail/confirm.h),
	 * rendered from <confirm_template>.txt (.html) with metadata only;
	 * the page of the link is confirm.<lang>.html. */
	int			 auto_confirm;
	char			*auto_confirm_url;	/* https://.../<id>/confirm */
	struct tmpl		*auto_confirm_subject;
	struct tmpl		*auto_confirm_text;
	struct tmpl		*auto_confirm_html;
	struct tmpl		*auto_confirm_page[LANG_COUNT];
	/* "encrypt": the notification is encrypted to every key file
	 * (loaded and checked by mail/enc_key.h, not here: conf only
	 * checks the paths are absolute); enc_keys_at[i] is
	 * "FILE:LINE:COLUMN" of enc_keys[i] in the config, for messages.
	 * enc_subject: "encrypted_subject", the outer Subject. */
	enum conf_enc_method	 enc_method;
	char			**enc_keys;
	char			**enc_keys_at;
	size_t			 nenc_keys;
	char			*enc_subject;	/* NULL unless encrypted */
};

enum conf_smtp_tls {
	CONF_SMTP_IMPLICIT,	/* smtps:// */
	CONF_SMTP_STARTTLS,	/* smtp://, STARTTLS required */
	CONF_SMTP_PLAIN		/* smtp:// to loopback, insecure_plaintext */
};

struct conf_smtp {
	char			*url;
	enum conf_smtp_tls	 tls;
	char			*username;	/* NULL: no AUTH */
	char			*password_file;
	char			*ca_file;	/* NULL: system store */
	long			 max_per_hour;	/* 0: no cap */
	long			 pacing_period;	/* the window max_per_hour counts
						   over, seconds (3600) */
	long			 timeout;	/* seconds */
	int			 insecure_plaintext;
	int			 connections;	/* deliverers, one SMTP connection
						   each (2) */
};

#define CONF_MAX_SMTP_CONNECTIONS	16

enum conf_dkim_alg {
	CONF_DKIM_RSA_SHA256,
	CONF_DKIM_ED25519_SHA256
};

struct conf_dkim {
	char			*domain;
	char			*selector;
	enum conf_dkim_alg	 alg;
	char			*key_file;
};

struct conf_throttle {
	int			 redis;		/* backend: 0 shm, 1 redis */
	struct rate		 per_ip;
	struct rate		 per_net;	/* IPv6 /48; default 8 per_ip */
	struct rate		 per_net_v4;	/* IPv4 /24; default off */
	struct rate		 per_form;
	struct rate		 global;
	char			*redis_url;
	int			 fail_open;	/* backend down: admit */
	size_t			 entries;	/* shm table slots */
	char			*client_ip_header; /* NULL: REMOTE_ADDR only */
	char			*client_ip_param; /* its FastCGI param, HTTP_* */
	int			 client_ip_last; /* X-Forwarded-For: rightmost */
};

struct conf_spam {
	char			*rspamd_url;	/* NULL: no rspamd check */
	double			 reject_score;
	double			 hold_score;
	int			 fail_open;	/* rspamd down: spool anyway */
	long			 timeout;	/* seconds */
};

struct conf {
	char			*path;
	char			*listen;	/* "unix:/path" */
	mode_t			 listen_mode;	/* default 0660 */
	char			*listen_group;	/* NULL: the user's group */
	int			 workers;
	char			*spool_dir;
	char			*state_dir;
	char			*templates_dir;
	char			*user;		/* NULL: form2mail (no fallback) */
	int			 require_https;
	int			 log_syslog;
	size_t			 max_body;	/* limits.max_body */
	size_t			 max_fields;	/* limits.max_fields */
	size_t			 max_value;	/* limits.max_value, octets */
	unsigned long long	 min_free;	/* limits.min_free, octets;
						   0: min_free_pct */
	unsigned		 min_free_pct;	/* limits.min_free "N%"; with
						   min_free 0 and this 0: off */
	long			 max_age;	/* max_age, seconds */
	long			 duplicate_window; /* seconds, 0: off */
	char			*altcha_key_file; /* NULL: state_dir/altcha.key */
	struct conf_throttle	 throttle;
	struct conf_spam	 spam;
	char			**metrics_allow; /* client addresses allowed to
						   GET .../_metrics; NULL: off */
	size_t			 nmetrics_allow;
	struct conf_mailbox	 from;		/* sender.from */
	char			*envelope_from;	/* sender.envelope_from */
	char			*hostname;	/* sender.hostname: the EHLO name */
	char			*message_id_domain; /* sender.message_id_domain:
						   Message-ID's right-hand
						   side; default From's domain */
	int			 from_recipient; /* sender.same_domain_from:
						   1 "recipient" (default): a
						   notification whose first
						   To shares From's domain
						   exactly goes out From that
						   address; 0 "sender" */
	char			*sender_spf;	/* sender.spf: SPF terms naming
						   the relay, checked by
						   spf_terms_check(); NULL:
						   none */
	struct conf_smtp	 smtp;
	struct conf_dkim	*dkim;
	size_t			 ndkim;
	struct conf_form	*forms;
	size_t			 nforms;
};

/*
 * Loads and checks path.  Returns 0 with *out set (release with
 * conf_free()); 2 when the file cannot be read or is not JSON; 1 when it
 * parses but a check fails.  Every problem found is printed to stderr; on a
 * non-zero return *out is NULL.
 */
int	 conf_load(const char *path, struct conf **out) F2M_WUR;

/* The form with this id (len octets, need not be NUL-terminated). */
const struct conf_form *conf_form_find(const struct conf *, const char *id,
	    size_t len);

/* 1 when the addr-specs a and b have the same domain (after the last '@',
 * ASCII case-insensitive); 0 otherwise or when either is NULL. */
int	 conf_same_domain(const char *a, const char *b);

/* 1 when the domains a and b are the same or one lies below the other
 * (ASCII case-insensitive): RFC 7489 section 3.1 relaxed alignment as far
 * as it can be told without the public suffix list. */
int	 conf_related_domain(const char *a, const char *b);

/* NULL is accepted. */
void	 conf_free(struct conf *);

#endif
