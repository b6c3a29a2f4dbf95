/*
 * queue_cmd: the queue commands (docs/DESIGN.md "Commands"): list [--json],
 * show ID [--json], retry [ID], delete ID, release ID, drop ID, run
 * [--once].  argv holds the words after "queue".  Returns the exit
 * status: 0 ok, 1 the operation failed, 2 a config error; or
 * QUEUE_CMD_USAGE for words it does not take (the caller prints the usage
 * and exits 2).
 */
#define QUEUE_CMD_USAGE	(-2)

#ifndef F2M_QUEUE_CMD_H
#define F2M_QUEUE_CMD_H

int	 queue_cmd(const char *path, int argc, char **argv);

#endif
