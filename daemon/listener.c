/* Listening sockets and accept: see listener.h. */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <systemd/sd-daemon.h>

#include "daemon/conn.h"
#include "daemon/gen.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/side.h"
#include "daemon/status.h"
#include "daemon/upstream.h"

#define LISTEN_BACKLOG		511

static int	systemd_fd(const char *);
static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	accept_error_cb(struct evconnlistener *, void *);
static int	listen_unix(struct listener *, const struct cfg_app *,
		    const struct cfg *);
static int	listen_tcp(const struct cfg_addr *, int);
static int	listen_clones(struct listener *, const struct cfg_app *);
static int	worker_tcp(struct listener *, size_t);
static int	worker_shared(struct listener *);
static void	xaccept_cb(evutil_socket_t, short, void *);
static int	busiest(const struct listener_env *);
static void	conns_publish(const struct listener_env *);
static void	accept_error(struct listener *, int);
static size_t	max_conns(const struct listener *);
static int	listen_fd(struct listener *, const struct cfg_app *,
		    const struct cfg *);
static void	conn_closed(void *);

struct listener *
listener_find(struct listener_env *s, const char *key)
{
	struct listener	*l;

	for (l = s->le_listeners; l != NULL; l = l->l_next)
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

/* A unix socket: mode, owner, group as php-fpm's listen.*.  fd or -1. */
static int
listen_unix(struct listener *l, const struct cfg_app *a, const struct cfg *cfg)
{
	const struct cfg_addr	*la = &a->a_listen_addr;
	struct sockaddr_storage	 ss;
	struct passwd		*pw;
	struct group		*gr;
	const char		*owner, *group;
	socklen_t		 len = (socklen_t)side_sockaddr(la, &ss);
	int			 fd;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(la->ca_path);	/* a stale socket, as php-fpm does */
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    chmod(la->ca_path, a->a_mode) < 0)
		goto syserr;
	l->l_unlink = strdup(la->ca_path);
	/* SPEC §3.2: owner and group default to the daemon's user. */
	owner = a->a_listen_owner ? a->a_listen_owner : cfg->c_user;
	group = a->a_listen_group ? a->a_listen_group : cfg->c_group;
	pw = owner && geteuid() == 0 ? getpwnam(owner) : NULL;
	gr = group && geteuid() == 0 ? getgrnam(group) : NULL;
	if ((owner && geteuid() == 0 && pw == NULL) ||
	    (group && geteuid() == 0 && gr == NULL)) {
		log_error(a->a_name, "listen %s: unknown owner or group",
		    la->ca_text);
		close(fd);
		return (-1);
	}
	if ((pw || gr) && chown(la->ca_path, pw ? pw->pw_uid : (uid_t)-1,
	    gr ? gr->gr_gid : (gid_t)-1) < 0)
		goto syserr;
	if (listen(fd, LISTEN_BACKLOG) < 0)
		goto syserr;
	return (fd);
syserr:
	log_error(a->a_name, "listen %s: %s", la->ca_text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return (-1);
}

/*
 * A TCP socket, v6 only for a v6 address; reuseport: one of the workers'
 * SO_REUSEPORT group (SPEC §6.2).  fd, or -1 with errno.
 */
static int
listen_tcp(const struct cfg_addr *la, int reuseport)
{
	struct sockaddr_storage	ss;
	socklen_t		len = (socklen_t)side_sockaddr(la, &ss);
	int			fd, one = 1, e;

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return (-1);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return (-1);
	}
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return (-1);
	}
	return (fd);
}

/* The socket of a's listen address: bound here or systemd's.  -1 logged. */
static int
listen_fd(struct listener *l, const struct cfg_app *a, const struct cfg *cfg)
{
	const struct cfg_addr	*la = &a->a_listen_addr;
	int			 fd;

	if (la->ca_kind == CFG_ADDR_SYSTEMD) {
		if ((fd = systemd_fd(la->ca_path)) < 0) {
			log_error(a->a_name, "listen %s: no socket with that "
			    "FileDescriptorName was passed", la->ca_text);
			return (-1);
		}
		evutil_make_socket_nonblocking(fd);
		l->l_systemd = 1;
		return (fd);
	}
	if (la->ca_kind == CFG_ADDR_UNIX)
		return (listen_unix(l, a, cfg));
	if (l->l_env->le_workers > 1)
		return (listen_clones(l, a));
	if ((fd = listen_tcp(la, 0)) < 0)
		log_error(a->a_name, "listen %s: %s", la->ca_text,
		    strerror(errno));
	return (fd);
}

