/*
 * conf_site: the top-level keys (listen, directories, user, log, ages),
 * "limits", "throttle", "spam" and "metrics" of the config.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <jansson.h>

#include "conf/conf.h"
#include "conf/conf_json.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/text.h"
#include "lib/url.h"

static const char *const conf_top_keys[] = {
	"listen", "listen_mode", "listen_group", "workers", "spool_dir",
	"state_dir", "templates_dir", "user", "require_https", "log",
	"limits", "max_age", "sender", "smtp", "dkim", "forms", "throttle",
	"spam", "duplicate_window", "altcha_key_file", "metrics", NULL
};

static const char *const conf_throttle_keys[] = {
	"backend", "per_ip", "per_net", "per_net_v4", "per_form", "global",
	"redis", "fail_open", "entries", "client_ip_header", NULL
};

static const char *const conf_spam_keys[] = {
	"rspamd_url", "reject_score", "hold_score", "fail_open", "timeout",
	NULL
};

static const char *const conf_limits_keys[] = {
	"max_body", "max_fields", "max_value", "min_free", NULL
};

void
conf_top(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*v;
	char		*s, *end;
	unsigned long	 mode;

	conf_known(c, "", root, conf_top_keys);
	cf->listen = conf_str(c, "", root, "listen",
	    "unix:/run/form2mail/form2mail.sock", 0);
	if (cf->listen != NULL && (strncmp(cf->listen, "unix:/", 6) != 0 ||
	    strlen(cf->listen + 5) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		conf_err(c, "/listen", 0, "\"listen\" must be "
		    "\"unix:/absolute/path\" (at most 107 octets)");
	s = conf_str(c, "", root, "listen_mode", "0660", 0);
	if (s != NULL) {
		errno = 0;
		mode = strtoul(s, &end, 8);
		if (errno || *end || end == s || mode > 0777)
			conf_err(c, "/listen_mode", 0, "\"listen_mode\" must "
			    "be an octal mode such as \"0660\"");
		else
			cf->listen_mode = (mode_t)mode;
		free(s);
	}
	cf->listen_group = conf_str(c, "", root, "listen_group", NULL, 0);
	if (cf->listen_group != NULL && getgrnam(cf->listen_group) == NULL)
		conf_err(c, "/listen_group", 0, "no group \"%s\"",
		    cf->listen_group);
	cf->workers = (int)conf_int(c, "", root, "workers", 4, 1, 256);
	cf->spool_dir = conf_abs_dir(c, "", root, "spool_dir",
	    "/var/spool/form2mail");
	cf->state_dir = conf_abs_dir(c, "", root, "state_dir",
	    "/var/lib/form2mail");
	cf->templates_dir = conf_abs_dir(c, "", root, "templates_dir",
	    F2M_TEMPLATES_DIR);
	cf->user = conf_str(c, "", root, "user", NULL, 0);
	if (cf->user != NULL && getpwnam(cf->user) == NULL)
		conf_err(c, "/user", 0, "no user \"%s\"", cf->user);
	cf->require_https = conf_bool(c, "", root, "require_https", 1);
	s = conf_str(c, "", root, "log", "stderr", 0);
	if (s != NULL) {
		if (strcmp(s, "syslog") == 0)
			cf->log_syslog = 1;
		else if (strcmp(s, "stderr") != 0)
			conf_err(c, "/log", 0, "\"log\" must be \"stderr\" or "
			    "\"syslog\"");
		free(s);
	}
	cf->max_age = conf_dur(c, "", root, "max_age", 5 * 86400);
	v = json_object_get(root, "duplicate_window");
	if ((json_is_integer(v) && json_integer_value(v) == 0) ||
	    (json_is_string(v) && strcmp(json_string_value(v), "0") == 0))
		cf->duplicate_window = 0;	/* off */
	else
		cf->duplicate_window = conf_dur(c, "", root,
		    "duplicate_window", 600);
	cf->altcha_key_file = conf_str(c, "", root, "altcha_key_file", NULL, 0);
	if (cf->altcha_key_file != NULL && cf->altcha_key_file[0] != '/')
		conf_err(c, "/altcha_key_file", 0, "\"altcha_key_file\" must "
		    "be an absolute path");
}

/* "metrics": {"allow": ["127.0.0.1", "::1"]}: GET <prefix>/_metrics. */
void
conf_metrics(struct conf_ctx *c, json_t *root)
{
	static const char *const keys[] = { "allow", NULL };
	json_t	*o = conf_obj(c, "", root, "metrics", 0);

	if (o == NULL)
		return;
	conf_known(c, "/metrics", o, keys);
	conf_strings(c, "/metrics", o, "allow", addr_ip_ok, "an IP address",
	    &c->conf->metrics_allow, &c->conf->nmetrics_allow);
	if (c->conf->nmetrics_allow == 0)
		conf_err(c, "/metrics", 0, "\"metrics\" needs \"allow\": the "
		    "addresses that may read them");
}

