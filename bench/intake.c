/*
 * intake: the MTA's own intake rate, the limit the end-to-end figures are
 * held against.  Pushes one pre-signed message N times over one reused
 * libcurl handle (TLS and AUTH once, like form2mail's deliverer), each as
 * its own SMTP transaction, and prints one JSON line:
 *   {"sent":N,"failed":F,"seconds":S}
 *
 *   intake URL USER PASSWORD_FILE CA_FILE FROM RCPT N MESSAGE_FILE
 *
 * MESSAGE_FILE holds the message with CRLF line ends; libcurl dot-stuffs.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#define INTAKE_MAX_MSG	(16 * 1024 * 1024)
#define INTAKE_MAX_N	10000000L

struct cursor {
	const char	*data;
	size_t		 len, off;
};

static size_t
intake_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct cursor	*c = arg;
	size_t		 n = size * nmemb;

	if (n > c->len - c->off)
		n = c->len - c->off;
	memcpy(dst, c->data + c->off, n);
	c->off += n;
	return n;
}

static char *
intake_slurp(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*p = NULL;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == -1 || (n = ftell(f)) < 0 ||
	    n > INTAKE_MAX_MSG || fseek(f, 0, SEEK_SET) == -1)
		goto out;
	if ((p = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
		goto out;
	}
	p[n] = '\0';
	*lenp = (size_t)n;
out:
	fclose(f);
	return p;
}

static double
intake_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char *argv[])
{
	CURL			*curl = NULL;
	struct curl_slist	*rcpt = NULL;
	struct cursor		 cur;
	char			*msg = NULL, *pw = NULL, *end;
	size_t			 msglen = 0, pwlen = 0;
	long			 n, i, failed = 0;
	double			 t0;
	CURLcode		 rc;
	int			 status = 1;

	if (argc != 9) {
		fprintf(stderr, "usage: intake URL USER PASSWORD_FILE CA_FILE "
		    "FROM RCPT N MESSAGE_FILE\n");
		return 2;
	}
	n = strtol(argv[7], &end, 10);
	if (*end != '\0' || n < 1 || n > INTAKE_MAX_N) {
		fprintf(stderr, "intake: bad N %s\n", argv[7]);
		return 2;
	}
	if ((pw = intake_slurp(argv[3], &pwlen)) == NULL ||
	    (msg = intake_slurp(argv[8], &msglen)) == NULL) {
		fprintf(stderr, "intake: cannot read the password or message "
		    "file\n");
		goto out;
	}
	if (pwlen > 0 && pw[pwlen - 1] == '\n')
		pw[--pwlen] = '\0';
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (curl = curl_easy_init()) == NULL ||
	    (rcpt = curl_slist_append(NULL, argv[6])) == NULL)
		goto out;
	if (curl_easy_setopt(curl, CURLOPT_URL, argv[1]) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USERNAME, argv[2]) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_PASSWORD, pw) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_CAINFO, argv[4]) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) !=
	    CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, argv[5]) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_READFUNCTION, intake_read) !=
	    CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_READDATA, &cur) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
	    (curl_off_t)msglen) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L) != CURLE_OK) {
		fprintf(stderr, "intake: curl_easy_setopt failed\n");
		goto out;
	}
	t0 = intake_now();
	for (i = 0; i < n; i++) {
		cur = (struct cursor){ msg, msglen, 0 };
		if ((rc = curl_easy_perform(curl)) != CURLE_OK) {
			fprintf(stderr, "intake: message %ld: %s\n", i,
			    curl_easy_strerror(rc));
			failed++;
		}
	}
	printf("{\"sent\":%ld,\"failed\":%ld,\"seconds\":%.4f}\n", n - failed,
	    failed, intake_now() - t0);
	status = failed > 0;
out:
	curl_slist_free_all(rcpt);
	if (curl != NULL)
		curl_easy_cleanup(curl);
	free(msg);
	free(pw);
	return status;
}