/*
 * SPEC §6.2: a TCP listen address gets one SO_REUSEPORT socket per
 * worker, all bound by the master before it drops privileges; the kernel
 * spreads connections over them, each worker accepts on its own.  The
 * first is returned (the master's listener, never dispatched).
 */
static int
listen_clones(struct listener *l, const struct cfg_app *a)
{
	size_t	i, n = l->l_env->le_workers;

	if ((l->l_fds = malloc(n * sizeof(*l->l_fds))) == NULL) {
		log_error(a->a_name, "listen %s: out of memory",
		    a->a_listen_addr.ca_text);
		return (-1);
	}
	for (i = 0; i < n; i++)
		if ((l->l_fds[i] = listen_tcp(&a->a_listen_addr, 1)) < 0) {
			log_error(a->a_name, "listen %s: %s",
			    a->a_listen_addr.ca_text, strerror(errno));
			while (i-- > 0)
				close(l->l_fds[i]);
			free(l->l_fds);
			l->l_fds = NULL;
			return (-1);
		}
	return (l->l_fds[0]);
}

int
listener_open(struct listener_env *s, struct gen *g, const struct cfg_app *a)
{
	struct listener	*l;
	size_t		 i;
	int		 fd;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (-1);
	l->l_env = s;
	l->l_xfd = -1;
	l->l_key = strdup(a->a_listen_addr.ca_text);
	if ((fd = listen_fd(l, a, g->g_cfg)) < 0)
		goto fail;
	/*
	 * SPEC §6: a socket from systemd is systemd's; we never close it.
	 * Backlog 0: the socket listens already.  libevent's -1 would call
	 * listen(fd, 128) again and cut our 511 (or systemd's) to 128: a
	 * burst of 200 connections then got EAGAIN, a 502 in nginx.
	 */
	if ((l->l_pool = up_pool_new(s->le_base, g, a)) == NULL ||
	    (l->l_stats = gen_app_stats(a->a_name)) == NULL ||
	    (l->l_lev = evconnlistener_new(s->le_base, accept_cb, l,
	    (l->l_systemd || l->l_fds ? 0 : LEV_OPT_CLOSE_ON_FREE) |
	    LEV_OPT_CLOSE_ON_EXEC, 0, fd)) == NULL) {
		log_error(a->a_name, "listen %s: out of memory",
		    a->a_listen_addr.ca_text);
		goto fail;
	}
	evconnlistener_set_error_cb(l->l_lev, accept_error_cb);
	l->l_gen = g;
	gen_ref(g);
	l->l_app = a;
	l->l_next = s->le_listeners;
	s->le_listeners = l;
	log_info(a->a_name, "listening on %s upstream=%s%s trusted=%zu "
	    "upstream_max_conns=%ld", a->a_listen_addr.ca_text,
	    a->a_upstreams[0].ca_text, a->a_nupstreams > 1 ? ",..." : "",
	    a->a_ntrusted, a->a_upstream_max_conns);
	return (0);
fail:
	if (l->l_pool != NULL)
		up_pool_retire(l->l_pool);
	if (fd >= 0 && !l->l_systemd && l->l_lev == NULL && l->l_fds == NULL)
		close(fd);
	for (i = 0; l->l_fds != NULL && i < s->le_workers; i++)
		close(l->l_fds[i]);
	free(l->l_fds);
	free(l->l_unlink);
	free(l->l_key);
	free(l);
	return (-1);
}

void
listener_update(struct listener *l, struct gen *g, const struct cfg_app *a)
{
	struct up_pool		*np = up_pool_new(l->l_env->le_base, g, a);
	struct status_app	*st;

	if (np == NULL) {
		log_error(l->l_app->a_name, "reload: out of memory, keeping "
		    "the old upstream pool");
	} else {
		/* Kept php-fpm connections close; busy ones finish. */
		up_pool_inherit(np, l->l_pool);
		up_pool_retire(l->l_pool);
		l->l_pool = np;
	}
	if ((st = gen_app_stats(a->a_name)) != NULL) {
		if (st == l->l_stats)
			st->sa_reloads++;
		l->l_stats = st;
	}
	gen_unref(l->l_gen);
	l->l_gen = g;
	gen_ref(g);
	l->l_app = a;
}

void
listener_free(struct listener *l)
{
	struct listener	**pp;

	for (pp = &l->l_env->le_listeners; *pp != NULL; pp = &(*pp)->l_next)
		if (*pp == l) {
			*pp = l->l_next;
			break;
		}
	listener_close(l);
	if (l->l_pool != NULL)
		up_pool_retire(l->l_pool);
	gen_unref(l->l_gen);
	free(l->l_key);
	free(l);
}

