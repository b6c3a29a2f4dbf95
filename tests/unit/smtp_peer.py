#!/usr/bin/python3
"""SMTP peer for tests/unit/deliver/test_smtp.c (aiosmtpd 1.4, Debian's python3).

usage: smtp_peer.py DIR USER PASSWORD

Makes a test CA, a certificate for "localhost" signed by it and a second,
unrelated CA in DIR (ca.pem, other-ca.pem), then listens on free loopback
ports and prints one line to stdout:

    implicit=P starttls=P plain=P closed=P

  implicit  smtps: TLS from the first octet, AUTH required
  starttls  smtp: STARTTLS required before anything else, AUTH required
  plain     smtp: no STARTTLS offered, no AUTH
  closed    a port nobody listens on

Faults are chosen by the local part of an address:
  MAIL FROM  mail451 / mail550        that reply to MAIL
  RCPT TO    rcpt451 / rcpt550        that reply to RCPT
             drop                     connection reset at RCPT, no reply
  message    data452 / data554        that reply after the final dot
             stall                    no reply after the final dot for 30 s
             close                    250, then the server closes the
                                      connection (an idle timeout)
             idle421                  250, then an unasked 421 and close
                                      (Postfix's idle timeout)

Events go to DIR/peer.log, one per line: "connect NAME", "auth NAME ok",
"auth NAME fail", "message NAME N"; message N is saved as DIR/msg-N.eml
exactly as received (dot-stuffing removed).  Exits when stdin closes or on
SIGTERM.  Run with -W ignore.
"""
import asyncio
import logging
import os
import signal
import socket
import ssl
import subprocess
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


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
            "-nodes", "-subj", "/CN=localhost",
            "-keyout", os.path.join(d, "key.pem"),
            "-out", os.path.join(d, "cert.csr"))
    ext = os.path.join(d, "cert.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", os.path.join(d, "cert.csr"),
            "-CA", os.path.join(d, "ca.pem"),
            "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", ext,
            "-out", os.path.join(d, "cert.pem"))


class Peer:
    def __init__(self, d, user, password):
        self.dir = d
        self.user = user.encode()
        self.password = password.encode()
        self.log = open(os.path.join(d, "peer.log"), "a", buffering=1)
        self.n = 0

    def event(self, s):
        self.log.write(s + "\n")


class PeerSMTP(SMTP):
    def __init__(self, peer, name, *args, **kwargs):
        self.peer = peer
        self.name = name
        super().__init__(Handler(peer, name), *args, **kwargs)

    def connection_made(self, transport):
        if self.transport is None:
            self.peer.event("connect " + self.name)
        super().connection_made(transport)


def local(address):
    return address.split("@", 1)[0].lower()


class Handler:
    def __init__(self, peer, name):
        self.peer = peer
        self.name = name

    async def handle_MAIL(self, server, session, envelope, address, options):
        lp = local(address)
        if lp == "mail451":
            return "451 4.3.0 Sender check deferred"
        if lp == "mail550":
            return "550 5.7.1 Sender refused"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        lp = local(address)
        if lp == "rcpt451":
            return "451 4.2.0 Mailbox busy"
        if lp == "rcpt550":
            return "550 5.1.1 No such user"
        if lp == "drop":
            server.transport.abort()
            return "421 4.4.2 Gone"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        lps = [local(a) for a in envelope.rcpt_tos]
        if "data452" in lps:
            return "452 4.3.1 Insufficient system storage"
        if "data554" in lps:
            return "554 5.7.1 Message refused"
        if "stall" in lps:
            await asyncio.sleep(30)
        self.peer.n += 1
        path = os.path.join(self.peer.dir, "msg-%d.eml" % self.peer.n)
        with open(path, "wb") as f:
            f.write(envelope.original_content)
        self.peer.event("message %s %d" % (self.name, self.peer.n))
        if "close" in lps:
            t = server.transport
            server.loop.call_later(0.2, lambda: t.close())
        if "idle421" in lps:
            t = server.transport
            server.loop.call_later(0.2, lambda: (t.write(
                b"421 4.4.2 peer.test Error: timeout exceeded\r\n"),
                t.close()))
        return "250 2.0.0 Queued as %d" % self.peer.n


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    d, user, password = argv[1:]
    # Refused handshakes and deliberate faults are expected here.
    logging.getLogger("mail.log").setLevel(logging.CRITICAL + 1)
    warnings.simplefilter("ignore")
    make_certs(d)
    peer = Peer(d, user, password)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(os.path.join(d, "cert.pem"),
                        os.path.join(d, "key.pem"))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and
              auth_data.login == peer.user and
              auth_data.password == peer.password)
        peer.event("auth %s %s" % (server.name, "ok" if ok else "fail"))
        return AuthResult(success=ok, handled=False)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    common = dict(hostname="peer.test", loop=loop)
    factories = {
        # aiosmtpd 1.4.3 does not count implicit TLS as TLS for AUTH.
        "implicit": (lambda: PeerSMTP(
            peer, "implicit", authenticator=authenticator,
            auth_required=True, auth_require_tls=False, **common), ctx),
        "starttls": (lambda: PeerSMTP(
            peer, "starttls", tls_context=ctx, require_starttls=True,
            authenticator=authenticator, auth_required=True, **common),
            None),
        "plain": (lambda: PeerSMTP(peer, "plain", **common), None),
    }
    ports = {}
    servers = []
    for name, (factory, sslctx) in factories.items():
        srv = loop.run_until_complete(loop.create_server(
            factory, "127.0.0.1", 0, ssl=sslctx))
        servers.append(srv)
        ports[name] = srv.sockets[0].getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        ports["closed"] = s.getsockname()[1]

    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_reader(sys.stdin.fileno(), lambda: (
        loop.stop() if not os.read(sys.stdin.fileno(), 512) else None))
    print(" ".join("%s=%d" % kv for kv in ports.items()), flush=True)
    loop.run_forever()
    for srv in servers:
        srv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
