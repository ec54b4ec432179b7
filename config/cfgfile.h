/*
 * Config files: reading them (with the @include check libconfig 1.5
 * needs), collecting FILE:LINE errors, and keeping file names alive for
 * as long as the config.  Internal to config/.
 */
#ifndef FCN_CONFIG_CFGFILE_H
#define FCN_CONFIG_CFGFILE_H

#include <libconfig.h>
#include <stdio.h>

#include "config/config.h"

#define CFGFILE_BUILTIN	"(built-in)"

/* What one load needs to know; lives on cfg_load()'s stack. */
struct cfg_loader {
	struct cfg		*L_cfg;
	struct cfg_errors	*L_errs;
	const char		*L_dir;		/* directory of the main file */
};

/*
 * Record "FILE:LINE: message" (warn 1: a warning).  An error is counted
 * before anything is allocated, so running out of memory can never turn
 * a bad config into an accepted one (STYLE S21).
 */
void		 cfgfile_msg(struct cfg_loader *, int warn, const char *file,
		    int line, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
/* A copy of file name f owned by c (apps point at it); never NULL. */
const char	*cfgfile_keep(struct cfg *c, const char *f);
/* File and line (*line) of setting s. */
const char	*cfgfile_where(struct cfg_loader *, const config_setting_t *s,
		    int *line);
/* p relative to dir unless absolute; malloc'd, NULL on ENOMEM. */
char		*cfgfile_path(const char *dir, const char *p);
/*
 * One line of f into buf (newline stripped).  Returns 1, 0 at EOF, or -1
 * for a line longer than cap - 1 bytes (the rest of it is skipped).
 */
int		 cfgfile_line(FILE *f, char *buf, size_t cap);
/* Read path into c; 0, or -1 with the error recorded. */
int		 cfgfile_read(struct cfg_loader *, config_t *c,
		    const char *path);

#endif