/* "per_net" (IPv6 /48) and "per_net_v4" (IPv4 /24): a rate or "off";
 * absent, per_net is per_ip's count 8 times over per_ip's period
 * (docs/DESIGN.md "Throttle"), per_net_v4 off. */
static void
conf_net_rates(struct conf_ctx *c, json_t *o, struct conf_throttle *t)
{
	json_t	*v;

	if (t->per_ip.count > 0) {
		t->per_net.count = t->per_ip.count > RATE_COUNT_MAX / 8 ?
		    RATE_COUNT_MAX : t->per_ip.count * 8;
		t->per_net.period = t->per_ip.period;
	}
	v = json_object_get(o, "per_net");
	if (json_is_string(v) && strcmp(json_string_value(v), "off") == 0)
		t->per_net.count = t->per_net.period = 0;
	else if (v != NULL)
		conf_rate(c, "/throttle", o, "per_net", &t->per_net);
	v = json_object_get(o, "per_net_v4");
	if (!json_is_string(v) || strcmp(json_string_value(v), "off") != 0)
		conf_rate(c, "/throttle", o, "per_net_v4", &t->per_net_v4);
}

/* "client_ip_header": the proxy header that names the client when
 * REMOTE_ADDR is not an IP address (a unix-socket listener in front),
 * "X-Forwarded-For" (its rightmost entry) or one whose whole value is
 * the address ("X-Real-IP"); its FastCGI param is HTTP_ + the name upper
 * case, '-' as '_'. */
static void
conf_client_ip(struct conf_ctx *c, json_t *o, struct conf_throttle *t)
{
	const char	*path = "/throttle/client_ip_header";
	char		*h, *p;
	size_t		 i, len;

	h = t->client_ip_header = conf_str(c, "/throttle", o,
	    "client_ip_header", NULL, 0);
	if (h == NULL)
		return;
	len = strlen(h);
	for (i = 0; i < len; i++)
		if (!text_alnum((unsigned char)h[i]) && h[i] != '-')
			break;
	if (len == 0 || len > 64 || i < len || h[0] == '-') {
		conf_err(c, path, 0, "\"client_ip_header\" must be a header "
		    "name such as \"X-Forwarded-For\" or \"X-Real-IP\"");
		return;
	}
	if (strcasecmp(h, "Forwarded") == 0) {
		conf_err(c, path, 0, "\"Forwarded\" (RFC 7239) is not read: "
		    "name \"X-Forwarded-For\" or \"X-Real-IP\"");
		return;
	}
	if ((t->client_ip_param = p = malloc(len + 6)) == NULL) {
		conf_err(c, path, 0, "out of memory");
		return;
	}
	memcpy(p, "HTTP_", 5);
	for (i = 0; i <= len; i++)
		p[5 + i] = h[i] == '-' ? '_' : (char)toupper((unsigned char)h[i]);
	t->client_ip_last = strcasecmp(h, "X-Forwarded-For") == 0;
	conf_warn(c, path, "\"client_ip_header\" %s is read only when "
	    "REMOTE_ADDR is not an IP address; the proxy in front must set "
	    "it on every request (%s), or visitors pick the address they are "
	    "throttled as", h, t->client_ip_last ? "append the client's "
	    "address" : "replace what the visitor sent");
}

void
conf_throttle(struct conf_ctx *c, json_t *root)
{
	struct conf_throttle	*t = &c->conf->throttle;
	json_t			*o = conf_obj(c, "", root, "throttle", 0);
	char			*s;

	t->entries = 65536;
	if (o == NULL)
		return;
	conf_known(c, "/throttle", o, conf_throttle_keys);
	s = conf_str(c, "/throttle", o, "backend", "shm", 0);
	if (s != NULL && strcmp(s, "redis") == 0)
		t->redis = 1;
	else if (s != NULL && strcmp(s, "shm") != 0)
		conf_err(c, "/throttle/backend", 0, "\"backend\" must be "
		    "\"shm\" or \"redis\"");
	free(s);
	conf_rate(c, "/throttle", o, "per_ip", &t->per_ip);
	conf_net_rates(c, o, t);
	conf_rate(c, "/throttle", o, "per_form", &t->per_form);
	conf_rate(c, "/throttle", o, "global", &t->global);
	t->redis_url = conf_str(c, "/throttle", o, "redis", NULL, 0);
	if (t->redis_url != NULL && strncmp(t->redis_url, "redis://", 8) != 0 &&
	    strncmp(t->redis_url, "unix:/", 6) != 0)
		conf_err(c, "/throttle/redis", 0, "\"redis\" must be "
		    "redis://host:port/db or unix:/path");
	if (t->redis && t->redis_url == NULL)
		t->redis_url = strdup("redis://127.0.0.1:6379/0");
	t->fail_open = conf_bool(c, "/throttle", o, "fail_open", 0);
	t->entries = (size_t)conf_int(c, "/throttle", o, "entries", 65536,
	    1024, 16 * 1024 * 1024);
	conf_client_ip(c, o, t);
}