/*
 * Stop accepting on l for good: close a socket we bound and unlink its
 * path, so that clients are refused at once instead of waiting in a
 * backlog nobody reads.  A socket passed by systemd only leaves the loop:
 * systemd keeps it, and a later start or reload takes it again.
 */
void
listener_close(struct listener *l)
{
	size_t	i;

	if (l->l_lev != NULL)
		evconnlistener_free(l->l_lev);
	l->l_lev = NULL;
	if (l->l_xev != NULL)
		event_free(l->l_xev);
	l->l_xev = NULL;
	if (l->l_xfd >= 0)
		close(l->l_xfd);
	l->l_xfd = -1;
	for (i = 0; l->l_fds != NULL && i < l->l_env->le_workers; i++)
		if (l->l_fds[i] >= 0)
			close(l->l_fds[i]);
	free(l->l_fds);
	l->l_fds = NULL;
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
	struct listener		*l = arg;
	struct listener_env	*e = l->l_env;
	struct conn_setup	 cs;
	struct addr		 a;
	char			 buf[ADDR_STRLEN];

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
			log_info(l->l_app->a_name, "refused peer=%s "
			    "reason=\"not in allow_from\"", buf);
			evutil_closesocket(fd);
			return;
		}
	}
	cs = (struct conn_setup){ .cs_base = e->le_base, .cs_gen = l->l_gen,
	    .cs_app = l->l_app, .cs_pool = l->l_pool, .cs_stats = l->l_stats,
	    .cs_untrusted = &l->l_untrusted, .cs_active = &l->l_nconns,
	    .cs_list = &e->le_conns, .cs_closed = conn_closed, .cs_arg = l };
	l->l_nconns++;
	e->le_nconns++;
	conns_publish(e);
	conn_accept(&cs, fd, sa, salen);
	if (l->l_nconns >= max_conns(l) && !l->l_paused && l->l_lev != NULL) {
		/* SPEC §3.2: at the limit, stop accepting until one closes. */
		l->l_paused = 1;
		listener_enable(l, 0);
		log_warn(l->l_app->a_name, "max_connections %ld reached%s",
		    l->l_app->a_max_connections, e->le_workers > 1 ?
		    " (this worker's share)" : "");
	}
}

/* max_connections, or with workers each one's share (as the pool's). */
static size_t
max_conns(const struct listener *l)
{
	size_t	n = l->l_env->le_workers;

	return (((size_t)l->l_app->a_max_connections + n - 1) / n);
}

/* A connection of l is gone: accept again, free a drained listener. */
static void
conn_closed(void *arg)
{
	struct listener		*l = arg;
	struct listener_env	*e = l->l_env;

	l->l_nconns--;
	e->le_nconns--;
	conns_publish(e);
	if (l->l_draining && l->l_nconns == 0)
		listener_free(l);
	else if (l->l_paused && l->l_nconns < max_conns(l)) {
		l->l_paused = 0;
		if (!e->le_quitting)
			listener_enable(l, 1);
	}
	e->le_hooks->lh_conn_closed(e->le_srv);
}

void
listener_resume_all(struct listener_env *e)
{
	struct listener	*l;

	for (l = e->le_listeners; l != NULL; l = l->l_next)
		if (!l->l_paused && !l->l_draining && !e->le_quitting)
			listener_enable(l, 1);
}

void
listener_pause_all(struct listener_env *e)
{
	struct listener	*l;

	for (l = e->le_listeners; l != NULL; l = l->l_next)
		listener_enable(l, 0);
}

void
listener_enable(struct listener *l, int on)
{
	if (l->l_xev != NULL) {
		if (on)
			event_add(l->l_xev, NULL);
		else
			event_del(l->l_xev);
	} else if (l->l_lev != NULL) {
		if (on)
			evconnlistener_enable(l->l_lev);
		else
			evconnlistener_disable(l->l_lev);
	}
}

static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	(void)lev;
	accept_error(arg, EVUTIL_SOCKET_ERROR());
}

static void
accept_error(struct listener *l, int err)
{
	log_error(l->l_app->a_name, "accept: %s",
	    evutil_socket_error_to_string(err));
	/* S12: never spin on EMFILE; pause for a second (slowcgi). */
	if (err == EMFILE || err == ENFILE)
		l->l_env->le_hooks->lh_emfile(l->l_env->le_srv);
}

