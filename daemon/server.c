/*
 * Event loop, listeners, signals and reload (SPEC §6).
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
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "daemon/conn.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/upstream.h"

#define QUIT_DRAIN_SECONDS	30
#define LISTEN_BACKLOG		511

static struct listener *listener_find(struct server *, const char *);
static int	listener_open(struct server *, struct gen *,
		    const struct cfg_app *);
static void	listener_free(struct listener *);
static void	listener_close(struct listener *);
static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	accept_error_cb(struct evconnlistener *, void *);
static void	signal_cb(evutil_socket_t, short, void *);
static void	reload(struct server *);
static void	reload_status(struct server *, const char *);
static void	quit(struct server *);
static int	apply(struct server *, struct cfg *);
static void	drop_privileges(const struct cfg *);
static int	systemd_fd(const char *);
static void	resume_cb(evutil_socket_t, short, void *);
static void	quit_timeout_cb(evutil_socket_t, short, void *);
static void	maybe_exit(struct server *);
static void	accept_backoff(struct server *);

void
srv_gen_ref(struct gen *g)
{
	g->g_refs++;
}

void
srv_gen_unref(struct gen *g)
{
	if (--g->g_refs == 0) {
		cfg_free(g->g_cfg);
		free(g);
	}
}

int
srv_sockaddr(const struct cfg_addr *ca, struct sockaddr_storage *ss)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (ca->ca_kind == CFG_ADDR_UNIX) {
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s",
		    ca->ca_path);
		return (sizeof(*sun));
	}
	if (ca->ca_ip.a_family == ADDR_V4) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, ca->ca_ip.a_bytes, 4);
		s4->sin_port = htons((uint16_t)ca->ca_port);
		return (sizeof(*s4));
	}
	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, ca->ca_ip.a_bytes, 16);
	s6->sin6_port = htons((uint16_t)ca->ca_port);
	return (sizeof(*s6));
}

static struct listener *
listener_find(struct server *s, const char *key)
{
	struct listener	*l;

	for (l = s->s_listeners; l != NULL; l = l->l_next)
		if (!l->l_draining && strcmp(l->l_key, key) == 0)
			return (l);
	return (NULL);
}

static int
systemd_fd(const char *name)
{
	char	**names = NULL;
	int	  n, i, fd = -1;

	n = sd_listen_fds_with_names(0, &names);
	for (i = 0; i < n; i++) {
		if (names != NULL && strcmp(names[i], name) == 0 && fd < 0)
			fd = SD_LISTEN_FDS_START + i;
	}
	for (i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
	return (fd);
}

static int
listener_open(struct server *s, struct gen *g, const struct cfg_app *a)
{
	const struct cfg_addr	*la = &a->a_listen_addr;
	struct sockaddr_storage	 ss;
	struct listener		*l;
	struct passwd		*pw;
	struct group		*gr;
	const char		*owner, *group;
	int			 fd = -1, one = 1;
	socklen_t		 len;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (-1);
	l->l_srv = s;
	l->l_key = strdup(la->ca_text);
	if (la->ca_kind == CFG_ADDR_SYSTEMD) {
		if ((fd = systemd_fd(la->ca_path)) < 0) {
			log_error(a->a_name, "listen %s: no socket with that "
			    "FileDescriptorName was passed", la->ca_text);
			goto fail;
		}
		evutil_make_socket_nonblocking(fd);
		l->l_systemd = 1;
	} else if (la->ca_kind == CFG_ADDR_UNIX) {
		len = (socklen_t)srv_sockaddr(la, &ss);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		unlink(la->ca_path);	/* a stale socket, as php-fpm does */
		if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
		    chmod(la->ca_path, a->a_mode) < 0)
			goto syserr;
		l->l_unlink = strdup(la->ca_path);
		/* SPEC §3.2: owner and group default to the daemon's user. */
		owner = a->a_listen_owner ? a->a_listen_owner :
		    g->g_cfg->c_user;
		group = a->a_listen_group ? a->a_listen_group :
		    g->g_cfg->c_group;
		pw = owner && geteuid() == 0 ? getpwnam(owner) : NULL;
		gr = group && geteuid() == 0 ? getgrnam(group) : NULL;
		if ((owner && geteuid() == 0 && pw == NULL) ||
		    (group && geteuid() == 0 && gr == NULL)) {
			log_error(a->a_name, "listen %s: unknown owner or "
			    "group", la->ca_text);
			goto fail;
		}
		if ((pw || gr) && chown(la->ca_path, pw ? pw->pw_uid :
		    (uid_t)-1, gr ? gr->gr_gid : (gid_t)-1) < 0)
			goto syserr;
		if (listen(fd, LISTEN_BACKLOG) < 0)
			goto syserr;
	} else {
		len = (socklen_t)srv_sockaddr(la, &ss);
		fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto syserr;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
		    listen(fd, LISTEN_BACKLOG) < 0)
			goto syserr;
	}
	if ((l->l_pool = up_pool_new(s->s_base, g, a)) == NULL)
		goto syserr;
	/* SPEC §6: a socket from systemd is systemd's; we never close it. */
	l->l_lev = evconnlistener_new(s->s_base, accept_cb, l,
	    (l->l_systemd ? 0 : LEV_OPT_CLOSE_ON_FREE) | LEV_OPT_CLOSE_ON_EXEC,
	    -1, fd);
	if (l->l_lev == NULL)
		goto syserr;
	evconnlistener_set_error_cb(l->l_lev, accept_error_cb);
	l->l_gen = g;
	srv_gen_ref(g);
	l->l_app = a;
	l->l_next = s->s_listeners;
	s->s_listeners = l;
	log_info(a->a_name, "listening on %s upstream=%s%s trusted=%zu "
	    "upstream_max_conns=%ld", la->ca_text, a->a_upstreams[0].ca_text,
	    a->a_nupstreams > 1 ? ",..." : "", a->a_ntrusted,
	    a->a_upstream_max_conns);
	return (0);
