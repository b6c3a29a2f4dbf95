/*
 * head_gates: the gates that judge a post by its head, before its body
 * is read (gate.h): rate, https, origin, type, length.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gate/gate.h"
#include "lib/log.h"

/*
 * The client's keys into k[*n]: its address (/32, /64) with per_ip, its
 * network with per_net (IPv6 /48) or per_net_v4 (IPv4 /24).  -1 when a
 * per-client rate is set and the post has no IP address to charge
 * (docs/DESIGN.md "Throttle": refused, never left unthrottled).
 */
static int
client_keys(const struct gate_in *in, const struct conf_throttle *t,
    struct throttle_key *k, size_t *n, char *ipkey, char *netkey)
{
	int	 fam;

	if (t->per_ip.count == 0 && t->per_net.count == 0 &&
	    t->per_net_v4.count == 0)
		return 0;
	if (throttle_client_key(in->ip, ipkey, THROTTLE_CLIENT_KEY_SIZE) ==
	    -1 || (fam = throttle_net_key(in->ip, netkey,
	    THROTTLE_CLIENT_KEY_SIZE)) == -1)
		return -1;
	if (t->per_ip.count > 0)
		k[(*n)++] = (struct throttle_key){ ipkey, t->per_ip };
	if (fam == 6 && t->per_net.count > 0)
		k[(*n)++] = (struct throttle_key){ netkey, t->per_net };
	if (fam == 4 && t->per_net_v4.count > 0)
		k[(*n)++] = (struct throttle_key){ netkey, t->per_net_v4 };
	return 0;
}

/*
 * Charges the client (address and network), the form and the global
 * budget (docs/DESIGN.md "Throttle": every POST to a known form, valid or
 * not; all keys checked before any is charged).  429 with the wait; 503
 * when the post has no client address to charge, or when the table fails
 * and throttle.fail_open is off.
 */
static void
rate(struct gate_in *in, struct gate_out *o)
{
	const struct conf_throttle	*t = &in->cf->throttle;
	struct throttle_key		 k[4];
	char				 ipkey[THROTTLE_CLIENT_KEY_SIZE];
	char				 netkey[THROTTLE_CLIENT_KEY_SIZE];
	char				 formkey[80];
	enum throttle_result		 r;
	size_t				 n = 0;
	long				 after = 0;

	if (in->throttle == NULL)
		return;
	if (client_keys(in, t, k, &n, ipkey, netkey) == -1) {
		log_warn("throttle: refusing a post to \"%s\": no client IP "
		    "address to charge: %s", in->form->id, in->ip_why != NULL &&
		    in->ip_why[0] != '\0' ? in->ip_why : "none");
		gate_refuse(o, 503, "no_client_ip", LANG_TRY_LATER, 60);
		return;
	}
	snprintf(formkey, sizeof(formkey), "form:%s", in->form->id);
	if (t->per_form.count > 0)
		k[n++] = (struct throttle_key){ formkey, t->per_form };
	if (t->global.count > 0)
		k[n++] = (struct throttle_key){ "global", t->global };
	if (n == 0)
		return;
	r = throttle_check(in->throttle, k, n, in->now_us, &after);
	if (r == THROTTLE_OK)
		return;
	if (r == THROTTLE_ERROR) {
		log_err("throttle: %s; %s", strerror(errno), t->fail_open ?
		    "admitting (fail_open)" : "refusing");
		if (!t->fail_open)
			gate_refuse(o, 503, "throttle_error", LANG_TRY_LATER,
			    10);
		return;
	}
	gate_refuse(o, 429, "throttled", LANG_RATE_TEXT, after);
}

static void
https(struct gate_in *in, struct gate_out *o)
{
	if (in->cf->require_https && !in->https)
		gate_refuse(o, 403, "not_https", LANG_NOT_HTTPS, 0);
}

size_t
gate_origin_len(const char *url)
{
	const char	*p = strstr(url, "://");

	if (p == NULL || p == url)
		return 0;
	p += 3;
	return (size_t)(p - url) + strcspn(p, "/?#");
}

/* docs/DESIGN.md "Details that tests rely on", Origin: with
 * allowed_origins, Origin must match; without Origin, Referer's origin
 * must; with neither, allow_missing_origin decides.  "Origin: null" (a
 * sandboxed iframe, a data: or file: page, a redirect across origins) is
 * an origin, an opaque one, and never an allowed one: 403, whatever the
 * Referer says (a page that hides its origin cannot lend itself one). */
static void
origin(struct gate_in *in, struct gate_out *o)
{
	const struct conf_form	*f = in->form;
	const char		*u = in->origin;
	size_t			 i, len;

	if (f->norigins == 0)
		return;
	if (u == NULL || *u == '\0') {
		u = in->referer;
		if (u == NULL || *u == '\0') {
			if (!f->allow_missing_origin)
				gate_refuse(o, 403, "bad_origin",
				    LANG_BAD_ORIGIN, 0);
			return;
		}
	}
	if ((len = gate_origin_len(u)) != 0)
		for (i = 0; i < f->norigins; i++)
			if (strlen(f->origins[i]) == len &&
			    strncasecmp(f->origins[i], u, len) == 0)
				return;
	gate_refuse(o, 403, "bad_origin", LANG_BAD_ORIGIN, 0);
}

static void
type(struct gate_in *in, struct gate_out *o)
{
	if ((in->kind = form_kind(in->content_type)) == FORM_KIND_NONE)
		gate_refuse(o, 415, "bad_type", LANG_BAD_TYPE, 0);
}

/* CONTENT_LENGTH: digits only (absent or empty: 0), at most max_body. */
static void
length(struct gate_in *in, struct gate_out *o)
{
	const char	*cl = in->content_length;
	char		*end;

	in->length = 0;
	if (cl != NULL && *cl != '\0') {
		in->length = strtoull(cl, &end, 10);
		if (*end != '\0' || !isdigit((unsigned char)cl[0])) {
			gate_refuse(o, 400, "bad_length", LANG_BAD_REQUEST, 0);
			return;
		}
	}
	if (in->length > in->cf->max_body)
		gate_refuse(o, 413, "too_large", LANG_TOO_LARGE, 0);
}

const struct gate gate_head[] = {
	{ "rate", rate },
	{ "https", https },
	{ "origin", origin },
	{ "type", type },
	{ "length", length },
};
const size_t gate_nhead = sizeof(gate_head) / sizeof(gate_head[0]);
