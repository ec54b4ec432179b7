#!/usr/bin/env python3
"""Seeds of fuzz_conn (tests/fuzz/corpus/conn/), in the input format
described at the top of fuzz_conn.c.  Regenerate with
    python3 tests/fuzz/conn_seeds.py tests/fuzz/corpus/conn
"""
import os
import sys

APPS = {"fcgi": 0, "pool": 1, "scgi": 2, "proxy": 3, "pool2": 4}
BYTEWISE, SMALLBUF, PREWRITE = 0x08, 0x10, 0x20
# pick_id(): the selector of each id
ID = {1: 0, 2: 1, 3: 2, 4: 6, 5: 7, 6: 10, 17: 11}
NOKEEP = 0x30
# scripted php-fpm answers (fuzz_conn.h)
NORMAL, DELAY, CUT, REFUSE, EARLY, PIECES, GARBAGE = 0, 2, 3, 4, 5, 6, 7


def raw(b):
    return bytes([0, len(b) - 1]) + b


def begin(i, keep=True, b=0):
    return bytes([1, ID[i] | (0 if keep else NOKEEP), b])


def param(i, pair, c=0, form=0, cut=0):
    """pair: the table of pairs_for(); form 0 one record, 1 two,
    2 cut with the tail kept for ptail(), 3 padded."""
    return bytes([2, ID[i] | form << 4, pair, c, cut])


SCRIPT, METHOD, FZ, RADDR, XFF, STATUS, PING, BIG = range(8)


def pend(i):
    return bytes([3, ID[i]])


def stdin(i, n=0):
    return bytes([4, ID[i], n])


def abort(i):
    return bytes([5, ID[i]])


def values(v=0):
    return bytes([6, v])


def split(at):
    return bytes([7, at])


SHUT, CLOSE, PAUSE = bytes([8]), bytes([9]), bytes([11])