syserr:
	log_error(a->a_name, "listen %s: %s", la->ca_text, strerror(errno));
fail:
	if (l->l_pool != NULL)
		up_pool_retire(l->l_pool);
	if (fd >= 0 && !l->l_systemd)
		close(fd);
	free(l->l_unlink);
	free(l->l_key);
	free(l);
	return (-1);
}

static void
listener_free(struct listener *l)
{
	struct listener	**pp;

	for (pp = &l->l_srv->s_listeners; *pp != NULL; pp = &(*pp)->l_next)
		if (*pp == l) {
			*pp = l->l_next;
			break;
		}
	listener_close(l);
	if (l->l_pool != NULL)
		up_pool_retire(l->l_pool);
	srv_gen_unref(l->l_gen);
	free(l->l_key);
	free(l);
}

/*
 * Stop accepting on l for good: close a socket we bound and unlink its
 * path, so that clients are refused at once instead of waiting in a
 * backlog nobody reads.  A socket passed by systemd only leaves the loop:
 * systemd keeps it, and a later start or reload takes it again.
 */
static void
listener_close(struct listener *l)
{
	if (l->l_lev != NULL)
		evconnlistener_free(l->l_lev);
	l->l_lev = NULL;
	if (l->l_unlink != NULL && unlink(l->l_unlink) < 0 && errno != ENOENT)
		log_warn(l->l_app->a_name, "unlink %s: %s", l->l_unlink,
		    strerror(errno));
	/* The path may be reused (by a reload) before the drain ends. */
	free(l->l_unlink);
	l->l_unlink = NULL;
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct listener	*l = arg;
	struct addr	 a;
	char		 buf[ADDR_STRLEN];

	(void)lev;
	if (l->l_app->a_listen_addr.ca_kind == CFG_ADDR_TCP ||
	    sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
		memset(&a, 0, sizeof(a));
		if (sa->sa_family == AF_INET)
			addr_set(&a, ADDR_V4, &((struct sockaddr_in *)(void *)
			    sa)->sin_addr);
		else if (sa->sa_family == AF_INET6)
			addr_set(&a, ADDR_V6, &((struct sockaddr_in6 *)(void *)
			    sa)->sin6_addr);
		if (cidr_set_match(l->l_app->a_allow, &a) == NULL) {
			addr_format(&a, buf);
			log_info(l->l_app->a_name, "refused peer=%s reason=\"not "
			    "in allow_from\"", buf);
			evutil_closesocket(fd);
			return;
		}
	}
	conn_accept(l, fd, sa, salen);
	if (l->l_nconns >= (size_t)l->l_app->a_max_connections &&
	    !l->l_paused) {
		/* SPEC §3.2: at the limit, stop accepting until one closes. */
		l->l_paused = 1;
		evconnlistener_disable(l->l_lev);
		log_warn(l->l_app->a_name, "max_connections %ld reached",
		    l->l_app->a_max_connections);
	}
}

