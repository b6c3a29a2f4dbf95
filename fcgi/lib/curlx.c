/* curlx: one hardened libcurl easy handle; see curlx.h. */
#include <stdint.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/curlx.h"

CURL *
curlx_open(const struct curlx *x)
{
	struct curl_blob	 ca;
	CURL			*h;
	int			 bad = 0;

	if (x->url == NULL || x->protocols == NULL || x->connect_ms <= 0 ||
	    x->total_ms <= 0)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return NULL;
	if ((h = curl_easy_init()) == NULL) {
		curl_global_cleanup();
		return NULL;
	}
	bad |= curl_easy_setopt(h, CURLOPT_URL, x->url) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, x->protocols) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, x->protocols) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION,
	    (long)CURL_SSLVERSION_TLSv1_2) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK;
	/* A CA of the config pins it: the built-in CA directory goes too. */
	if (x->ca_file != NULL) {
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO, x->ca_file) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK;
	} else if (x->ca_blob != NULL) {
		ca.data = (void *)(uintptr_t)x->ca_blob;
		ca.len = x->ca_len;
		ca.flags = CURL_BLOB_COPY;
		bad |= curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca) !=
		    CURLE_OK;
		bad |= curl_easy_setopt(h, CURLOPT_CAPATH, NULL) != CURLE_OK;
	}
	bad |= curl_easy_setopt(h, CURLOPT_PROXY, "") != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, x->connect_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, x->total_ms) !=
	    CURLE_OK;
	bad |= curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L) != CURLE_OK;
	if (x->errbuf != NULL)
		bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf) !=
		    CURLE_OK;
	if (bad) {
		curlx_close(h);
		return NULL;
	}
	return h;
}

void
curlx_close(CURL *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h);
	curl_global_cleanup();
}

int
curlx_url_parse(struct curlx_url *x, const char *in)
{
	memset(x, 0, sizeof(*x));
	if ((x->u = curl_url()) == NULL)
		return -1;
	if (curl_url_set(x->u, CURLUPART_URL, in, 0) != CURLUE_OK ||
	    curl_url_get(x->u, CURLUPART_SCHEME, &x->scheme, 0) != CURLUE_OK ||
	    curl_url_get(x->u, CURLUPART_HOST, &x->host, 0) != CURLUE_OK)
		return -1;
	return 0;
}

char *
curlx_url_with_path(struct curlx_url *x, const char *path)
{
	char	*url = NULL;

	if (curl_url_set(x->u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
	    curl_url_get(x->u, CURLUPART_URL, &url, 0) != CURLUE_OK)
		return NULL;
	return url;
}

void
curlx_url_free(struct curlx_url *x)
{
	curl_free(x->scheme);
	curl_free(x->host);
	curl_url_cleanup(x->u);
	memset(x, 0, sizeof(*x));
}
