/*
 * Listening sockets by kind (relayd's relay_socket_listen): unix (mode,
 * owner, group), TCP v4/v6, or taken from systemd; accept with allow_from,
 * max_connections and the EMFILE back-off (STYLE S12).
 */
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
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/server.h"
#include "daemon/upstream.h"

#define LISTEN_BACKLOG		511

static int	systemd_fd(const char *);
static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	accept_error_cb(struct evconnlistener *, void *);
static void	accept_backoff(struct server *);

struct listener *
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

int
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
	if ((l->l_pool = up_pool_new(s->s_base, g, a)) == NULL ||
	    (l->l_stats = srv_app_stats(s, a->a_name)) == NULL)
		goto syserr;
	/*
	 * SPEC §6: a socket from systemd is systemd's; we never close it.
	 * Backlog 0: the socket listens already.  libevent's -1 would call
	 * listen(fd, 128) again and cut our 511 (or systemd's) to 128: a
	 * burst of 200 connections then got EAGAIN, a 502 in nginx.
	 */
	l->l_lev = evconnlistener_new(s->s_base, accept_cb, l,
	    (l->l_systemd ? 0 : LEV_OPT_CLOSE_ON_FREE) | LEV_OPT_CLOSE_ON_EXEC,
	    0, fd);
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

void
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
void
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
listener_resume_cb(evutil_socket_t fd, short ev, void *arg)
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
