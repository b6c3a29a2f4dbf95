/*
 * cgi: one CGI request (docs/DESIGN.md "Processes", CGI mode): the config
 * loaded, the request answered by http/'s handler, then one delivery
 * round.  Returns the exit status.
 */
#ifndef F2M_CGI_H
#define F2M_CGI_H

int	 cgi_main(const char *path);

#endif
