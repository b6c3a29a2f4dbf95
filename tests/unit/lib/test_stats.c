/* test_stats: shared counters across processes and their text format. */
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/stats.h"
#include "t.h"

/* The lines of family name (samples, HELP, TYPE) are contiguous. */
static int
family_grouped(const char *text, const char *name)
{
	const char	*p = text, *nl;
	size_t		 n = strlen(name);
	int		 state = 0;	/* 0 before, 1 in, 2 after the group */
	int		 mine;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		mine = (strncmp(p, name, n) == 0 && (p[n] == ' ' ||
		    p[n] == '{')) || ((strncmp(p, "# HELP ", 7) == 0 ||
		    strncmp(p, "# TYPE ", 7) == 0) && strncmp(p + 7, name, n) ==
		    0 && p[7 + n] == ' ');
		if (mine && state == 2)
			return 0;
		if (mine)
			state = 1;
		else if (state == 1)
			state = 2;
		p = *nl ? nl + 1 : nl;
	}
	return state != 0;
}

int
main(void)
{
	char		 dir[] = "/tmp/f2m-test-stats-XXXXXX", err[256];
	char		 cmd[128];
	struct stats	*s, *s2;
	struct buf	 b = BUF_INIT;
	pid_t		 pid;
	int		 i, status;

	if (mkdtemp(dir) == NULL)
		return 1;
	T_INT(stats_open(dir, &s, err, sizeof(err)), 0, "open");
	T_INT(stats_get(s, STATS_ACCEPTED), 0, "new file starts at 0");
	stats_inc(s, STATS_ACCEPTED);
	stats_inc(s, STATS_THROTTLED);
	stats_inc(NULL, STATS_ACCEPTED);
	stats_inc(s, STATS_NCOUNTERS);
	/* Four children add 1000 each to the same counter. */
	for (i = 0; i < 4; i++)
		if ((pid = fork()) == 0) {
			int k;

			for (k = 0; k < 1000; k++)
				stats_inc(s, STATS_DELIVERED);
			_exit(0);
		}
	while (wait(&status) > 0)
		;
	T_INT(stats_get(s, STATS_DELIVERED), 4000, "no lost update");
	T_INT(stats_open(dir, &s2, err, sizeof(err)), 0, "second handle");
	T_INT(stats_get(s2, STATS_ACCEPTED), 1, "shared between handles");
	stats_close(s2);
	T_OK(stats_render(s, &(struct stats_queue){ 0, 2, -1, 0 }, &b) == 0,
	    "render");
	/* Text format 0.0.4: a family's lines form one group, TYPE first. */
	T_OK(b.data && strstr(b.data, "# TYPE form2mail_accepted_total "
	    "counter\nform2mail_accepted_total 1\n") != NULL, "a family's "
	    "samples right after its TYPE: %s", b.data ? b.data : "");
	T_OK(b.data && family_grouped(b.data, "form2mail_rejected_total") &&
	    family_grouped(b.data, "form2mail_spool_messages"), "every sample "
	    "of a family in one group");
	T_OK(b.data && strstr(b.data, "\nform2mail_accepted_total 1\n") != NULL,
	    "accepted sample: %s", b.data ? b.data : "");
	T_OK(b.data && strstr(b.data, "form2mail_rejected_total{reason="
	    "\"invalid\"} 0\n") != NULL, "labelled sample");
	T_OK(b.data && strstr(b.data, "form2mail_delivered_total 4000\n") !=
	    NULL, "delivered sample");
	T_OK(b.data && strstr(b.data, "form2mail_spool_messages{state="
	    "\"queued\"} 0\n") != NULL && strstr(b.data, "form2mail_spool_"
	    "messages{state=\"held\"} 2\n") != NULL && strstr(b.data,
	    "form2mail_spool_messages{state=\"failed\"} -1\n") != NULL &&
	    strstr(b.data, "\nform2mail_oldest_queued_seconds 0\n") != NULL,
	    "the queue gauges handed in");
	buf_free(&b);
	stats_close(s);
	stats_close(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	T_DONE();
}