void
srv_conn_closed(struct listener *l)
{
	struct server	*s = l->l_srv;

	l->l_nconns--;
	s->s_nconns--;
	if (l->l_draining && l->l_nconns == 0)
		listener_free(l);
	else if (l->l_paused && l->l_nconns <
	    (size_t)l->l_app->a_max_connections) {
		l->l_paused = 0;
		if (!s->s_quitting)
			evconnlistener_enable(l->l_lev);
	}
	maybe_exit(s);
}

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*s = arg;
	struct listener	*l;

	(void)fd;
	(void)ev;
	for (l = s->s_listeners; l != NULL; l = l->l_next)
		if (!l->l_paused && !l->l_draining && !s->s_quitting)
			evconnlistener_enable(l->l_lev);
}

/* accept() failed with EMFILE/ENFILE: pause every listener for 1 s. */
static void
accept_backoff(struct server *s)
{
	struct listener	*l;
	struct timeval	 tv = { 1, 0 };

	for (l = s->s_listeners; l != NULL; l = l->l_next)
		if (l->l_lev != NULL)
			evconnlistener_disable(l->l_lev);
	evtimer_add(s->s_emfile_timer, &tv);
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)lev;
	log_error(l->l_app->a_name, "accept: %s",
	    evutil_socket_error_to_string(err));
	/* S12: never spin on EMFILE; pause for a second (slowcgi). */
	if (err == EMFILE || err == ENFILE)
		accept_backoff(l->l_srv);
}

static void
maybe_exit(struct server *s)
{
	if (s->s_quitting && s->s_nconns == 0)
		event_base_loopbreak(s->s_base);
}

static void
quit_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct server	*s = arg;

	(void)fd;
	(void)ev;
	log_warn(NULL, "graceful stop: %zu connections still open after "
	    "%d s, closing", s->s_nconns, QUIT_DRAIN_SECONDS);
	event_base_loopbreak(s->s_base);
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
	struct gen	*g;
	struct listener	*l, *next;
	size_t		 i;
	int		 bad = 0;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return (-1);
	g->g_cfg = cfg;
	g->g_refs = 1;
	for (i = 0; i < cfg->c_napps; i++) {
		if (listener_find(s, cfg->c_apps[i].a_listen_addr.ca_text))
			continue;
		if (listener_open(s, g, &cfg->c_apps[i]) < 0)
			bad = 1;
	}
	if (bad) {
		/* Undo what we opened for this generation. */
		for (l = s->s_listeners; l != NULL; l = next) {
			next = l->l_next;
			if (l->l_gen == g)
				listener_free(l);
		}
		g->g_cfg = NULL;
		free(g);
		return (-1);
	}
	for (l = s->s_listeners; l != NULL; l = next) {
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
		struct up_pool *np = up_pool_new(s->s_base, g, &cfg->c_apps[i]);

		if (np == NULL) {
			log_error(l->l_app->a_name, "reload: out of memory, "
			    "keeping the old upstream pool");
		} else {
			/* Kept php-fpm connections close; busy ones finish. */
			up_pool_retire(l->l_pool);
			l->l_pool = np;
		}
		srv_gen_unref(l->l_gen);
		l->l_gen = g;
		srv_gen_ref(g);
		l->l_app = &cfg->c_apps[i];
	}
	if (s->s_gen != NULL)
		srv_gen_unref(s->s_gen);
	s->s_gen = g;
	return (0);
}

