/*
 * workers > 1 (SPEC §6.2): a master process and its workers, as nginx.
 *
 * The master binds every listener (server.c, listener.c), shares out the
 * pools and the counters, drops privileges and forks the workers; it
 * never accepts.  Each worker is the one-process daemon on the sockets it
 * inherited: its own SO_REUSEPORT socket of each TCP address, the shared
 * unix and systemd sockets with exclusive wake-ups.
 *
 * The master waits for signals with sigtimedwait(), no event loop:
 * SIGHUP loads the config (listeners follow it in the master) and forks
 * a new generation of workers, then sends the old one SIGQUIT (it drains
 * and exits); SIGQUIT, SIGTERM and SIGUSR1 are passed on to every
 * worker; SIGCHLD reaps, and a worker of the current generation that
 * died is logged and replaced (after a second when it died young).
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "daemon/gen.h"
#include "daemon/log.h"
#include "daemon/master.h"
#include "daemon/server.h"

#define STOP_GRACE_SECONDS	35	/* after the workers' own 30 s drain */
#define YOUNG_SECONDS		1	/* died this soon: wait before again */

struct worker {
	pid_t		w_pid;		/* 0: the slot is free */
	size_t		w_index;	/* its SO_REUSEPORT socket */
	unsigned	w_gen;
	time_t		w_started;
};

struct master {
	struct server	 m_s;
	size_t		 m_n;		/* workers of a generation */
	unsigned	 m_gen;
	struct worker	*m_w;		/* by slot; slot 0 the master's */
	size_t		 m_nslots;
	int		 m_stop;	/* 0, SIGQUIT or SIGTERM */
	time_t		 m_stop_at;
	sigset_t	 m_old;		/* the mask the workers get back */
};

static void	spawn(struct master *, size_t index);
static size_t	free_slots(const struct master *);
static void	reap(struct master *);
static void	respawn_due(struct master *);
static void	reload(struct master *);
static void	send_all(struct master *, int sig, int old_only);
static size_t	alive(const struct master *);
static void	on_signal(struct master *, int sig);

/* Worker index of the current generation in a free slot. */
static void
spawn(struct master *m, size_t index)
{
	struct gen_slot	*gs;
	size_t		 k;
	pid_t		 pid;

	for (k = 1; k < m->m_nslots && m->m_w[k].w_pid != 0; k++)
		continue;
	if (k == m->m_nslots) {
		log_error(NULL, "worker %zu: no free slot", index);
		return;
	}
	if ((pid = fork()) < 0) {
		log_error(NULL, "worker %zu: fork: %s", index, strerror(errno));
		return;
	}
	if (pid == 0) {
		/* The worker: its signals back, gone with the master. */
		sigprocmask(SIG_SETMASK, &m->m_old, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		gs = gen_slot_use(k);
		gs->gl_pid = getpid();
		gs->gl_gen = m->m_gen;
		gs->gl_alive = 1;
		srv_worker(&m->m_s, index);
	}
	m->m_w[k] = (struct worker){ pid, index, m->m_gen, time(NULL) };
}

static size_t
free_slots(const struct master *m)
{
	size_t	k, n = 0;

	for (k = 1; k < m->m_nslots; k++)
		n += m->m_w[k].w_pid == 0;
	return (n);
}

static size_t
alive(const struct master *m)
{
	return (m->m_nslots - 1 - free_slots(m));
}

/* Every child that ended: its slot freed, a current one replaced. */
static void
reap(struct master *m)
{
	size_t		 k;
	pid_t		 pid;
	int		 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (k = 1; k < m->m_nslots && m->m_w[k].w_pid != pid; k++)
			continue;
		if (k == m->m_nslots)
			continue;
		gen_slot_at(k)->gl_alive = 0;
		if (m->m_w[k].w_gen == m->m_gen && !m->m_stop) {
			if (WIFSIGNALED(st))
				log_warn(NULL, "worker %zu (pid %ld) killed by "
				    "signal %d: starting another",
				    m->m_w[k].w_index, (long)pid,
				    WTERMSIG(st));
			else
				log_warn(NULL, "worker %zu (pid %ld) exited "
				    "with status %d: starting another",
				    m->m_w[k].w_index, (long)pid,
				    WEXITSTATUS(st));
			/* Marked for respawn_due(): pid 0, w_started kept. */
			m->m_w[k].w_pid = -1;
			continue;
		}
		log_info(NULL, "worker %zu (pid %ld) of generation %u "
		    "ended", m->m_w[k].w_index, (long)pid, m->m_w[k].w_gen);
		m->m_w[k].w_pid = 0;
	}
	respawn_due(m);
}