int
listener_worker(struct listener_env *e, size_t k)
{
	struct listener		*l;
	struct status_app	*st;

	for (l = e->le_listeners; l != NULL; l = l->l_next) {
		/* The master unlinks what it bound, once, at its end. */
		free(l->l_unlink);
		l->l_unlink = NULL;
		if ((st = gen_app_stats(l->l_app->a_name)) != NULL)
			l->l_stats = st;
		if (l->l_lev == NULL)
			continue;
		if ((l->l_fds != NULL ? worker_tcp(l, k) :
		    worker_shared(l)) < 0)
			return (-1);
	}
	return (0);
}

/* This worker's SO_REUSEPORT socket: the others' are closed here. */
static int
worker_tcp(struct listener *l, size_t k)
{
	size_t	i;

	evconnlistener_free(l->l_lev);	/* l_fds keeps the sockets */
	for (i = 0; i < l->l_env->le_workers; i++)
		if (i != k) {
			close(l->l_fds[i]);
			l->l_fds[i] = -1;
		}
	l->l_lev = evconnlistener_new(l->l_env->le_base, accept_cb, l,
	    LEV_OPT_CLOSE_ON_EXEC, 0, l->l_fds[k]);
	if (l->l_lev == NULL) {
		log_error(l->l_app->a_name, "listen %s: out of memory",
		    l->l_key);
		return (-1);
	}
	evconnlistener_set_error_cb(l->l_lev, accept_error_cb);
	return (0);
}

/*
 * A socket every worker shares (unix, systemd's): libevent 2.1 cannot ask
 * epoll for EPOLLEXCLUSIVE, so the socket goes into an epoll set of the
 * worker's own with it, and the loop watches that set: a connection
 * wakes one worker, not all of them (nginx's "accept_mutex off" with
 * EPOLLEXCLUSIVE).  The libevent listener stays, disabled, for its fd.
 */
static int
worker_shared(struct listener *l)
{
	struct epoll_event	ev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	int			fd = evconnlistener_get_fd(l->l_lev);

	evconnlistener_disable(l->l_lev);
	if ((l->l_xfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(l->l_xfd, EPOLL_CTL_ADD, fd, &ev) < 0 ||
	    (l->l_xev = event_new(l->l_env->le_base, l->l_xfd,
	    EV_READ | EV_PERSIST, xaccept_cb, l)) == NULL ||
	    event_add(l->l_xev, NULL) < 0) {
		log_error(l->l_app->a_name, "listen %s: exclusive wake-ups: "
		    "%s", l->l_key, strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * A shared socket has a connection: accept one per wake-up.  A batch would
 * let the first worker woken take a burst of new connections (nginx's
 * kept upstream connections, 64 at once) and keep them all.
 */
static void
xaccept_cb(evutil_socket_t xfd, short ev, void *arg)
{
	struct epoll_event	 xev = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	struct listener		*l = arg;
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	int			 fd, lfd;

	(void)xfd;
	(void)ev;
	if (l->l_paused || l->l_lev == NULL)
		return;
	lfd = evconnlistener_get_fd(l->l_lev);
	if (busiest(l->l_env)) {
		/*
		 * Behind the others: an exclusive wake-up goes to the first
		 * waiter in the socket's queue, and a worker that stays
		 * first takes every connection (64 kept ones from a burst,
		 * measured).  Leaving and joining puts it at the end.  It
		 * still accepts this one: a worker that let it go would
		 * leave it to a worker nobody woke.
		 */
		epoll_ctl(l->l_xfd, EPOLL_CTL_DEL, lfd, NULL);
		epoll_ctl(l->l_xfd, EPOLL_CTL_ADD, lfd, &xev);
	}
	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		accept_cb(l->l_lev, fd, (struct sockaddr *)&ss, (int)len, l);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		accept_error(l, errno);
}

/*
 * This worker holds more front connections than another running worker
 * of its generation, by more than 2 (the workers' counts are in shared
 * memory).
 */
static int
busiest(const struct listener_env *e)
{
	struct gen_slot	*me = gen_slot_mine(), *gs;
	size_t		 k;

	if (me == NULL)
		return (0);
	for (k = 1; k < gen_nslots(); k++) {
		gs = gen_slot_at(k);
		if (gs != me && gs->gl_alive && gs->gl_gen == me->gl_gen &&
		    gs->gl_conns + 2 < e->le_nconns)
			return (1);
	}
	return (0);
}

static void
conns_publish(const struct listener_env *e)
{
	struct gen_slot	*me = gen_slot_mine();

	if (me != NULL)
		me->gl_conns = e->le_nconns;
}
