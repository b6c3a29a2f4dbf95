"""A programmable SMTP submission peer for fault-injection tests (aiosmtpd
1.4, Debian's python3-aiosmtpd; run the test with /usr/bin/python3).

    peer = SmtpPeer(pki, "forms@example.test", "s3cret-pw").start()
    cfg["smtp"]["url"] = peer.url()            # smtps://localhost:P
    peer.set({"rcpt": "451 4.2.0 Mailbox busy"})
    ...
    peer.count("<id@example.test>")        # accepted transactions
    peer.stop()

It runs in a thread of the test process, on its own event loop, with two
listeners on 127.0.0.1:

  port           implicit TLS (smtps), AUTH PLAIN/LOGIN required
  starttls_port  STARTTLS required before anything else, then AUTH

Both present pki.cert (localhost, 127.0.0.1) unless the script says
otherwise, and accept AUTH only for the configured user and password.

The script is a dict {stage: action}; set() replaces it and aborts every
open connection (as a restarted server would), so the next message opens a
new one and meets every stage.  Stages:

  tls            "wrong_cert": present pki.wrong_cert (wrong.invalid);
                 "handshake_fail": abort the handshake with an alert
  greeting       the banner
  ehlo           EHLO and HELO
  starttls       the reply to STARTTLS (starttls_port only)
  auth           AUTH; "535 ..." or any other reply instead of checking
  mail           MAIL FROM
  rcpt           every RCPT TO;  "rcpt:ADDR" one recipient only
  data           the DATA command (the 354 stage)
  eod            after the final dot

An action is a reply line ("451 4.3.0 Try later"; a 421 also closes the
connection, RFC 5321 section 3.8), or:

  "drop"             close the connection without a reply
  "stall"            no reply for `stall` seconds (then close)
  "drop_mid_data"    (data) 354, read part of the message, then close
  "accept_drop"      (eod) take the message (counted), close without a
                     reply: the client never learns it was accepted
  "accept_stall"     (eod) take the message (counted), no reply for
                     `stall` seconds: the client times out

A message is "accepted" when the peer answers 250 after the dot or takes
it under accept_drop / accept_stall; accepted() lists them with their
Message-ID, envelope and raw octets.  events() is a list of
(time, kind, detail) for connect, tls_fail, auth_ok, auth_fail, fault
(stage, action) and accept, so a test can wait for "the peer now stalls in
DATA" before it does something.
"""
import asyncio
import logging
import re
import ssl
import threading
import time

from aiosmtpd.smtp import SMTP, AuthResult

logging.getLogger("mail.log").setLevel(logging.CRITICAL)
logging.getLogger("asyncio").setLevel(logging.CRITICAL)

_MID = re.compile(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", re.I | re.M)
STAGES = ("tls", "greeting", "ehlo", "starttls", "auth", "mail", "rcpt",
          "data", "eod")


def message_id(raw):
    """The Message-ID of raw message octets (with <>), or None."""
    head = raw.split(b"\r\n\r\n", 1)[0]
    m = _MID.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


class _Handler:
    def __init__(self, peer):
        self.peer = peer

    async def handle_EHLO(self, server, session, envelope, hostname,
                          responses):
        act = await server.fault("ehlo")
        if act is not None:
            return [act]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        act = await server.fault("ehlo")
        if act is not None:
            return act
        session.host_name = hostname
        return "250 peer.test"

    async def handle_AUTH(self, server, session, envelope, args):
        act = await server.fault("auth")
        if act is not None:
            self.peer._event("auth_fail", act)
        return act if act is not None else server.MISSING

    async def handle_MAIL(self, server, session, envelope, address, options):
        act = await server.fault("mail")
        if act is not None:
            return act
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, options):
        act = await server.fault("rcpt:" + address.lower())
        if act is None:
            act = await server.fault("rcpt")
        if act is not None:
            return act
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        peer = self.peer
        act = peer._action("eod")
        if act in ("accept_drop", "accept_stall"):
            peer._accept(envelope)
            peer._event("fault", "eod " + act)
            if act == "accept_drop":
                server.transport.abort()
                await asyncio.sleep(3600)   # cancelled by connection_lost
            await asyncio.sleep(peer.stall)
            server.transport.close()
            await asyncio.sleep(3600)
        reply = await server.fault("eod")
        if reply is not None:
            return reply
        n = peer._accept(envelope)
        return "250 2.0.0 Ok: queued as P%d" % n


