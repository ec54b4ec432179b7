#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "daemon/log.h"

int		 log_level_cur = LOG_LVL_INFO;
static FILE	*log_file;
static char	*log_path;
static int	 log_syslog;
static int	 log_journal = -1;	/* -1: not checked yet */

static const char *const names[] = { "error", "warn", "info", "debug" };
/* sd-daemon.h: journald reads a "<N>" prefix as the line's priority. */
static const char *const prefixes[] = { SD_ERR, SD_WARNING, SD_INFO,
    SD_DEBUG };

static int	stderr_is_journal(void);

/*
 * systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected
 * to stderr; only when fd 2 is still that stream do "<N>" prefixes mean
 * anything (a shell started from the unit may have redirected it).
 */
static int
stderr_is_journal(void)
{
	struct stat	 st;
	const char	*e;
	char		 want[64];

	if (log_journal >= 0)
		return (log_journal);
	log_journal = 0;
	if ((e = getenv("JOURNAL_STREAM")) != NULL && fstat(2, &st) == 0) {
		snprintf(want, sizeof(want), "%lu:%lu",
		    (unsigned long)st.st_dev, (unsigned long)st.st_ino);
		log_journal = strcmp(e, want) == 0;
	}
	return (log_journal);
}

const char *
log_stderr_prefix(int level)
{
	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG ||
	    !stderr_is_journal())
		return ("");
	return (prefixes[level]);
}

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
	else if (log_file == NULL || log_file == stderr)
		fprintf(stderr, "%s%s\n", log_stderr_prefix(level), line);
	else
		fprintf(log_file, "%s\n", line);
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

void
log_vconn(int level, const char *app, const char *what, unsigned long id,
    const char *peer, unsigned req, const char *fmt, va_list ap)
{
	char	detail[640], tag[16] = "";

	if (level > log_level_cur)
		return;
	vsnprintf(detail, sizeof(detail), fmt, ap);
	if (req != 0)
		snprintf(tag, sizeof(tag), " req=%u", req);
	log_msg(level, app, "%s conn=%lu peer=%s%s%s%s", what, id, peer, tag,
	    detail[0] ? " " : "", detail);
}
