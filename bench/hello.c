/*
 * hello: the bare libfcgi responder the benchmarks compare against (the
 * FastCGI ceiling): reads the body, answers 200 with a short text.
 *   hello SOCKET NPROC
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

int
main(int argc, char *argv[])
{
	FCGX_Request	 req;
	char		 buf[4096];
	int		 fd, i, n;

	if (argc != 3) {
		fprintf(stderr, "usage: hello SOCKET NPROC\n");
		return 2;
	}
	FCGX_Init();
	unlink(argv[1]);
	if ((fd = FCGX_OpenSocket(argv[1], 128)) == -1)
		return 1;
	chmod(argv[1], 0666);
	n = atoi(argv[2]);
	for (i = 1; i < n; i++)
		if (fork() == 0)
			break;
	FCGX_InitRequest(&req, fd, 0);
	while (FCGX_Accept_r(&req) >= 0) {
		while (FCGX_GetStr(buf, sizeof(buf), req.in) > 0)
			;
		FCGX_PutS("Status: 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 6\r\n\r\nhello\n", req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