def loop(ms):
    return bytes([10, ms // 2])


def reload(ms=0, changed=False):
    """A reload (listener_update()), of the same config or of the changed
    one, then the loop for ms."""
    return bytes([10, (0xb0 if changed else 0xa0) | ms // 2])


def bg(a=6):
    """A request on a second connection to the app (php-fpm answers after
    1 + 2 * (a & 7) ms), then a loop pass."""
    return bytes([10, 0xc0 | a])


BGCLOSE = bytes([10, 0xd0])


def req(i, keep=True, beh=0, c=0):
    """c & 7: 5 status page (c >> 3: query), 6 ping, 7 a body of
    (c >> 3) * 8 bytes; else SCRIPT_NAME=/idN."""
    return bytes([12, ID[i] | (0 if keep else NOKEEP), beh, c])


def big(i, k):
    return bytes([14, ID[i], k])


def bad(v, b=0):
    return bytes([15, v, b])


def ptail(i):
    return bytes([16, ID[i]])


BATCH = bytes([17])    # the records up to the next BATCH in one write


def scgi_header(length, beh=0, var=0):
    return bytes([1, var, 0, length, beh])


def scgi_body(n):
    return bytes([2, n - 1])


def seed(app, ops, flags=0, beh=0, fpm=0, pp=b""):
    return bytes([APPS[app] | flags, beh, fpm]) + pp + b"".join(ops)


# Issue J (e2e 36): three requests whose PARAMS interleave, a pair of
# id 1 cut across its two PARAMS records with other records between.
J = [begin(1), loop(2), begin(2), param(1, FZ, 0x00),
     param(1, SCRIPT, form=2, cut=5), loop(2), param(2, SCRIPT),
     param(2, FZ, 0x00), begin(3), loop(2), ptail(1), param(3, SCRIPT),
     param(3, FZ, 0x00), loop(2), pend(2), pend(1), loop(2), stdin(2),
     pend(3), stdin(3), loop(2), stdin(1)]
J_NOSLEEP = [op for op in J if op[0] != 10]

SEEDS = {
    "j-interleaved-pool": seed("pool", J),
    "j-interleaved-pool-nosleep": seed("pool", J_NOSLEEP),
    "j-interleaved-pool-bytewise": seed("pool", J_NOSLEEP, BYTEWISE),
    "j-interleaved-pool-onewrite": seed("pool", [BATCH] + J_NOSLEEP +
                                        [BATCH]),
    "j-interleaved-pool-twowrites": seed("pool", [BATCH] + J_NOSLEEP[:9] +
                                         [BATCH, BATCH] + J_NOSLEEP[9:] +
                                         [BATCH]),
    "j-interleaved-pool2": seed("pool2", J),
    "proxy-interleaved-full": seed("proxy", J_NOSLEEP,
                                   pp=bytes([3, 7, 0, 0])),
    "fcgi-request": seed("fcgi", [req(1, keep=False)]),
    "fcgi-keep-three": seed("fcgi", [req(1), req(1, beh=0x08), req(1)]),
    "fcgi-prewrite": seed("fcgi", [req(1, keep=False)], PREWRITE),
    "fcgi-split": seed("fcgi", [split(21), req(1, keep=False)]),
    "fcgi-values": seed("fcgi", [values(), req(1)], fpm=0x04),
    "fcgi-abort-before-params": seed("fcgi", [begin(1), param(1, SCRIPT),
                                              abort(1)]),
    "fcgi-abort-after-params": seed("fcgi", [begin(1), param(1, SCRIPT),
                                             pend(1), abort(1), stdin(1)]),
    "fcgi-half-close": seed("fcgi", [begin(1), param(1, SCRIPT), pend(1),
                                     SHUT]),
    "fcgi-bad-version": seed("fcgi", [req(1), bad(0)]),
    "fcgi-cut": seed("fcgi", [req(1, beh=CUT | 0x10)]),
    "fcgi-early": seed("fcgi", [begin(1), param(1, FZ, EARLY), pend(1),
                                loop(4), stdin(1, 5), stdin(1)]),
    "pool-request": seed("pool", [req(1, beh=0x08)]),
    "pool-request-close": seed("pool", [req(1, keep=False)]),
    "pool-four-queued": seed("pool", [req(1, beh=DELAY | 0x10),
                                      req(2, beh=DELAY), req(3, beh=DELAY),
                                      req(4), req(5)]),
    "pool-five-onewrite": seed("pool", [BATCH, req(1, beh=DELAY),
                                        req(2, beh=DELAY), req(3), req(4),
                                        req(5), BATCH]),
    "pool-abort-before-params": seed("pool", [begin(1), begin(2),
                                              param(1, SCRIPT), abort(1),
                                              param(2, SCRIPT), pend(2),
                                              stdin(2)]),
    "pool-values": seed("pool", [values(), req(1), values(2)]),
    "pool-half-close": seed("pool", [req(1, beh=DELAY), SHUT]),
    "pool-close": seed("pool", [req(1, beh=DELAY | 0x18), loop(2), CLOSE]),
    "pool-431": seed("pool", [begin(1), param(1, BIG, 200), pend(1),
                              stdin(1)]),
    "pool-big-stdin": seed("pool", [begin(1), param(1, SCRIPT), pend(1),
                                    big(1, 3), stdin(1)], SMALLBUF),
    "pool-pause-big-answer": seed("pool", [PAUSE, req(1, beh=0x18),
                                           req(2, beh=0x18), loop(10),
                                           PAUSE], SMALLBUF),
    "pool-pieces": seed("pool", [req(1, beh=PIECES | 0x08),
                                 req(2, beh=PIECES)]),
    "pool-garbage": seed("pool", [req(1, beh=GARBAGE), req(2)]),
    "pool-refuse": seed("pool", [req(1, beh=REFUSE), req(2)]),
    "pool-fpm-refuses-accept": seed("pool", [req(1), req(2)], fpm=0x02),
    "pool-max-requests": seed("pool", [req(1, beh=0x40), req(1), req(1)]),
    "pool2-status": seed("pool2", [req(1, c=5 | 1 << 3), req(2, c=6)]),
    "pool2-dead-upstream": seed("pool2", [req(1), req(2), req(3)]),
    "pool2-queue": seed("pool2", [BATCH, req(1, beh=DELAY), req(2, beh=DELAY),
                                  req(3), req(4), BATCH]),
    "pool2-queue-timeout": seed("pool2", [BATCH, req(1, beh=DELAY | 0x38),
                                          req(2, beh=DELAY | 0x38), req(3),
                                          BATCH]),
    "pool-slow-php-fpm": seed("pool", [begin(1), param(1, SCRIPT), pend(1),
                                       big(1, 7), stdin(1)], fpm=0x18),
    "proxy-v1-request": seed("proxy", [req(1)], pp=bytes([0, 7, 0, 0])),
    "proxy-v2-request": seed("proxy", [req(1, keep=False)],
                             pp=bytes([3, 9, 0, 0])),
    "proxy-v2-ssl": seed("proxy", [req(1)],
                         pp=bytes([5, 1, 0, 4]) + b"\x30\x82\x01\x00"),
    "proxy-v2-authority-split": seed("proxy", [req(1)],
                                     pp=bytes([4 | 8, 5, 3, 9]) + b"host."),
    "proxy-v2-local": seed("proxy", [req(1)], pp=bytes([6, 0, 0, 0])),
    "pool-reload-queued": seed("pool", [BATCH, req(1, beh=DELAY),
                                        req(2, beh=DELAY), req(3, beh=DELAY),
                                        req(4), req(5), BATCH, reload(2),
                                        req(6)]),
    "pool-reload-changed": seed("pool", [BATCH, req(1, beh=DELAY),
                                         req(2, beh=DELAY), req(3), req(4),
                                         BATCH, reload(0, True), req(5),
                                         reload(4)]),
    "fcgi-reload-changed": seed("fcgi", [begin(1), param(1, SCRIPT),
                                         reload(0, True), pend(1), stdin(1),
                                         req(2)]),
    "pool2-reload-queued": seed("pool2", [BATCH, req(1, beh=DELAY),
                                          req(2, beh=DELAY), req(3), req(4),
                                          BATCH, reload(0), req(5)]),
    "pool2-reload-changed": seed("pool2", [req(1, beh=DELAY),
                                           req(2, beh=DELAY),
                                           reload(2, True), req(3)]),
    "proxy-reload-changed": seed("proxy", [req(1, beh=DELAY),
                                           reload(0, True), req(2)],
                                 pp=bytes([0, 7, 0, 0])),
    "scgi-reload": seed("scgi", [scgi_header(5), reload(2),
                                 scgi_body(5)]),
    "pool-bg-queue": seed("pool", [bg(6), bg(6), bg(6), req(1), req(2),
                                   loop(10)]),
    "pool-bg-close": seed("pool", [bg(6), bg(6), bg(6), req(1), BGCLOSE,
                                   req(2)]),
    "pool-bg-reload": seed("pool", [bg(6), bg(5), bg(6), req(1), reload(0),
                                    req(2), reload(0, True), bg(1), req(3)]),
    "pool2-bg-queue-timeout": seed("pool2", [bg(7), bg(7), bg(7), req(1),
                                             req(2), loop(20)]),
    "fcgi-bg": seed("fcgi", [bg(4), req(1), bg(4), req(2)]),
    "proxy-bg": seed("proxy", [bg(6), bg(6), req(1), req(2), BGCLOSE,
                               req(3)], pp=bytes([0, 7, 0, 0])),
    "scgi-request": seed("scgi", [scgi_header(5), scgi_body(5)]),
    "scgi-get": seed("scgi", [scgi_header(0, beh=0x08)]),
    "scgi-bytewise": seed("scgi", [scgi_header(3), scgi_body(3)], BYTEWISE),
    "scgi-no-scgi": seed("scgi", [scgi_header(0, var=5)]),
    "scgi-stall-body": seed("scgi", [scgi_header(40), scgi_body(5)]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/conn"
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
