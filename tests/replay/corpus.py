#!/usr/bin/env python3
"""Malformed connections for tests/replay/run (issue N, item 4).

Writes DIR/TARGET-NNN files, TARGET naming the app they go to (fcgi,
pool, scgi, pp).  Deterministic (a fixed seed): the same corpus every
run, so two runs' RSS figures compare.  Each case is what one client
sends on one connection before it half-closes: broken framing, bad and
oversized params, interleaved or repeated ids, PROXY headers gone wrong,
and requests cut anywhere.
"""
import os
import random
import struct
import sys

rnd = random.Random(20261207)


def rec(t, rid, body=b"", ver=1, pad=0):
    return struct.pack("!BBHHBB", ver, t, rid, len(body), pad, 0) + body + \
        b"\0" * pad


def begin(rid, keep=0, role=1):
    return rec(1, rid, struct.pack("!HB5x", role, keep))


def kv(n, v):
    def ln(x):
        return bytes([x]) if x < 128 else struct.pack("!I", x | 0x80000000)
    return ln(len(n)) + ln(len(v)) + n + v


def params(rid, pairs):
    return rec(4, rid, b"".join(kv(n, v) for n, v in pairs))


BASE = [(b"SCRIPT_FILENAME", b"/nonexistent/ok.php"),
        (b"REQUEST_METHOD", b"GET"), (b"REMOTE_ADDR", b"127.0.0.1")]


def request(rid, pairs=BASE, keep=0):
    return begin(rid, keep) + params(rid, pairs) + rec(4, rid) + rec(5, rid)


def fcgi_cases():
    c = []
    good = request(1)
    # Framing: every version, unknown types, lengths past the data.
    for v in (0, 2, 255):
        c.append(rec(1, 1, b"\0\1\0\0\0\0\0\0", ver=v))
    for t in (0, 12, 99, 255):
        c.append(rec(t, 1, b"xx"))
    c.append(begin(1) + struct.pack("!BBHHBB", 1, 4, 1, 65535, 255, 0) +
             b"p" * 100)
    c.append(begin(1) + rec(4, 1, b"\x7f\x7f" + b"a" * 20))
    c.append(begin(1) + rec(4, 1, b"\xff\xff\xff\xff\x01abc"))
    c.append(begin(1, role=2) + params(1, BASE) + rec(4, 1))
    c.append(begin(1, role=9))
    c.append(begin(0) + params(0, BASE))
    c.append(rec(4, 1, b"\x01\x01ab"))            # PARAMS before BEGIN
    c.append(rec(5, 7, b"stdin"))                 # STDIN of no request
    c.append(begin(1) + begin(1))                 # the same id twice
    c.append(begin(1) + rec(2, 1))                # ABORT at once
    c.append(begin(1) + params(1, BASE) + rec(2, 1))
    c.append(rec(9, 0, kv(b"FCGI_MAX_CONNS", b"") + kv(b"FCGI_MPXS_CONNS",
             b"")))                               # GET_VALUES
    c.append(rec(9, 0, b"\x05"))                  # bad GET_VALUES
    # Bad names and values (400), oversized params (431), duplicates.
    for n, v in ((b"", b"x"), (b"A=B", b"x"), (b"A\nB", b"x"),
                 (b"HTTPS", b"on\0x"), (b"X", b"a\r\nb")):
        c.append(request(1, BASE + [(n, v)]))
    c.append(request(1, BASE + [(b"BIG", b"v" * 9000)]))
    c.append(request(1, BASE + [(b"H%d" % i, b"v" * 100)
                                for i in range(100)]))
    c.append(request(1, BASE + [(b"HTTP_X_FORWARDED_FOR",
             b", ".join(b"10.0.%d.%d" % (i, i) for i in range(80)))]))
    c.append(request(1, BASE + [(b"REMOTE_ADDR", b"not-an-ip"),
             (b"HTTP_X_FORWARDED_FOR", b"1.2.3.4")]))
    c.append(request(1, BASE + [(b"HTTP_X_FORWARDED_HOST", b"a" * 300),
             (b"HTTP_X_FORWARDED_PROTO", b"gopher")]))
    # Cut anywhere: the good request, every 7th byte.
    for k in range(1, len(good), 7):
        c.append(good[:k])
    # Random garbage and bit flips of the good request.
    for _ in range(25):
        c.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1,
                 300))))
    for _ in range(25):
        b = bytearray(good)
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.getrandbits(8)
        c.append(bytes(b))
    return c