void
conf_spam(struct conf_ctx *c, json_t *root)
{
	struct conf_spam	*sp = &c->conf->spam;
	json_t			*o = conf_obj(c, "", root, "spam", 0);

	if (o == NULL)
		return;
	conf_known(c, "/spam", o, conf_spam_keys);
	sp->rspamd_url = conf_str(c, "/spam", o, "rspamd_url", NULL, 1);
	if (sp->rspamd_url != NULL && !url_service_ok(sp->rspamd_url))
		conf_err(c, "/spam/rspamd_url", 0, "\"rspamd_url\" must be an "
		    "https:// URL, or http:// to a loopback address");
	sp->reject_score = conf_real(c, "/spam", o, "reject_score", 15, -1000,
	    1000);
	sp->hold_score = conf_real(c, "/spam", o, "hold_score", 6, -1000, 1000);
	if (sp->hold_score > sp->reject_score)
		conf_err(c, "/spam/hold_score", 0, "\"hold_score\" is above "
		    "\"reject_score\"");
	sp->fail_open = conf_bool(c, "/spam", o, "fail_open", 1);
	sp->timeout = (long)conf_int(c, "/spam", o, "timeout", 5, 1, 120);
}

/*
 * limits.min_free: octets (an integer, or a string with K, M, G or T,
 * 1024-based) or "N%" of the file system, 0 to 99; 0 turns it off.
 * Default 1 %: room for the deliverers' rewrites (one copy of a message
 * each) on any file system, and on a small one (a 2 MB tmpfs) posts
 * are still taken until it is nearly full.
 */
static void
conf_min_free(struct conf_ctx *c, json_t *o)
{
	static const char	 units[] = "KMGT";
	struct conf		*cf = c->conf;
	json_t			*v = json_object_get(o, "min_free");
	const char		*s, *u;
	char			*end;
	unsigned long long	 n;

	cf->min_free = 0;
	cf->min_free_pct = 1;
	if (v == NULL)
		return;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		cf->min_free = (unsigned long long)json_integer_value(v);
		cf->min_free_pct = 0;
		return;
	}
	if (!json_is_string(v) || (s = json_string_value(v))[0] < '0' ||
	    s[0] > '9')
		goto bad;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || n > (1ULL << 50))
		goto bad;
	if (strcmp(end, "%") == 0 && n <= 99) {
		cf->min_free_pct = (unsigned)n;
		return;
	}
	if (*end != '\0') {
		if (end[1] != '\0' || (u = strchr(units, *end)) == NULL ||
		    n > (1ULL << 50) >> (10 * (u - units + 1)))
			goto bad;
		n <<= 10 * (u - units + 1);
	}
	cf->min_free = n;
	cf->min_free_pct = 0;
	return;
bad:
	conf_err(c, "/limits/min_free", 0, "\"min_free\" must be octets "
	    "(65536, \"64M\", \"1G\") or a share of the file system "
	    "(\"1%%\", 0 to 99)");
}

void
conf_limits(struct conf_ctx *c, json_t *root)
{
	struct conf	*cf = c->conf;
	json_t		*o = conf_obj(c, "", root, "limits", 0);

	cf->max_body = 1024 * 1024;
	cf->max_fields = 50;
	cf->max_value = 100000;
	conf_min_free(c, o);
	if (o == NULL)
		return;
	conf_known(c, "/limits", o, conf_limits_keys);
	cf->max_body = (size_t)conf_int(c, "/limits", o, "max_body",
	    1024 * 1024, 256, 64 * 1024 * 1024);
	cf->max_fields = (size_t)conf_int(c, "/limits", o, "max_fields",
	    50, 1, 1000);
	cf->max_value = (size_t)conf_int(c, "/limits", o, "max_value",
	    100000, 16, 16 * 1024 * 1024);
}

void
conf_site_free(struct conf *cf)
{
	free(cf->listen);
	free(cf->listen_group);
	free(cf->spool_dir);
	free(cf->state_dir);
	free(cf->templates_dir);
	free(cf->user);
	free(cf->altcha_key_file);
	free(cf->throttle.redis_url);
	free(cf->throttle.client_ip_header);
	free(cf->throttle.client_ip_param);
	free(cf->spam.rspamd_url);
	conf_strings_free(cf->metrics_allow, cf->nmetrics_allow);
}
