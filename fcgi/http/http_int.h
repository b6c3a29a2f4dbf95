/*
 * http_int: what the files of http/ share (private to http/: the
 * layout check refuses it elsewhere): struct req, one request being
 * answered, and the functions one file of http/ offers the others.
 * req_ is the prefix of this folder's shared names.
 */
#ifndef F2M_HTTP_INT_H
#define F2M_HTTP_INT_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <fcgiapp.h>
#include <jansson.h>
#include <openssl/evp.h>
#include "gate/captcha.h"
#include "gate/challenge.h"
#include "conf/conf.h"
#include "lib/lang.h"
#include "form/form.h"
#include "gate/gate.h"
#include "form/resolve.h"
#include "lib/log.h"
#include "mail/message.h"
#include "http/request.h"
#include "gate/spam.h"
#include "spool/spool.h"
#include "lib/stats.h"
#include "throttle/throttle.h"
#include "lib/tmpl.h"
#include "form/validate.h"

#define REQ_MAX_HEADER		8192	/* Origin, Referer, Accept... */

/* What a path names below a form: .../<form>, /challenge, /confirm. */
enum req_sub {
	REQ_SUB_FORM,
	REQ_SUB_CHALLENGE,	/* GET: a fresh ALTCHA challenge */
	REQ_SUB_CONFIRM		/* the autoresponder's confirmation link */
};

struct req {
	const struct request_ctx *ctx;
	const struct conf	*cf;
	FCGX_Request		*r;	/* NULL: CGI, on stdin/stdout */
	const struct conf_form	*form;
	struct timespec		 t0;
	int			 json;
	char			 id[SPOOL_ID_LEN + 1];
	char			 ip[INET6_ADDRSTRLEN];
	int			 ip_forwarded;	/* ip from client_ip_header */
	char			 ip_why[256];	/* ip "": why, for the log */
	char			 formname[80];	/* escaped, for the log */
	const char		*outcome;
	int			 status;
	struct form_route	 route;		/* decided from the post within
						   what config allows */
	const char		*cors;		/* the config's origin matching
						   the request's Origin */
	enum lang		 lang;		/* of built-in answers */
};


/* answer.c */
void	 req_send(struct req *q, int status, const char *ctype,
	    const char *extra, const char *body, size_t len);
void	 req_fail(struct req *q, int status, const char *extra,
	    const char *outcome, enum lang_msg message);
const char	*req_cors_origin(const struct req *q);
void	 req_preflight(struct req *q);
const char	*req_redirect(const struct req *q, const struct form *f);
void	 req_accepted(struct req *q, const char *next);
void	 answer_verdict(struct req *q, const struct gate_out *o,
	    const struct form *f);
/* io.c */
const char	*req_param(const struct req *q, const char *name);
int	 req_read(struct req *q, char *p, size_t n);
void	 req_write(struct req *q, const char *p, size_t n);
int	 req_form_id(struct req *q, const char **id, size_t *len,
	    enum req_sub *sub);
int	 req_is_https(const struct req *q);
int	 req_wants_json(const struct req *q);
/* confirm_page.c */
void	 req_confirm(struct req *q, const char *method);
/* page.c */
int	 req_clean_url(const char *s, size_t n);
const char	*req_label(const struct req *q, enum lang l, const char *name);
const char	*req_back(const struct req *q, char *buf, size_t size);
void	 req_send_page(struct req *q, int status, const char *extra,
    const char *title, const char *message,
    const struct validate_error *errs, size_t nerrs, const char *id);
enum lang	 req_lang(const struct req *q, unsigned int have);
int	 req_send_tmpl(struct req *q, int status, struct tmpl *const *pages,
    const struct validate_error *errs, size_t nerrs);
/* post.c */
void	 req_post(struct req *q);
/* submit.c */
int	 req_submit(struct req *q, const struct form *f,
	    struct gate_out *go);

#endif
