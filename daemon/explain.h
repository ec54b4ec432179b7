/* -e APP: the policy as a dry run (SPEC §2). */
#ifndef FCN_DAEMON_EXPLAIN_H
#define FCN_DAEMON_EXPLAIN_H

#include "config/config.h"

/*
 * Params from stdin (NAME=VALUE per line), the rewritten params to
 * stdout in the same form, the decision trail to stderr.  Returns the
 * exit code: 0, or 1 when app name is not in c.
 */
int	explain_run(const struct cfg *c, const char *name);

#endif
