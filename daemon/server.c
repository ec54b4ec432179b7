/*
 * Event loop, signals, reload and stop (SPEC §6); the sockets are
 * listener.c's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "daemon/conn.h"
#include "daemon/gen.h"
#include "daemon/status.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/upstream.h"

#define QUIT_DRAIN_SECONDS	30

static void	signal_cb(evutil_socket_t, short, void *);
static int	reload(struct server *);
static void	reload_status(struct server *, const char *);
static void	quit(struct server *);
static int	apply(struct server *, struct cfg *);
static void	drop_privileges(const struct cfg *);
static void	quit_timeout_cb(evutil_socket_t, short, void *);
static void	maybe_exit(struct server *);
static void	loop_init(struct server *);
static void	signals_init(struct server *);
static void	publish_cb(evutil_socket_t, short, void *);
static void	loop_end(struct server *);
static void	conn_closed(void *);
static void	emfile(void *);
static void	resume_cb(evutil_socket_t, short, void *);

/* A connection closed (the listeners' hook): the last one ends a drain. */
static void
conn_closed(void *arg)
{
	maybe_exit(arg);
}

/* accept() failed with EMFILE/ENFILE: pause every listener for 1 s. */
static void
emfile(void *arg)
{
	struct server	*s = arg;
	struct timeval	 tv = { 1, 0 };

	listener_pause_all(&s->s_env);
	evtimer_add(s->s_emfile_timer, &tv);
}

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)ev;
	listener_resume_all(&s->s_env);
}

static const struct listener_hooks	srv_hooks = {
	.lh_conn_closed = conn_closed,
	.lh_emfile = emfile,
};

static void
maybe_exit(struct server *s)
{
	if (s->s_env.le_quitting && s->s_env.le_nconns == 0)
		event_base_loopbreak(s->s_env.le_base);
}

static void
quit_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)ev;
	log_warn(NULL, "graceful stop: %zu connections still open after "
	    "%d s, closing", s->s_env.le_nconns, QUIT_DRAIN_SECONDS);
	event_base_loopbreak(s->s_env.le_base);
}

/*
 * Make the listeners match cfg: keep the sockets whose address did not
 * change (no refused connection during a reload), open new ones, drain
 * the removed ones.  Returns -1 when a new listener could not be opened;
 * the old set is then left as it was.
 */
static int
apply(struct server *s, struct cfg *cfg)
{
	struct gen		*g;
	struct listener		*l, *next;
	size_t			 i;
	int			 bad = 0;

	if ((g = gen_new(cfg)) == NULL)
		return (-1);
	for (i = 0; i < cfg->c_napps; i++) {
		if (listener_find(&s->s_env,
		    cfg->c_apps[i].a_listen_addr.ca_text))
			continue;
		if (listener_open(&s->s_env, g, &cfg->c_apps[i]) < 0)
			bad = 1;
	}
	if (bad) {
		/* Undo what we opened for this generation. */
		for (l = s->s_env.le_listeners; l != NULL; l = next) {
			next = l->l_next;
			if (l->l_gen == g)
				listener_free(l);
		}
		g->g_cfg = NULL;
		free(g);
		return (-1);
	}
	for (l = s->s_env.le_listeners; l != NULL; l = next) {
		next = l->l_next;
		if (l->l_gen == g || l->l_draining)
			continue;
		for (i = 0; i < cfg->c_napps; i++)
			if (strcmp(cfg->c_apps[i].a_listen_addr.ca_text,
			    l->l_key) == 0)
				break;
		if (i == cfg->c_napps) {
			log_info(l->l_app->a_name, "removed: draining %zu "
			    "connections%s", l->l_nconns, l->l_systemd ?
			    " (the systemd socket stays open)" : "");
			listener_close(l);
			l->l_draining = 1;
			if (l->l_nconns == 0)
				listener_free(l);
			continue;
		}
		/* Same socket, new policy for new connections. */
		listener_update(l, g, &cfg->c_apps[i]);
	}
	if (s->s_gen != NULL)
		gen_unref(s->s_gen);
	s->s_gen = g;
	return (0);
}