def pool_cases():
    c = []
    # Interleaved PARAMS of three requests (issue 20), 17 at once, aborts
    # in the middle, a request left without its empty PARAMS.
    half = [params(i, BASE[:1]) for i in (1, 2, 3)]
    rest = [params(i, BASE[1:]) + rec(4, i) + rec(5, i) for i in (1, 2, 3)]
    c.append(begin(1, 1) + begin(2, 1) + begin(3, 1) + b"".join(half) +
             b"".join(rest))
    c.append(b"".join(begin(i, 1) for i in range(1, 18)))
    c.append(begin(1, 1) + begin(2, 1) + params(1, BASE) + rec(2, 2) +
             rec(4, 1) + rec(5, 1))
    c.append(begin(1, 1) + params(1, BASE))
    c.append(request(1, keep=1) + request(2, keep=1) + rec(2, 1))
    c.append(b"".join(request(i, keep=1) for i in range(1, 6)))
    c.append(request(1, keep=1) + b"\x01\x04")
    for _ in range(10):
        ids = list(range(1, rnd.randint(2, 8)))
        recs = [begin(i, 1) for i in ids]
        recs += [params(i, BASE) for i in ids] + [rec(4, i) for i in ids]
        rnd.shuffle(recs)
        c.append(b"".join(recs))
    return c


def scgi_cases():
    def ns(h):
        return b"%d:" % len(h) + h + b","
    hdr = b"CONTENT_LENGTH\x000\x00SCGI\x001\x00REQUEST_METHOD\x00GET\x00"
    c = [ns(hdr)[:k] for k in range(1, len(ns(hdr)), 9)]
    c += [b"99999999999:", b"12:abc", b"x:", b":", b"5:abcde;",
          ns(b"SCGI\x001\x00"), ns(b"CONTENT_LENGTH\x00-1\x00SCGI\x001\x00"),
          ns(b"CONTENT_LENGTH\x0010\x00SCGI\x001\x00") + b"short",
          ns(b"A\x00B"), ns(hdr + b"X\x00" + b"y" * 9000 + b"\x00")]
    return c


def pp_cases():
    v2 = b"\r\n\r\n\x00\r\nQUIT\n"
    addr = bytes([127, 0, 0, 1, 127, 0, 0, 1, 0x13, 0x88, 0x01, 0xbb])
    c = [b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n" + request(1),
         b"PROXY TCP4 999.2.3.4 5.6.7.8 1 2\r\n", b"PROXY " + b"x" * 120,
         b"PROXY UNKNOWN\r\n" + request(1), b"PROXY TCP6 ::1 ::1 1\r\n",
         v2 + b"\x21\x11\x00\x0c" + addr + request(1),
         v2 + b"\x31\x11\x00\x0c" + addr, v2 + b"\x2f\x11\x00\x0c" + addr,
         v2 + b"\x21\x11\x00\x04" + addr[:4],
         v2 + b"\x21\x11\x00\x10" + addr + b"\x20\x00\x09\x07" + b"\0" * 3,
         v2 + b"\x21\x11\x00\x14" + addr + b"\x02\x00\x05" + b"a\x01b",
         v2 + b"\x20\x00\x00\x00" + request(1), b"GET / HTTP/1.0\r\n\r\n"]
    h = v2 + b"\x21\x11\x00\x0c" + addr
    c += [h[:k] for k in range(1, len(h), 3)]
    return c


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for target, cases in (("fcgi", fcgi_cases()), ("pool", pool_cases()),
                          ("scgi", scgi_cases()), ("pp", pp_cases())):
        for i, data in enumerate(cases):
            with open(os.path.join(out, "%s-%03d" % (target, i)), "wb") as f:
                f.write(data)
            n += 1
    print("replay: %d cases in %s" % (n, out))


main()
