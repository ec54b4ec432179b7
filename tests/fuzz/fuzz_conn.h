/*
 * fuzz_conn: a whole front connection of the real daemon/ code, driven
 * over a socketpair on a real event base (fuzz_conn.c), with a scripted
 * php-fpm on a unix socket served by the same loop (fpm_script.c).
 * Nothing here is part of the daemon.
 */
#ifndef FCN_TESTS_FUZZ_CONN_H
#define FCN_TESTS_FUZZ_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/*
 * The scripted php-fpm's answer to one request, a byte: from the FZ
 * param ("FZ=HH.TAG", HH in hex) or the input's default.
 *   bits 0-2  FPM_NORMAL, FPM_DELAY, FPM_CUT, FPM_REFUSE, FPM_EARLY,
 *             FPM_PIECES, FPM_GARBAGE (7 and 0 are both normal)
 *   bits 3-4  STDOUT body size: 16, 700, 9000 or 100000 bytes; also the
 *             delay (1 + 2 * bits 3-5 ms, from a budget per input)
 *   bit 5     a STDERR record first
 *   bit 6     close the connection after END_REQUEST, even when kept
 *             (pm.max_requests)
 *   bit 7     records padded to 8
 */
enum fpm_mode {
	FPM_NORMAL,
	FPM_NORMAL2,
	FPM_DELAY,	/* answer after a few ms */
	FPM_CUT,	/* half the answer, then close */
	FPM_REFUSE,	/* close at the empty PARAMS, before any byte */
	FPM_EARLY,	/* answer at the empty PARAMS, before the STDIN */
	FPM_PIECES,	/* the answer in eight writes, a loop pass apart */
	FPM_GARBAGE,	/* the first record, then a version-2 header */
};

/* Per-input switches of the scripted php-fpm (the input's third byte). */
#define FPM_F_REFUSE_MASK	0x03	/* close the first 0-3 accepted
					   connections at once */
#define FPM_F_VALUES_CLOSE	0x04	/* close after GET_VALUES_RESULT */
#define FPM_F_SMALL_BUF		0x08	/* 4 KiB socket buffers */
#define FPM_F_SLOW_READ		0x10	/* read, then 1 ms without reading
					   (16 times a connection): the
					   daemon's writes back up */

/* Listen on path in base; 0, or -1 with errno. */
int		 fpm_start(struct event_base *, const char *path);
/* A new input: the default answer, its switches, a fresh delay budget. */
void		 fpm_input(uint8_t defbeh, uint8_t flags);
/* Connections the daemon has open to the scripted php-fpm now. */
size_t		 fpm_open(void);
/* BEGIN_REQUESTs and answers of this input (for the report). */
void		 fpm_counts(unsigned *begins, unsigned *answers);

/* How far vclock.c has moved the monotonic clocks on, in ms. */
int64_t		 vclock_skew_ms(void);

/*
 * An invariant failed: print what and the input's trace (the last log
 * lines, the ops), then abort() so that libFuzzer keeps the input.
 */
void		 fz_fail(const char *fmt, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
/* Milliseconds on the monotonic clock. */
double		 fz_now(void);

#endif