static int
reload(struct server *s)
{
	struct cfg_errors	 errs;
	struct cfg		*cfg;
	size_t			 i;
	int			 rc = 0;

	sd_notify(0, "RELOADING=1");
	s->s_reloads++;
	cfg_errors_init(&errs);
	cfg = cfg_load(s->s_path, &errs);
	for (i = 0; i < errs.e_n; i++)
		log_msg(errs.e_v[i].m_warn ? LOG_LVL_WARN : LOG_LVL_ERROR,
		    NULL, "reload: %s", errs.e_v[i].m_text);
	cfg_errors_free(&errs);
	if (cfg != NULL && s->s_level >= 0)
		cfg->c_level = (enum cfg_log_level)s->s_level;
	if (cfg == NULL || apply(s, cfg) < 0) {
		cfg_free(cfg);
		log_error(NULL, "reload failed: keeping the running config");
		reload_status(s, "failed");
		rc = -1;
	} else {
		if (log_init(cfg->c_log, (int)cfg->c_level) < 0)
			log_error(NULL, "log %s: %s", cfg->c_log,
			    strerror(errno));
		log_info(NULL, "reloaded %s: %zu apps", cfg->c_file,
		    cfg->c_napps);
		if ((size_t)cfg_workers(cfg) != s->s_env.le_workers)
			log_warn(NULL, "reload: workers = %ld takes a restart; "
			    "%zu until then", cfg_workers(cfg),
			    s->s_env.le_workers);
		reload_status(s, "ok");
	}
	sd_notify(0, "READY=1");
	return (rc);
}

/*
 * Under systemd (RUNTIME_DIRECTORY set) the outcome of each reload is
 * written to $RUNTIME_DIRECTORY/reload.status as "PID COUNT ok|failed":
 * the unit's ExecReload helper waits for it, so that systemctl reload
 * returns after the reload and fails when it failed (systemd 252 has no
 * Type=notify-reload).  The file is replaced by rename, never half seen.
 */
static void
reload_status(struct server *s, const char *outcome)
{
	const char	*dir = getenv("RUNTIME_DIRECTORY");
	char		 tmp[4096], path[4096];
	int		 fd;

	if (s->s_reloads > 0)
		sd_notifyf(0, "STATUS=reload %lu %s", s->s_reloads, outcome);
	if (dir == NULL || strchr(dir, ':') != NULL)
		return;
	snprintf(path, sizeof(path), "%s/reload.status", dir);
	snprintf(tmp, sizeof(tmp), "%s/.reload.status", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%ld %lu %s\n", (long)getpid(),
	    s->s_reloads, outcome) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0)
		log_warn(NULL, "%s: %s", path, strerror(errno));
}

/* SIGQUIT (SPEC §6): stop accepting, drain up to QUIT_DRAIN_SECONDS. */
static void
quit(struct server *s)
{
	struct listener	*l;
	struct timeval	 tv = { QUIT_DRAIN_SECONDS, 0 };

	log_info(NULL, "SIGQUIT: graceful stop, %zu connections",
	    s->s_env.le_nconns);
	if (!s->s_worker)
		sd_notify(0, "STOPPING=1");
	s->s_env.le_quitting = 1;
	/*
	 * Close what we bound: a connect() during the drain is then refused
	 * at once (nginx fails over) instead of queueing in a backlog that
	 * is reset at exit.  systemd's sockets stay open: systemd owns them.
	 */
	for (l = s->s_env.le_listeners; l != NULL; l = l->l_next) {
		if (l->l_systemd)
			listener_enable(l, 0);
		else
			listener_close(l);
	}
	evtimer_add(s->s_quit_timer, &tv);
	maybe_exit(s);
}

/* SIGHUP reload, SIGUSR1 reopen, SIGQUIT drain, SIGTERM/SIGINT stop. */
static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct server	*s = arg;

	(void)ev;
	switch (sig) {
	case SIGHUP:
		if (s->s_worker) {
			log_warn(NULL, "SIGHUP to a worker ignored: the master "
			    "(pid %ld) reloads", (long)getppid());
			break;
		}
		if (s->s_env.le_quitting) {
			log_warn(NULL, "SIGHUP: stopping, reload ignored");
			reload_status(s, "failed");
			break;
		}
		log_info(NULL, "SIGHUP: reloading");
		reload(s);
		break;
	case SIGUSR1:
		if (log_reopen() < 0)
			log_error(NULL, "reopen log: %s", strerror(errno));
		break;
	case SIGQUIT:
		if (!s->s_env.le_quitting)
			quit(s);
		break;
	default:
		log_info(NULL, "signal %d: stopping now", (int)sig);
		if (!s->s_worker)
			sd_notify(0, "STOPPING=1");
		event_base_loopbreak(s->s_env.le_base);
		break;
	}
}

