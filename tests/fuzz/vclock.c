/*
 * fuzz_conn's clock (issue N: "the event base's own clock control"): the
 * monotonic clocks run fast whenever the process would sleep.
 *
 * Everything fuzz_conn drives lives in one process and one event loop:
 * the daemon's connection, the harness's client end of a socketpair and
 * the scripted php-fpm on a unix socket.  A byte written to a unix socket
 * is readable at once, so when epoll finds nothing ready, nothing becomes
 * ready until a timer fires: epoll_wait() then returns at once and the
 * clock is moved on by the timeout the loop asked for, as if it had
 * slept.  The daemon's 10-30 ms timers cost no wall time, the harness's
 * deadlines (SETTLE_MS ...) are read on the same clock, and a stall
 * rescued by a timer still shows as one (its timeout is counted from the
 * last byte on that clock).  An input runs in its CPU time, not in the
 * sum of its timers.
 *
 * The process's own definitions of clock_gettime() and epoll_wait() take
 * the place of libc's for libevent and the daemon (the executable comes
 * first in the dynamic linker's search), and of ASan's interceptors of
 * the two (weak): ASan no longer checks what they write, nothing else.  FUZZ_CONN_REALTIME=1 in the
 * environment turns it off (real time, as before: 100-250 inputs a second).
 * The wall clocks (CLOCK_REALTIME, time()) are left alone.
 */
#include <sys/epoll.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "tests/fuzz/fuzz_conn.h"

static int	(*real_gettime)(clockid_t, struct timespec *);
static int	(*real_wait)(int, struct epoll_event *, int, int);
static int	 state;		/* 0 not yet read, 1 on, -1 off */
static int64_t	 skew_ns;	/* added to the monotonic clocks */

static int
vclock_on(void)
{
	const char	*e;

	if (state == 0) {
		real_gettime = (int (*)(clockid_t, struct timespec *))
		    dlsym(RTLD_NEXT, "clock_gettime");
		real_wait = (int (*)(int, struct epoll_event *, int, int))
		    dlsym(RTLD_NEXT, "epoll_wait");
		if (real_gettime == NULL || real_wait == NULL)
			abort();
		e = getenv("FUZZ_CONN_REALTIME");
		state = (e != NULL && e[0] == '1') ? -1 : 1;
	}
	return (state == 1);
}

int64_t
vclock_skew_ms(void)
{
	return (skew_ns / 1000000);
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int	rc, on = vclock_on();
	int64_t	ns;

	rc = real_gettime(id, ts);
	if (rc != 0 || !on || (id != CLOCK_MONOTONIC &&
	    id != CLOCK_MONOTONIC_COARSE && id != CLOCK_MONOTONIC_RAW &&
	    id != CLOCK_BOOTTIME))
		return (rc);
	ns = (int64_t)ts->tv_nsec + skew_ns % 1000000000;
	ts->tv_sec += (time_t)(skew_ns / 1000000000 + ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
	return (0);
}

int
epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	int	n;

	if (!vclock_on() || timeout <= 0)
		return (real_wait(epfd, ev, max, timeout));
	n = real_wait(epfd, ev, max, 0);
	if (n == 0)
		skew_ns += (int64_t)timeout * 1000000;
	return (n);
}
