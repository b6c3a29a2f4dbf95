/*
 * queue_cmd: `form2mail queue list|show|retry|delete|release|drop|run`
 * (queue_cmd.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf/conf.h"
#include "deliver/deliver.h"
#include "lib/log.h"
#include "ops/queue_cmd.h"
#include "spool/spool.h"
#include "svc/privsep.h"
#include "svc/sandbox.h"

static volatile sig_atomic_t	 queue_stop;

struct main_list {
	json_t	*arr;
	int	 json;
	const char *state;
};

static void
queue_on_term(int sig)
{
	(void)sig;
	queue_stop = 1;
}

static const struct {
	enum spool_state	 st;
	const char		*name;
} main_states[] = {
	{ SPOOL_QUEUE, "queued" }, { SPOOL_HELD, "held" },
	{ SPOOL_FAILED, "failed" }
};

static int
main_list_one(const struct spool_meta *m, void *arg)
{
	struct main_list	*l = arg;
	char			 c[32], n[32];
	struct tm		 tm;

	if (l->json) {
		json_array_append_new(l->arr, json_pack(
		    "{s:s,s:s,s:s,s:I,s:i,s:I,s:s,s:i}", "id", m->id, "state",
		    l->state, "form", m->form, "created", (json_int_t)m->created,
		    "attempts", (int)m->attempts, "next_try",
		    (json_int_t)m->next_try, "last_error", m->error,
		    "recipients", (int)m->nrcpt));
		return 0;
	}
	gmtime_r(&m->created, &tm);
	strftime(c, sizeof(c), "%Y-%m-%d %H:%M:%S", &tm);
	gmtime_r(&m->next_try, &tm);
	strftime(n, sizeof(n), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-26s  %-6s  %-16.16s  %s  %3u  %s  %s\n", m->id, l->state,
	    m->form, c, m->attempts, n, m->error[0] ? m->error : "-");
	return 0;
}

static int
main_queue_list(const struct conf *cf, int json)
{
	struct main_list	 l;
	size_t			 i;
	char			*s;

	l.json = json;
	l.arr = json_array();
	if (!json)
		printf("%-26s  %-6s  %-16s  %-19s  %3s  %-19s  %s\n", "ID",
		    "STATE", "FORM", "CREATED (UTC)", "TRY", "NEXT TRY (UTC)",
		    "LAST ERROR");
	for (i = 0; i < sizeof(main_states) / sizeof(main_states[0]); i++) {
		l.state = main_states[i].name;
		if (spool_scan(cf->spool_dir, main_states[i].st, main_list_one,
		    &l) == -1 && main_states[i].st == SPOOL_QUEUE) {
			fprintf(stderr, "%s: %s\n", cf->spool_dir,
			    strerror(errno));
			json_decref(l.arr);
			return 1;
		}
	}
	if (json) {
		s = json_dumps(l.arr, JSON_INDENT(2));
		printf("%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(l.arr);
	return 0;
}

/* show, delete, release (held -> queue), drop (delete a held one). */
static int
main_queue_one(const struct conf *cf, const char *op, const char *id,
    int json)
{
	struct spool_meta	 m;
	struct main_list	 l;
	char			*msg;
	size_t			 i, len;
	int			 rc = 1;

	if (!spool_id_valid(id)) {
		fprintf(stderr, "%s: not a message id\n", id);
		return 2;
	}
	if (strcmp(op, "release") == 0 || strcmp(op, "drop") == 0) {
		rc = strcmp(op, "release") == 0 ?
		    spool_release_held(cf->spool_dir, id, time(NULL)) :
		    spool_delete(cf->spool_dir, SPOOL_HELD, id);
		if (rc == 0)
			printf("%s: %s\n", id, op[0] == 'r' ? "released into "
			    "the queue" : "dropped");
		else
			fprintf(stderr, "%s: %s\n", id, rc == 1 ? "no such held "
			    "message" : strerror(errno));
		return rc == 0 ? 0 : 1;
	}
	for (i = 0; i < sizeof(main_states) / sizeof(main_states[0]); i++) {
		if (strcmp(op, "delete") == 0) {
			if ((rc = spool_delete(cf->spool_dir, main_states[i].st,
			    id)) == 0) {
				printf("%s: deleted from %s\n", id,
				    main_states[i].name);
				return 0;
			}
			if (rc == -1)
				break;
			continue;
		}
		if ((rc = spool_read(cf->spool_dir, main_states[i].st, id, &m,
		    &msg, &len)) == 1)
			continue;
		if (rc == -1)
			break;
		l.json = json;
		l.state = main_states[i].name;
		l.arr = json_array();
		if (!json)
			main_list_one(&m, &l);
		else {
			main_list_one(&m, &l);
			json_object_set_new(json_array_get(l.arr, 0), "message",
			    json_stringn(msg, len));
			char *s = json_dumps(json_array_get(l.arr, 0),
			    JSON_INDENT(2));
			printf("%s\n", s ? s : "{}");
			free(s);
		}
		if (!json) {
			for (i = 0; i < m.nrcpt; i++)
				printf("rcpt: %s\n", m.rcpt[i]);
			printf("\n");
			fwrite(msg, 1, len, stdout);
		}
		json_decref(l.arr);
		spool_meta_clear(&m);
		free(msg);
		return 0;
	}
	if (rc == 1)
		fprintf(stderr, "%s: no such message\n", id);
	else
		fprintf(stderr, "%s: %s\n", id, strerror(errno));
	return 1;
}