class _Smtp(SMTP):
    MISSING = None      # set below: aiosmtpd's "no answer from the hook"

    def __init__(self, peer, starttls):
        self.peer = peer
        kw = dict(hostname="peer.test", ident="form2mail fault peer",
                  auth_required=True, authenticator=peer._authenticate,
                  loop=peer.loop, timeout=60)
        if starttls:
            kw.update(tls_context=peer._ctx, require_starttls=True)
        else:
            # aiosmtpd 1.4 does not count implicit TLS as TLS: without
            # this it would never offer AUTH.
            kw.update(auth_require_tls=False)
        super().__init__(_Handler(peer), **kw)

    def connection_made(self, transport):
        if self.transport is None:
            self.peer._conn_made(self)
        super().connection_made(transport)

    def connection_lost(self, error):
        self.peer._conn_lost(self)
        super().connection_lost(error)

    async def fault(self, stage):
        """The reply for stage, None to go on; drop/stall done here."""
        act = self.peer._action(stage)
        if act is None:
            return None
        self.peer._event("fault", "%s %s" % (stage, act))
        if act == "drop":
            self.transport.abort()
            await asyncio.sleep(3600)   # cancelled by connection_lost
        if act == "stall":
            await asyncio.sleep(self.peer.stall)
            self.transport.close()
            await asyncio.sleep(3600)
        if act.startswith("421"):
            # RFC 5321 section 3.8: reply, then close.
            await self.push(act)
            self.transport.close()
            await asyncio.sleep(3600)
        return act

    async def _handle_client(self):
        act = self.peer._action("greeting")
        if act is not None:
            self.peer._event("fault", "greeting " + act)
            if act == "stall":
                await asyncio.sleep(self.peer.stall)
            elif act != "drop":
                await self.push(act)
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_STARTTLS(self, arg):
        reply = await self.fault("starttls")
        if reply is not None:
            await self.push(reply)
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg):
        if (self.envelope.rcpt_tos and self.session.authenticated and
                not arg):
            act = self.peer._action("data")
            if act == "drop_mid_data":
                self.peer._event("fault", "data drop_mid_data")
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                n = 0
                while n < 512:
                    line = await self._reader.readuntil(b"\r\n")
                    if line == b".\r\n":
                        break
                    n += len(line)
                self.peer._event("mid_data", str(n))
                self.transport.abort()
                await asyncio.sleep(3600)
            if act == "stall":
                self.peer._event("fault", "data stall")
                await self.push("354 End data with <CR><LF>.<CR><LF>")
                await asyncio.sleep(self.peer.stall)
                self.transport.close()
                await asyncio.sleep(3600)
            reply = await self.fault("data")
            if reply is not None:
                await self.push(reply)
                return
        await super().smtp_DATA(arg)