/* Bind first, then drop (STYLE S12); verify the drop took. */
static void
drop_privileges(const struct cfg *cfg)
{
	struct passwd	*pw = NULL;
	struct group	*gr = NULL;
	gid_t		 gid;

	if (cfg->c_user == NULL && cfg->c_group == NULL)
		return;
	if (geteuid() != 0) {
		/* E.g. User= in the systemd unit: already someone else. */
		if (cfg->c_user && ((pw = getpwnam(cfg->c_user)) == NULL ||
		    pw->pw_uid != geteuid()))
			log_warn(NULL, "user \"%s\" ignored: not started as "
			    "root, running as uid %ld", cfg->c_user,
			    (long)geteuid());
		return;
	}
	if (cfg->c_user && (pw = getpwnam(cfg->c_user)) == NULL)
		fatalx("user \"%s\": no such user", cfg->c_user);
	if (cfg->c_group && (gr = getgrnam(cfg->c_group)) == NULL)
		fatalx("group \"%s\": no such group", cfg->c_group);
	gid = gr ? gr->gr_gid : pw->pw_gid;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0)
		fatalx("setgid: %s", strerror(errno));
	if (pw && setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		fatalx("setuid: %s", strerror(errno));
	if (pw && (geteuid() != pw->pw_uid || setuid(0) == 0))
		fatalx("privilege drop did not take");
}

/* SIGHUP, SIGQUIT, SIGTERM, SIGINT, SIGUSR1 (see signal_cb). */
static const int	srv_sigs[] = { SIGHUP, SIGQUIT, SIGTERM, SIGINT,
    SIGUSR1 };

/* The event base, the signal events and the server's own timers. */
static void
loop_init(struct server *s)
{
	struct event_config	*ecfg;

	/*
	 * The changelist folds the enable/disable pairs of one loop pass into
	 * at most one epoll_ctl per fd: it halved our syscalls per request.
	 */
	if ((ecfg = event_config_new()) == NULL ||
	    event_config_set_flag(ecfg,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) != 0 ||
	    (s->s_env.le_base = event_base_new_with_config(ecfg)) == NULL)
		fatalx("event_base_new failed");
	event_config_free(ecfg);
	s->s_quit_timer = evtimer_new(s->s_env.le_base, quit_timeout_cb, s);
	s->s_emfile_timer = evtimer_new(s->s_env.le_base, resume_cb, s);
}

/*
 * Signals are delivered as libevent events: signal_cb runs in the loop
 * like any other callback and may call anything (reload, free, log).  No
 * code of ours ever runs in real signal context (STYLE S11, httpd).
 */
static void
signals_init(struct server *s)
{
	size_t	i;

	for (i = 0; i < sizeof(srv_sigs) / sizeof(srv_sigs[0]); i++) {
		s->s_sig[i] = evsignal_new(s->s_env.le_base, srv_sigs[i],
		    signal_cb, s);
		evsignal_add(s->s_sig[i], NULL);
	}
}

/* After the loop: every connection, listener and event freed. */
static void
loop_end(struct server *s)
{
	struct listener	*l;
	size_t		 i;

	s->s_env.le_quitting = 0;	/* no loopbreak from the closes below */
	up_stop();
	conn_close_all(&s->s_env.le_conns);
	while ((l = s->s_env.le_listeners) != NULL) {
		l->l_nconns = 0;
		listener_free(l);
	}
	gen_unref(s->s_gen);
	for (i = 0; i < sizeof(srv_sigs) / sizeof(srv_sigs[0]); i++)
		if (s->s_sig[i] != NULL)
			event_free(s->s_sig[i]);
	if (s->s_pub_timer != NULL)
		event_free(s->s_pub_timer);
	event_free(s->s_quit_timer);
	event_free(s->s_emfile_timer);
	event_base_free(s->s_env.le_base);
	gen_stats_free();
}