static int
main_queue_run(const struct conf *cf, int once)
{
	struct deliver		*d;
	struct sigaction	 sa;
	char			 err[512];
	time_t			 next;
	int			 n;

	log_role("queue-run");
	/* As for `serve`: nothing from the caller's shell reaches libcurl
	 * or OpenSSL (sandbox_env_clear). */
	sandbox_env_clear();
	if (privsep_prepare_dirs(cf) == -1)
		return 1;
	if (deliver_open(cf, &d, err, sizeof(err)) == -1) {
		log_err("%s", err);
		return 1;
	}
	/* Same discipline as the deliverer: secrets read, then no root. */
	if (privsep_drop(cf) == -1) {
		deliver_close(d);
		return 1;
	}
	/* Then the deliverer's confinement, as server_deliverer(). */
	if (sandbox_deliver(cf->spool_dir, cf->state_dir, err,
	    sizeof(err)) == -1) {
		log_err("queue run: %s", err);
		deliver_close(d);
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = queue_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (once) {
		n = deliver_due(d, &queue_stop, &next);
		deliver_close(d);
		if (n < 0)
			return 1;
		log_info("queue run: %d delivered", n);
		return 0;
	}
	while (!queue_stop)
		deliver_loop(d, &queue_stop);
	deliver_close(d);
	return 0;
}

int
queue_cmd(const char *path, int argc, char **argv)
{
	struct conf	*cf;
	int		 rc, json = 0, once = 0, i;
	const char	*id = NULL;

	if (argc < 1)
		return QUEUE_CMD_USAGE;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--once") == 0)
			once = 1;
		else if (id == NULL && argv[i][0] != '-')
			id = argv[i];
		else
			return QUEUE_CMD_USAGE;
	}
	if ((rc = conf_load(path, &cf)) != 0)
		return 2;
	log_init("form2mail", cf->log_syslog);
	if (strcmp(argv[0], "list") == 0 && id == NULL)
		rc = privsep_drop(cf) == -1 ? 1 : main_queue_list(cf, json);
	else if (strcmp(argv[0], "run") == 0 && id == NULL)
		rc = main_queue_run(cf, once);
	else if (strcmp(argv[0], "retry") == 0) {
		/* Files rewritten here must stay the service user's. */
		if (privsep_drop(cf) == -1)
			rc = 1;
		else if (id != NULL && !spool_id_valid(id)) {
			fprintf(stderr, "%s: not a message id\n", id);
			rc = 2;
		} else if ((rc = spool_retry(cf->spool_dir, id, time(NULL))) <
		    0) {
			fprintf(stderr, "retry: %s\n", strerror(errno));
			rc = 1;
		} else {
			printf("%d message%s due now\n", rc, rc == 1 ? "" : "s");
			rc = (id != NULL && rc == 0) ? 1 : 0;
		}
	} else if (id != NULL && (strcmp(argv[0], "show") == 0 ||
	    strcmp(argv[0], "delete") == 0 || strcmp(argv[0], "release") == 0 ||
	    strcmp(argv[0], "drop") == 0)) {
		if (privsep_drop(cf) == -1)
			rc = 1;
		else
			rc = main_queue_one(cf, argv[0], id, json);
	} else
		rc = QUEUE_CMD_USAGE;
	conf_free(cf);
	return rc;
}