class SmtpPeer:
    """See the module docstring."""

    def __init__(self, pki, username, password, stall=6.0,
                 host="127.0.0.1"):
        self.pki = pki
        self.username = username.encode()
        self.password = password.encode()
        self.stall = stall
        self.host = host
        self.port = None
        self.starttls_port = None
        self.loop = None
        self._script = {}
        self._lock = threading.Lock()
        self._events = []
        self._accepted = []
        self._conns = set()
        self._thread = None
        self._servers = []
        self._ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ctx.load_cert_chain(pki.cert, pki.key)
        self._wrong = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._wrong.load_cert_chain(pki.wrong_cert, pki.wrong_key)
        self._implicit = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._implicit.load_cert_chain(pki.cert, pki.key)
        self._implicit.sni_callback = self._sni
        # No TLS session resumption: a resumed session would skip the
        # certificate the "tls" fault swaps in.
        for c in (self._ctx, self._wrong, self._implicit):
            c.num_tickets = 0

    # ---- control (any thread)

    def url(self, kind="smtps", host="localhost"):
        if kind == "smtps":
            return "smtps://%s:%d" % (host, self.port)
        return "smtp://%s:%d" % (host, self.starttls_port)

    def set(self, script=None, abort=True):
        """Replace the script; abort every open connection (unless
        abort=False: the ones in progress keep their fault)."""
        script = dict(script or {})
        for k in script:
            if k.split(":", 1)[0] not in STAGES:
                raise ValueError("unknown stage %r" % k)
        with self._lock:
            self._script = script
            conns = list(self._conns) if abort else []
        for c in conns:
            self.loop.call_soon_threadsafe(self._abort, c)

    def clear(self):
        self.set({})

    def events(self, kind=None):
        with self._lock:
            return [e for e in self._events if kind is None or e[1] == kind]

    def accepted(self):
        """[{"mid", "from", "rcpt", "raw", "time"}] in order."""
        with self._lock:
            return list(self._accepted)

    def count(self, mid):
        return sum(1 for a in self.accepted() if a["mid"] == mid)

    def by_message_id(self):
        out = {}
        for a in self.accepted():
            out[a["mid"]] = out.get(a["mid"], 0) + 1
        return out

    def wait_event(self, kind, detail_re=".", since=0, timeout=10.0):
        """Waits (capped) for an event after index `since`; returns it or
        None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events()[since:]:
                if e[1] == kind and re.search(detail_re, e[2]):
                    return e
            time.sleep(0.01)
        return None

    def start(self):
        ready = threading.Event()
        err = []

        def run():
            try:
                self.loop = asyncio.new_event_loop()
                asyncio.set_event_loop(self.loop)
                s1 = self.loop.run_until_complete(self.loop.create_server(
                    lambda: _Smtp(self, False), self.host, 0,
                    ssl=self._implicit))
                s2 = self.loop.run_until_complete(self.loop.create_server(
                    lambda: _Smtp(self, True), self.host, 0))
                self._servers = [s1, s2]
                self.port = s1.sockets[0].getsockname()[1]
                self.starttls_port = s2.sockets[0].getsockname()[1]
            except Exception as e:  # reported to the caller
                err.append(e)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()
            for s in self._servers:
                s.close()
            for c in list(self._conns):
                self._abort(c)
            self.loop.run_until_complete(asyncio.sleep(0.05))
            self.loop.close()

        self._thread = threading.Thread(target=run, daemon=True,
                                        name="smtppeer")
        self._thread.start()
        if not ready.wait(10) or err:
            raise RuntimeError("smtp peer did not start: %r" % err)
        return self

    def stop(self):
        if self._thread is None:
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- inside the loop

    def _action(self, stage):
        with self._lock:
            return self._script.get(stage)

    def _event(self, kind, detail=""):
        with self._lock:
            self._events.append((time.time(), kind, detail))

    def _abort(self, conn):
        if conn.transport is not None:
            conn.transport.abort()

    def _conn_made(self, conn):
        with self._lock:
            self._conns.add(conn)
        self._event("connect", "starttls" if conn.tls_context else "smtps")

    def _conn_lost(self, conn):
        with self._lock:
            self._conns.discard(conn)

    def _sni(self, sslobj, server_name, ctx):
        act = self._action("tls")
        if act is None:
            return None
        self._event("fault", "tls " + act)
        if act == "wrong_cert":
            sslobj.context = self._wrong
            return None
        return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE

    def _authenticate(self, server, session, envelope, mechanism, data):
        ok = (data.login == self.username and data.password == self.password)
        self._event("auth_ok" if ok else "auth_fail", mechanism)
        return AuthResult(success=ok)

    def _accept(self, envelope):
        raw = envelope.original_content or b""
        with self._lock:
            self._accepted.append({
                "mid": message_id(raw), "from": envelope.mail_from,
                "rcpt": list(envelope.rcpt_tos), "raw": raw,
                "time": time.time()})
            n = len(self._accepted)
        self._event("accept", message_id(raw) or "")
        return n


def _missing():
    from aiosmtpd.smtp import MISSING
    return MISSING


_Smtp.MISSING = _missing()
