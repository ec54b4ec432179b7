#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon/log.h"

int		 log_level_cur = LOG_LVL_INFO;
static FILE	*log_file;
static char	*log_path;
static int	 log_syslog;

static const char *const names[] = { "error", "warn", "info", "debug" };

int
log_init(const char *target, int level)
{
	log_level_cur = level;
	free(log_path);
	log_path = NULL;
	log_syslog = 0;
	if (target == NULL || strcmp(target, "stderr") == 0) {
		if (log_file != NULL && log_file != stderr)
			fclose(log_file);
		log_file = stderr;
		return (0);
	}
	if (strcmp(target, "syslog") == 0) {
		openlog("fcgi-normalizer", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
		return (0);
	}
	if ((log_path = strdup(target)) == NULL)
		return (-1);
	return (log_reopen());
}

int
log_reopen(void)
{
	FILE	*f;

	if (log_path == NULL)
		return (0);
	if ((f = fopen(log_path, "a")) == NULL)
		return (-1);
	setvbuf(f, NULL, _IOLBF, 0);
	if (log_file != NULL && log_file != stderr)
		fclose(log_file);
	log_file = f;
	return (0);
}

static void
vlog(int level, const char *app, const char *fmt, va_list ap)
{
	static const int	 prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
	    LOG_DEBUG };
	char			 line[4096];
	int			 n, saved = errno;

	n = snprintf(line, sizeof(line), "%s app=%s ", names[level],
	    app ? app : "-");
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (log_syslog)
		syslog(prio[level], "%s", line);
	else
		fprintf(log_file ? log_file : stderr, "%s\n", line);
	errno = saved;
}

void
log_msg(int level, const char *app, const char *fmt, ...)
{
	va_list	ap;

	if (level > log_level_cur)
		return;
	va_start(ap, fmt);
	vlog(level, app, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
