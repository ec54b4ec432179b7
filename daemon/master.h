/*
 * workers > 1 (SPEC §6.2): the master process that forks, watches and
 * replaces the workers, and hands signals on to them (master.c).
 */
#ifndef FCN_DAEMON_MASTER_H
#define FCN_DAEMON_MASTER_H

#include <stddef.h>

#include "config/config.h"

/* Run n workers of cfg until stopped; the exit status. */
int	master_main(struct cfg *, const char *path, int level, size_t n);

#endif