/* Replace the dead workers; one that died young waits a second. */
static void
respawn_due(struct master *m)
{
	time_t	now = time(NULL);
	size_t	k, index;

	for (k = 1; k < m->m_nslots; k++) {
		if (m->m_w[k].w_pid != -1 || m->m_stop)
			continue;
		if (now - m->m_w[k].w_started < YOUNG_SECONDS)
			continue;	/* the next timeout comes back */
		index = m->m_w[k].w_index;
		m->m_w[k].w_pid = 0;
		spawn(m, index);
	}
}

/* SIGHUP: the new config, a new generation; the old one drains. */
static void
reload(struct master *m)
{
	size_t	i;

	log_info(NULL, "SIGHUP: reloading");
	if (free_slots(m) < m->m_n) {
		log_error(NULL, "reload refused: %zu workers of earlier "
		    "generations are still draining", alive(m) - m->m_n);
		srv_reload_refused(&m->m_s);
		return;
	}
	if (srv_reload(&m->m_s) < 0)
		return;
	m->m_gen++;
	for (i = 0; i < m->m_n; i++)
		spawn(m, i);
	send_all(m, SIGQUIT, 1);
	log_info(NULL, "generation %u: %zu workers; the previous one "
	    "drains", m->m_gen, m->m_n);
}

/* sig to every worker (old_only: to those of earlier generations). */
static void
send_all(struct master *m, int sig, int old_only)
{
	size_t	k;

	for (k = 1; k < m->m_nslots; k++)
		if (m->m_w[k].w_pid > 0 &&
		    (!old_only || m->m_w[k].w_gen != m->m_gen))
			kill(m->m_w[k].w_pid, sig);
}

static void
on_signal(struct master *m, int sig)
{
	size_t	k;

	switch (sig) {
	case SIGCHLD:
		reap(m);
		break;
	case SIGHUP:
		if (m->m_stop) {
			log_warn(NULL, "SIGHUP: stopping, reload ignored");
			srv_reload_refused(&m->m_s);
		} else
			reload(m);
		break;
	case SIGUSR1:
		if (log_reopen() < 0)
			log_error(NULL, "reopen log: %s", strerror(errno));
		send_all(m, SIGUSR1, 0);
		break;
	case SIGQUIT:
	case SIGTERM:
	case SIGINT:
		if (m->m_stop == 0) {
			log_info(NULL, "signal %d: stopping %zu workers", sig,
			    alive(m));
			sd_notify(0, "STOPPING=1");
			m->m_stop = sig == SIGQUIT ? SIGQUIT : SIGTERM;
			m->m_stop_at = time(NULL);
			srv_quit(&m->m_s);	/* connects refused now */
			for (k = 1; k < m->m_nslots; k++)
				if (m->m_w[k].w_pid == -1)
					m->m_w[k].w_pid = 0;
		}
		send_all(m, m->m_stop, 0);
		break;
	}
}

int
master_main(struct cfg *cfg, const char *path, int level, size_t n)
{
	struct master	 m;
	struct timespec	 ts = { 1, 0 };
	sigset_t	 set;
	size_t		 i;
	int		 sig;

	memset(&m, 0, sizeof(m));
	m.m_n = n;
	m.m_nslots = 1 + 3 * n;
	if ((m.m_w = calloc(m.m_nslots, sizeof(*m.m_w))) == NULL)
		fatalx("out of memory");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &m.m_old);
	srv_init(&m.m_s, cfg, path, level, n);
	gen_slot_use(0)->gl_pid = getpid();
	for (i = 0; i < n; i++)
		spawn(&m, i);
	sd_notify(0, "READY=1");
	log_info(NULL, "started: %zu apps from %s, %zu workers",
	    cfg->c_napps, cfg->c_file, n);
	while (!m.m_stop || alive(&m) > 0) {
		if ((sig = sigtimedwait(&set, NULL, &ts)) > 0)
			on_signal(&m, sig);
		else
			respawn_due(&m);
		if (m.m_stop && time(NULL) - m.m_stop_at > STOP_GRACE_SECONDS)
			send_all(&m, SIGKILL, 0);
	}
	log_info(NULL, "exiting");
	srv_end(&m.m_s);
	free(m.m_w);
	return (0);
}
