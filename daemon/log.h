/*
 * Logging: one line per event, "LEVEL app=NAME msg key=value..." (SPEC §6),
 * to stderr (journald), syslog or a file reopened on SIGUSR1.  Every call
 * preserves errno.  log_debug checks the level before evaluating its
 * arguments.
 */
#ifndef FCN_DAEMON_LOG_H
#define FCN_DAEMON_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

extern int	log_level_cur;

/* target: "stderr", "syslog" or an absolute path.  0 or -1 (errno). */
int	log_init(const char *target, int level);
/* Reopen a file target (SIGUSR1). */
int	log_reopen(void);
/*
 * The "<N>" syslog-priority prefix for a line of this level written to
 * stderr when stderr is the systemd journal (JOURNAL_STREAM), else "".
 */
const char *log_stderr_prefix(int level);
void	log_msg(int level, const char *app, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * One line about a front connection (nginx adds the client to every line
 * it logs): "WHAT conn=ID peer=PEER[ req=REQ] DETAIL", REQ 0 for none.
 * Nothing is formatted below the level.
 */
void	log_vconn(int level, const char *app, const char *what,
	    unsigned long id, const char *peer, unsigned req, const char *fmt,
	    va_list ap) __attribute__((format(printf, 7, 0)));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define log_error(app, ...)	log_msg(LOG_LVL_ERROR, (app), __VA_ARGS__)
#define log_warn(app, ...)	log_msg(LOG_LVL_WARN, (app), __VA_ARGS__)
#define log_info(app, ...)	log_msg(LOG_LVL_INFO, (app), __VA_ARGS__)
#define log_debug(app, ...) do {					\
	if (log_level_cur >= LOG_LVL_DEBUG)				\
		log_msg(LOG_LVL_DEBUG, (app), __VA_ARGS__);		\
} while (0)

#endif
