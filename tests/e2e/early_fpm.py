#!/usr/bin/env python3
"""A FastCGI application that answers early, for e2e 84.

    python3 tests/e2e/early_fpm.py SOCKET

Listens on the unix SOCKET and keeps its connections (as php-fpm does with
FCGI_KEEP_CONN).  Each request is answered as soon as its empty PARAMS
record comes, before its STDIN: "Status: 200" and "early N" (N its count
on the connection), then END_REQUEST.  What follows on the connection is
read strictly as records: STDIN of an answered request is skipped whole,
and anything else than a record of version 1 is logged on stderr as
"bad record ..." and the connection closed.  php-fpm does not answer
early, but a FastCGI application may (and php-fpm's fastcgi_finish_request
ends a request whose body was not read).  Stdlib only.
"""
import os
import socket
import struct
import sys
import threading


def records(conn):
    """Yield (type, id, content) until EOF; None on a bad header."""
    buf = b""
    while True:
        while len(buf) >= 8:
            ver, typ, rid, clen, pad = struct.unpack(">BBHHBx", buf[:8])
            if ver != 1:
                yield None
                return
            if len(buf) < 8 + clen + pad:
                break
            yield typ, rid, buf[8:8 + clen]
            buf = buf[8 + clen + pad:]
        data = conn.recv(65536)
        if not data:
            return
        buf += data


def answer(conn, rid, n):
    body = b"Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nearly %d\n" % n
    out = struct.pack(">BBHHBx", 1, 6, rid, len(body), 0) + body
    out += struct.pack(">BBHHBx", 1, 6, rid, 0, 0)
    out += struct.pack(">BBHHBx", 1, 3, rid, 8, 0) + bytes(8)
    conn.sendall(out)


def serve(conn):
    n = 0
    with conn:
        for rec in records(conn):
            if rec is None:
                print("bad record on a kept connection", file=sys.stderr,
                      flush=True)
                return
            typ, rid, content = rec
            if typ == 4 and content == b"":
                n += 1
                answer(conn, rid, n)


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


main()