int
srv_main(struct cfg *cfg, const char *path, int level)
{
	struct server	s;

	memset(&s, 0, sizeof(s));
	s.s_env.le_workers = 1;
	s.s_env.le_worker = -1;
	s.s_env.le_hooks = &srv_hooks;
	s.s_env.le_srv = &s;
	s.s_path = path;
	s.s_level = level;
	if (level >= 0)
		cfg->c_level = (enum cfg_log_level)level;
	/*
	 * Until the drop, stderr: the log file is opened by the user that
	 * will have to reopen it on SIGUSR1 (logrotate).
	 */
	if (log_init("stderr", (int)cfg->c_level) < 0)
		fatalx("log: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	loop_init(&s);
	signals_init(&s);
	if (apply(&s, cfg) < 0)
		fatalx("cannot open the listeners");
	drop_privileges(cfg);
	if (log_init(cfg->c_log, (int)cfg->c_level) < 0)
		fatalx("log %s: %s", cfg->c_log, strerror(errno));
	reload_status(&s, "started");
	sd_notify(0, "READY=1");
	log_info(NULL, "started: %zu apps from %s", cfg->c_napps, cfg->c_file);
	event_base_dispatch(s.s_env.le_base);
	log_info(NULL, "exiting");
	loop_end(&s);
	return (0);
}

void
srv_init(struct server *s, struct cfg *cfg, const char *path, int level,
    size_t n)
{
	memset(s, 0, sizeof(*s));
	s->s_env.le_workers = n;
	s->s_env.le_worker = -1;
	s->s_env.le_hooks = &srv_hooks;
	s->s_env.le_srv = s;
	s->s_path = path;
	s->s_level = level;
	if (level >= 0)
		cfg->c_level = (enum cfg_log_level)level;
	if (log_init("stderr", (int)cfg->c_level) < 0)
		fatalx("log: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	/*
	 * Slot 0 is the master's; each worker of up to 3 generations (a
	 * reload while two drain) has its own.  Room for twice the apps of
	 * now and 16 more: apps a reload adds need counters too.
	 */
	up_set_workers(n);
	if (gen_stats_share(1 + 3 * n, cfg->c_napps * 2 + 16) < 0)
		fatalx("shared counters: %s", strerror(errno));
	loop_init(s);
	if (apply(s, cfg) < 0)
		fatalx("cannot open the listeners");
	listener_pause_all(&s->s_env);	/* the workers accept */
	drop_privileges(cfg);
	if (log_init(cfg->c_log, (int)cfg->c_level) < 0)
		fatalx("log %s: %s", cfg->c_log, strerror(errno));
	reload_status(s, "started");
}

/* A worker's gauges into its slot each second, for the others' pages. */
static void
publish_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server		*s = arg;
	struct listener		*l;
	struct gen_share	*sh;
	struct status_live	 sl;
	struct status_upstream	 su[GEN_UP_MAX];

	(void)fd;
	(void)ev;
	for (l = s->s_env.le_listeners; l != NULL; l = l->l_next) {
		if (l->l_draining || (sh = gen_share_of(l->l_stats)) == NULL)
			continue;
		memset(&sl, 0, sizeof(sl));
		up_status(l->l_pool, &sl, su, GEN_UP_MAX);
		sl.sl_active = l->l_nconns;
		gen_share_put(sh, &sl, su);
	}
}

void
srv_worker(struct server *s, size_t k)
{
	struct timeval	tv = { 1, 0 };

	s->s_worker = 1;
	s->s_env.le_worker = (long)k;
	if (event_reinit(s->s_env.le_base) < 0)
		fatalx("worker %zu: event_reinit failed", k);
	signals_init(s);
	if (listener_worker(&s->s_env, k) < 0)
		fatalx("worker %zu: cannot take its listeners", k);
	s->s_pub_timer = event_new(s->s_env.le_base, -1, EV_PERSIST,
	    publish_cb, s);
	if (s->s_pub_timer == NULL || event_add(s->s_pub_timer, &tv) < 0)
		fatalx("worker %zu: out of memory", k);
	publish_cb(-1, 0, s);
	log_info(NULL, "worker %zu started (pid %ld)", k, (long)getpid());
	event_base_dispatch(s->s_env.le_base);
	loop_end(s);
	exit(0);
}

int
srv_reload(struct server *s)
{
	int	rc = reload(s);

	listener_pause_all(&s->s_env);	/* the workers accept */
	return (rc);
}

void
srv_reload_refused(struct server *s)
{
	s->s_reloads++;
	reload_status(s, "failed");
}

void
srv_quit(struct server *s)
{
	struct listener	*l;

	for (l = s->s_env.le_listeners; l != NULL; l = l->l_next)
		if (!l->l_systemd)
			listener_close(l);
}

void
srv_end(struct server *s)
{
	loop_end(s);
}