static void
reload(struct server *s)
{
	struct cfg_errors	 errs;
	struct cfg		*cfg;
	size_t			 i;

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
	} else {
		if (log_init(cfg->c_log, (int)cfg->c_level) < 0)
			log_error(NULL, "log %s: %s", cfg->c_log,
			    strerror(errno));
		log_info(NULL, "reloaded %s: %zu apps", cfg->c_file,
		    cfg->c_napps);
		reload_status(s, "ok");
	}
	sd_notify(0, "READY=1");
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
	    s->s_nconns);
	sd_notify(0, "STOPPING=1");
	s->s_quitting = 1;
	/*
	 * Close what we bound: a connect() during the drain is then refused
	 * at once (nginx fails over) instead of queueing in a backlog that
	 * is reset at exit.  systemd's sockets stay open: systemd owns them.
	 */
	for (l = s->s_listeners; l != NULL; l = l->l_next) {
		if (l->l_systemd && l->l_lev != NULL)
			evconnlistener_disable(l->l_lev);
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
		if (s->s_quitting) {
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
		if (!s->s_quitting)
			quit(s);
		break;
	default:
		log_info(NULL, "signal %d: stopping now", (int)sig);
		sd_notify(0, "STOPPING=1");
		event_base_loopbreak(s->s_base);
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

int
srv_main(struct cfg *cfg, const char *path, int level)
{
	static const int	 sigs[] = { SIGHUP, SIGQUIT, SIGTERM, SIGINT,
	    SIGUSR1 };
	struct server		 s;
	struct listener		*l;
	struct event_config	*ecfg;
	size_t			 i;

	memset(&s, 0, sizeof(s));
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
	/*
	 * The changelist folds the enable/disable pairs of one loop pass into
	 * at most one epoll_ctl per fd: it halved our syscalls per request.
	 */
	if ((ecfg = event_config_new()) == NULL ||
	    event_config_set_flag(ecfg,
	    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) != 0 ||
	    (s.s_base = event_base_new_with_config(ecfg)) == NULL)
		fatalx("event_base_new failed");
	event_config_free(ecfg);
	/*
	 * Signals are delivered as libevent events: signal_cb runs in the loop
	 * like any other callback and may call anything (reload, free, log).
	 * No code of ours ever runs in real signal context (STYLE S11, httpd).
	 */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		s.s_sig[i] = evsignal_new(s.s_base, sigs[i], signal_cb, &s);
		evsignal_add(s.s_sig[i], NULL);
	}
	s.s_quit_timer = evtimer_new(s.s_base, quit_timeout_cb, &s);
	s.s_emfile_timer = evtimer_new(s.s_base, resume_cb, &s);
	if (apply(&s, cfg) < 0)
		fatalx("cannot open the listeners");
	drop_privileges(cfg);
	if (log_init(cfg->c_log, (int)cfg->c_level) < 0)
		fatalx("log %s: %s", cfg->c_log, strerror(errno));
	reload_status(&s, "started");
	sd_notify(0, "READY=1");
	log_info(NULL, "started: %zu apps from %s", cfg->c_napps, cfg->c_file);
	event_base_dispatch(s.s_base);
	log_info(NULL, "exiting");
	s.s_quitting = 0;	/* no loopbreak from the closes below */
	conn_close_all(&s);
	while ((l = s.s_listeners) != NULL) {
		l->l_nconns = 0;
		listener_free(l);
	}
	srv_gen_unref(s.s_gen);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(s.s_sig[i]);
	event_free(s.s_quit_timer);
	event_free(s.s_emfile_timer);
	event_base_free(s.s_base);
	return (0);
}
