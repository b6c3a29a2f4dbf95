/*
 * smtp_probe: the doctor's SMTP login (smtp_probe(), see smtp.h) on the
 * deliverer's own handle (smtp_int.h): connect, TLS, EHLO, AUTH, NOOP,
 * QUIT, and never MAIL.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "conf/conf.h"
#include "deliver/smtp.h"
#include "deliver/smtp_int.h"
#include "lib/curlx.h"
#include "lib/log.h"

/* A command line of the probe: its verb only (an AUTH line carries the
 * credentials). */
static void
smtp_probe_command(struct smtp_probe *p, const char *l, size_t n)
{
	if (smtp_verb(l, n, p->cmd) && (strcmp(p->cmd, "MAIL") == 0 ||
	    strcmp(p->cmd, "RCPT") == 0 || strcmp(p->cmd, "DATA") == 0))
		p->forbidden = 1;
}

/* A reply line of the probe: the greeting, AUTH's and NOOP's codes. */
static void
smtp_probe_reply(struct smtp_probe *p, const char *l, size_t n)
{
	int	 code;

	if (n < 3 || !isdigit((unsigned char)l[0]) ||
	    !isdigit((unsigned char)l[1]) || !isdigit((unsigned char)l[2]))
		return;
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == '\n'))
		n--;
	if (p->cmd[0] == '\0' && p->greeting == 0) {
		p->greeting = code;
		log_escape(p->greet_text, sizeof(p->greet_text), l, n);
	} else if (strcmp(p->cmd, "AUTH") == 0) {
		p->auth = code;
		log_escape(p->auth_text, sizeof(p->auth_text), l, n);
	} else if (strcmp(p->cmd, "NOOP") == 0)
		p->noop = code;
}

/* Watches the probe's control channel: verbs, reply codes, and
 * libcurl's note of the TLS version. */
static int
smtp_probe_debug(CURL *c, curl_infotype type, char *l, size_t len,
    void *arg)
{
	static const char	 m[] = "SSL connection using ";
	struct smtp_probe	*p = arg;
	size_t			 i, start, n;

	(void)c;
	if (type == CURLINFO_SSL_DATA_IN || type == CURLINFO_SSL_DATA_OUT) {
		p->tls = 1;
		return 0;
	}
	if (type == CURLINFO_TEXT) {
		if (len > sizeof(m) - 1 && memcmp(l, m, sizeof(m) - 1) == 0) {
			l += sizeof(m) - 1;
			len -= sizeof(m) - 1;
			for (n = 0; n < len && n < sizeof(p->tlsver) - 1 &&
			    (isalnum((unsigned char)l[n]) || l[n] == '.'); n++)
				p->tlsver[n] = l[n];
			p->tlsver[n] = '\0';
		}
		return 0;
	}
	if (type != CURLINFO_HEADER_IN && type != CURLINFO_HEADER_OUT)
		return 0;
	for (start = i = 0; i < len; i++) {
		if (l[i] != '\n' && i + 1 < len)
			continue;
		if (type == CURLINFO_HEADER_OUT)
			smtp_probe_command(p, l + start, i + 1 - start);
		else
			smtp_probe_reply(p, l + start, i + 1 - start);
		start = i + 1;
	}
	return 0;
}

static size_t
smtp_probe_sink(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

int
smtp_probe(const struct conf_smtp *cfg, const char *password,
    const char *helo, struct smtp_probe *p)
{
	struct curl_slist	*pin = NULL;
	CURL			*h = NULL;
	char			*url = NULL, *ip = NULL, errbuf[CURL_ERROR_SIZE];
	int			 bad = 0, rc = -1;

	memset(p->cmd, 0, sizeof(*p) - offsetof(struct smtp_probe, cmd));
	errbuf[0] = '\0';
	if ((url = smtp_url(cfg, helo)) == NULL ||
	    (p->resolve != NULL &&
	    (pin = curl_slist_append(NULL, p->resolve)) == NULL) ||
	    (h = smtp_handle(cfg, password, url, smtp_timeout(cfg), p->total,
	    errbuf)) == NULL)
		goto out;
	if (pin != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_RESOLVE, pin) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "NOOP") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_UPLOAD, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, smtp_probe_sink) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_probe_debug) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_DEBUGDATA, p) != CURLE_OK;
	if (bad)
		goto out;
	p->rc = (int)curl_easy_perform(h);
	if (curl_easy_getinfo(h, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    ip != NULL)
		snprintf(p->ip, sizeof(p->ip), "%s", ip);
	log_escape(p->err, sizeof(p->err), errbuf, strlen(errbuf));
	if (p->err[0] == '\0')
		snprintf(p->err, sizeof(p->err), "%s",
		    curl_easy_strerror((CURLcode)p->rc));
	rc = 0;
out:
	curlx_close(h);		/* QUIT */
	curl_slist_free_all(pin);
	curl_free(url);
	return rc;
}

