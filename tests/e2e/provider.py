#!/usr/bin/env python3
"""A fake range-list provider for e2e 82 (fcgi-normalizer-ranges update).

    python3 tests/e2e/provider.py PORT

Serves canned answers by path on 127.0.0.1:PORT: Cloudflare-style text
lists (good and every kind of bad), AWS ip-ranges.json and Fastly
public-ip-list documents, HTTP errors, a slow answer and redirects.
Stdlib only; one thread per request, so the slow answer blocks nothing.
"""
import http.server
import json
import sys
import time

V4 = ["173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22",
      "103.31.4.0/22", "141.101.64.0/18", "108.162.192.0/18"]
V6 = ["2400:cb00::/32", "2606:4700::/32", "2803:f800::/32",
      "2405:b500::/32"]


def text(lines, end="\n"):
    return ("\n".join(lines) + end).encode()


AWS = {
    "syncToken": "1764000000",
    "createDate": "2026-11-24-12-00-00",
    "prefixes": [
        {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2",
         "service": "AMAZON", "network_border_group": "ap-northeast-2"},
        {"ip_prefix": "120.52.22.96/27", "region": "GLOBAL",
         "service": "CLOUDFRONT", "network_border_group": "GLOBAL"},
        {"ip_prefix": "205.251.249.0/24", "region": "GLOBAL",
         "service": "CLOUDFRONT", "network_border_group": "GLOBAL"},
        {"ip_prefix": "13.113.196.64/26", "region": "ap-northeast-1",
         "service": "CLOUDFRONT_ORIGIN_FACING",
         "network_border_group": "ap-northeast-1"},
        {"ip_prefix": "52.15.127.128/26", "region": "us-east-2",
         "service": "EC2", "network_border_group": "us-east-2"},
        {"ip_prefix": "205.251.249.0/24", "region": "GLOBAL",
         "service": "AMAZON", "network_border_group": "GLOBAL"},
    ],
    "ipv6_prefixes": [
        {"ipv6_prefix": "2600:9000:2000::/36", "region": "GLOBAL",
         "service": "CLOUDFRONT", "network_border_group": "GLOBAL"},
        {"ipv6_prefix": "2600:1f18::/33", "region": "us-east-1",
         "service": "EC2", "network_border_group": "us-east-1"},
        {"ipv6_prefix": "2600:9000:1000::/36", "region": "GLOBAL",
         "service": "CLOUDFRONT_ORIGIN_FACING",
         "network_border_group": "GLOBAL"},
    ],
}


def aws_variant(change):
    doc = json.loads(json.dumps(AWS))
    change(doc)
    return json.dumps(doc, indent=2).encode()


FASTLY = {"addresses": ["23.235.32.0/20", "43.249.72.0/22"],
          "ipv6_addresses": ["2a04:4e40::/32", "2a04:4e42::/32"]}

BODIES = {
    # Cloudflare publishes without a final newline.
    "/v4": text(V4, end=""),
    "/v6": text(V6),
    # One more range, one duplicate (dropped), CRLF and blank lines.
    "/v4-bigger": ("\r\n".join(V4 + ["", "198.51.100.0/24", V4[0]])
                   + "\r\n").encode(),
    "/html": b"<!DOCTYPE html>\n<html><head><title>Just a moment..."
             b"</title></head><body>Checking your browser</body></html>\n",
    "/empty": b"",
    "/not-cidr": text(V4 + ["www.cloudflare.com"]),
    "/all-v4": text(V4 + ["0.0.0.0/0"]),
    "/all-v6": text(V6 + ["::/0"]),
    "/private": text(V4 + ["10.0.0.0/8"]),
    "/private-inside": text(V4 + ["192.168.10.0/24"]),
    "/loopback": text(V4 + ["127.0.0.0/8"]),
    "/cgnat": text(V4 + ["100.64.0.0/10"]),
    "/linklocal-v6": text(V6 + ["fe80::/10"]),
    "/ula": text(V6 + ["fd00::/8"]),
    "/mapped": text(V6 + ["::ffff:198.51.100.0/120"]),
    "/hostbits": text(V4 + ["198.51.100.1/24"]),
    "/shrunk": text(V4[:2]),
    "/big": b"198.51.100.0/24\n" * (5 * 1024 * 1024 // 16 + 1),
    "/aws.json": json.dumps(AWS, indent=2).encode(),
    "/aws-bad.json": json.dumps(AWS).encode()[:-40],
    "/aws-trailing.json": json.dumps(AWS).encode() + b"\n{}",
    "/aws-nofield.json": aws_variant(lambda d: d.pop("ipv6_prefixes")),
    "/aws-number.json": aws_variant(
        lambda d: d["prefixes"][1].update(ip_prefix=1207959552)),
    "/aws-private.json": aws_variant(
        lambda d: d["prefixes"][2].update(ip_prefix="172.16.0.0/12")),
    "/fastly.json": json.dumps(FASTLY).encode(),
    "/fastly-nonstring.json": json.dumps(
        {"addresses": ["23.235.32.0/20", None],
         "ipv6_addresses": FASTLY["ipv6_addresses"]}).encode(),
    "/fastly-html.json": b"<html><body>Service Unavailable</body></html>",
}

REDIRECTS = {
    "/redirect": "/v4-bigger",
    "/redirect-loop": "/redirect-loop",
}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write("provider: " + (fmt % args) + "\n")

    def answer(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path
        if path in BODIES:
            kind = "application/json" if path.endswith(".json") else \
                "text/html" if "html" in path else "text/plain"
            self.answer(200, BODIES[path], kind)
        elif path in REDIRECTS:
            self.send_response(302)
            self.send_header("Location", REDIRECTS[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/503":
            self.answer(503, b"<html>Service Unavailable</html>",
                        "text/html")
        elif path == "/slow":
            # Headers and half the list at once, the rest 3 s later: only
            # a limit on the whole transfer catches it.
            body = text(V4)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:20])
            self.wfile.flush()
            time.sleep(3)
            try:
                self.wfile.write(body[20:])
            except OSError:
                pass
        else:
            self.answer(404, b"not found\n")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass	# a client that gave up (the slow answer) is expected


if __name__ == "__main__":
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
