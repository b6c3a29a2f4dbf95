/*
 * io: the request's parameters and body over FastCGI or CGI, and what
 * they tell: the form id from the path, HTTPS, whether JSON is wanted.
 */
#include "http/http_int.h"

const char *
req_param(const struct req *q, const char *name)
{
	const char	*v = q->r != NULL ? FCGX_GetParam(name, q->r->envp) :
	    getenv(name);

	if (v != NULL && strlen(v) > REQ_MAX_HEADER)
		return NULL;
	return v;
}

/* The body, from the FastCGI stream or, under CGI, from stdin. */
int
req_read(struct req *q, char *p, size_t n)
{
	ssize_t	 got;

	if (n > INT_MAX)
		n = INT_MAX;
	if (q->r != NULL)
		return FCGX_GetStr(p, (int)n, q->r->in);
	while ((got = read(0, p, n)) == -1 && errno == EINTR)
		;
	return (int)got;
}

void
req_write(struct req *q, const char *p, size_t n)
{
	ssize_t	 w;

	if (q->r != NULL) {
		FCGX_PutStr(p, (int)n, q->r->out);
		return;
	}
	while (n > 0) {
		if ((w = write(1, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/*
 * The last path segment of DOCUMENT_URI, else of REQUEST_URI; for
 * ".../<form>/challenge" and ".../<form>/confirm" the segment before,
 * with *sub saying which.
 */
int
req_form_id(struct req *q, const char **id, size_t *len, enum req_sub *sub)
{
	static const struct {
		const char	*suffix;
		enum req_sub	 sub;
	} subs[] = {
		{ "/challenge", REQ_SUB_CHALLENGE },
		{ "/confirm", REQ_SUB_CONFIRM },
	};
	const char		*uri = req_param(q, "DOCUMENT_URI");
	size_t			 end, sl, i;
	const char		*slash;

	*sub = REQ_SUB_FORM;
	if (uri == NULL || *uri == '\0')
		uri = req_param(q, "REQUEST_URI");
	if (uri == NULL)
		uri = "";
	end = strcspn(uri, "?#");
	if (end > REQUEST_MAX_URI)
		return -1;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		sl = strlen(subs[i].suffix);
		if (end > sl && memcmp(uri + end - sl, subs[i].suffix,
		    sl) == 0) {
			*sub = subs[i].sub;
			end -= sl;
			break;
		}
	}
	slash = memrchr(uri, '/', end);
	*id = slash ? slash + 1 : uri;
	*len = (size_t)(uri + end - *id);
	log_escape(q->formname, sizeof(q->formname), *id, *len);
	return 0;
}

int
req_is_https(const struct req *q)
{
	const char	*h = req_param(q, "HTTPS");
	const char	*s = req_param(q, "REQUEST_SCHEME");

	return (h != NULL && strcasecmp(h, "on") == 0) ||
	    (s != NULL && strcasecmp(s, "https") == 0);
}

int
req_wants_json(const struct req *q)
{
	const char	*a = req_param(q, "HTTP_ACCEPT");

	return a != NULL && strcasestr(a, "application/json") != NULL;
}
