#!/usr/bin/python3
"""Fake siteverify endpoint for tests/unit/gate/test_captcha.c and
tests/integration/test_captcha_slow.py (Debian's python3).

usage: captcha_peer.py DIR

Makes a test CA, a certificate for the address 127.0.0.1 signed by it and
a second, unrelated CA in DIR (ca.pem, other-ca.pem), then listens on two
free loopback ports and prints one line to stdout:

    http=P https=P

The path picks the provider whose answer is imitated: /turnstile,
/hcaptcha, /recaptcha (v2), /recaptcha3.  A good answer names the hostname
www.example.com (and, where the provider has them, action "contact" and
score 0.9).  The "response" field (the token) picks a fault:

  fail        success false, error-codes ["invalid-input-response"]
  badsecret   success false, error-codes ["invalid-input-secret"]
  badhost     hostname evil.example.net
  uphost      hostname WWW.Example.COM
  nohost      no hostname
  lowscore    score 0.1            edgescore   score 0.5
  noscore     no score             strscore    score "0.9"
  badaction   action "login"       noaction    no action
  types       success "true"       dupkey      two "success" keys
  array       a JSON array         trailing    JSON followed by junk
  garbage     an HTML page         empty       an empty 200 answer
  500         status 500 with a good JSON body
  redirect    302 to /ok
  huge        a good answer padded over 64 KiB, with Content-Length
  hugechunked the same, chunked (no Content-Length)
  close       the connection is closed without an answer
  slow        the answer comes after 3 s
  slow30      the answer comes after 30 s (a provider that hangs)

Anything else gets the good answer.  Each request is logged, before it is
answered, as one JSON line in DIR/peer.log: {"n", "path", "port" (the
client's), "type" (Content-Type), "raw" (the body), "fields" (the body
decoded, a list of [name, value])}.  Exits when stdin closes or on SIGTERM.
"""
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1 << 20
HOST = "www.example.com"


def openssl(*args):
    subprocess.run(("openssl",) + args, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_certs(d):
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=form2mail test %s" % ca,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign",
                "-keyout", os.path.join(d, ca + ".key"),
                "-out", os.path.join(d, ca + ".pem"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", os.path.join(d, "key.pem"),
            "-out", os.path.join(d, "cert.csr"))
    ext = os.path.join(d, "cert.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", os.path.join(d, "cert.csr"),
            "-CA", os.path.join(d, "ca.pem"),
            "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", ext,
            "-out", os.path.join(d, "cert.pem"))


def good(path):
    a = {"success": True, "challenge_ts": "2024-05-01T10:00:00Z",
         "hostname": HOST}
    if path == "/turnstile":
        a.update({"error-codes": [], "action": "contact", "cdata": "",
                  "metadata": {"interactive": False}})
    elif path == "/hcaptcha":
        a["credit"] = False
    elif path == "/recaptcha3":
        a.update({"score": 0.9, "action": "contact"})
    return a


def answer(path, token):
    """(status, body bytes or None for "close", extra headers, chunked)"""
    a = good(path)
    if token in ("fail", "badsecret"):
        a = {"success": False, "error-codes": [
            "invalid-input-response" if token == "fail"
            else "invalid-input-secret"]}
    elif token == "badhost":
        a["hostname"] = "evil.example.net"
    elif token == "uphost":
        a["hostname"] = "WWW.Example.COM"
    elif token == "nohost":
        del a["hostname"]
    elif token == "lowscore":
        a["score"] = 0.1
    elif token == "edgescore":
        a["score"] = 0.5
    elif token == "noscore":
        a.pop("score", None)
    elif token == "strscore":
        a["score"] = "0.9"
    elif token == "badaction":
        a["action"] = "login"
    elif token == "noaction":
        a.pop("action", None)
    elif token == "types":
        a["success"] = "true"
    elif token == "dupkey":
        return 200, b'{"success": false, "success": true, ' \
            b'"hostname": "www.example.com"}', {}, False
    elif token == "array":
        return 200, json.dumps([a]).encode(), {}, False
    elif token == "trailing":
        return 200, json.dumps(a).encode() + b" x", {}, False
    elif token == "garbage":
        return 200, b"<html><body>Bad gateway</body></html>", \
            {"Content-Type": "text/html"}, False
    elif token == "empty":
        return 200, b"", {}, False
    elif token == "500":
        return 500, json.dumps(a).encode(), {}, False
    elif token == "redirect":
        return 302, b"", {"Location": "/ok"}, False
    elif token in ("huge", "hugechunked"):
        a["cdata"] = "x" * 100000
        return 200, json.dumps(a).encode(), {}, token == "hugechunked"
    elif token == "close":
        return 0, None, {}, False
    elif token == "slow":
        time.sleep(3)
    elif token == "slow30":
        time.sleep(30)
    return 200, json.dumps(a).encode(), {}, False


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "captcha-peer"

    def log_message(self, fmt, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(n, MAX_BODY)) if n > 0 else b""
        text = raw.decode("ascii", "replace")
        fields = urllib.parse.parse_qsl(text, keep_blank_values=True)
        token = dict(fields).get("response", "")
        self.server.peer.log(self.path, self.client_address[1],
                             self.headers.get("Content-Type", ""), text,
                             fields)
        status, body, headers, chunked = answer(self.path, token)
        if body is None:
            self.close_connection = True
            return
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for k, v in headers.items():
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 4096):
                part = body[i:i + 4096]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def finish_request(self, request, client_address):
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        Handler(request, client_address, self)

    def handle_error(self, request, client_address):
        # A client that gave up (timeout, reset) is part of the tests.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Peer:
    def __init__(self, d):
        self.lock = threading.Lock()
        self.n = 0
        self.logf = open(os.path.join(d, "peer.log"), "a", buffering=1)

    def log(self, path, port, ctype, raw, fields):
        with self.lock:
            self.n += 1
            self.logf.write(json.dumps({
                "n": self.n, "path": path, "port": port, "type": ctype,
                "raw": raw, "fields": [list(f) for f in fields]}) + "\n")
            self.logf.flush()


def serve(peer, tls):
    s = Server(("127.0.0.1", 0), Handler)
    s.peer = peer
    s.tls = tls
    threading.Thread(target=s.serve_forever, daemon=True).start()
    return s.server_address[1]


def main():
    d = sys.argv[1]
    make_certs(d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "cert.pem"),
                        os.path.join(d, "key.pem"))
    peer = Peer(d)
    plain = serve(peer, None)
    tls = serve(peer, ctx)
    sys.stdout.write("http=%d https=%d\n" % (plain, tls))
    sys.stdout.flush()
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
