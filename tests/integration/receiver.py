"""A receiving mail server's spam scorers, for deliverability tests.

    rx = Receiver(wd.sub("rx"), keys).start()
    total, rules = rx.rspamd_score(raw, rcpt)
    total, rules = rx.sa_score(raw, rcpt)
    rx.stop()

What runs, all on 127.0.0.1 and free high ports, stopped by pid:

  dnsmasq   the only resolver of both scorers.  It answers for the test
            domain as the site's DNS would (SPF allowing the site's relay
            SITE_IP only, both DKIM keys, DMARC p=reject with relaxed
            alignment, MX, A and PTR of the relay) and NXDOMAIN for every
            other name, so blocklist look-ups find nothing and nothing
            leaves the machine (the "internet off" the issue asks for).
  rspamd    Debian's stock configuration (tests/unit/rspamd_ctl.py).
  spamd     Debian's SpamAssassin 4.0 with its shipped rules
            (/usr/share/spamassassin) and the .pre/.cf files of
            /etc/spamassassin (SPF, DKIM, DMARC plugins as Debian loads
            them), plus `dns_server` pointing at the dnsmasq.

A copy delivered to the harness's Maildir is scored as the recipient's MX
would see it: a Received line from the site's relay (SITE_HOST,
SITE_IP) is put on top, the envelope sender is the copy's Return-Path and
the recipient its X-Original-To.  Each score comes back with every rule
that fired: [(points, name, description)].
"""
import datetime
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "unit"))
import rspamd_ctl  # noqa: E402
import harness as h  # noqa: E402

SPAMD = shutil.which("spamd") or "/usr/sbin/spamd"
SA_RULES = "/usr/share/spamassassin"
SA_SITE = "/etc/spamassassin"
# A public address: SpamAssassin scores documentation ranges (192.0.2.0/24
# and the like) in Received as RCVD_ILLEGAL_IP.  Nothing is sent to it.
SITE_IP = "93.184.216.34"
SITE_HOST = "mail.example.test"


def zone(keys, domain="example.test", dmarc="v=DMARC1; p=reject; "
         "adkim=r; aspf=r; rua=mailto:dmarc@example.test"):
    """(TXT records, other dnsmasq options) answering for `domain` as the
    site's DNS would."""
    txt = {domain: "v=spf1 ip4:%s -all" % SITE_IP,
           "_dmarc." + domain: dmarc,
           SITE_HOST: "v=spf1 a -all"}
    for name, val in keys.txt.items():
        txt[name.decode().rstrip(".")] = val.decode()
    return txt, ["--mx-host=%s,%s,10" % (domain, SITE_HOST),
                 "--host-record=%s,%s" % (SITE_HOST, SITE_IP)]


def received(rcpt):
    """The line the recipient's MX puts on top of the copy."""
    dom = rcpt.rpartition("@")[2] or "example.net"
    now = datetime.datetime.now(datetime.timezone.utc)
    return ("Received: from %s (%s [%s])\r\n\tby mx.%s (Postfix) with "
            "ESMTPS id 4F2M%06d\r\n\tfor <%s>; %s\r\n" % (
                SITE_HOST, SITE_HOST, SITE_IP, dom, os.getpid() % 1000000,
                rcpt, now.strftime("%a, %d %b %Y %H:%M:%S +0000"))).encode()


def as_received(raw, rcpt):
    """The copy with Postfix's local delivery lines (Delivered-To,
    X-Original-To) taken off and the MX's Received line on top; CRLF."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, sep, body = raw.partition(b"\r\n\r\n")
    keep = []
    for line in re.split(rb"\r\n(?![ \t])", head):
        name = line.split(b":", 1)[0].lower()
        if name in (b"delivered-to", b"x-original-to"):
            continue
        keep.append(line)
    rp = [x for x in keep if x.lower().startswith(b"return-path:")]
    rest = [x for x in keep if not x.lower().startswith(b"return-path:")]
    return b"\r\n".join(rp + [received(rcpt).rstrip(b"\r\n")] + rest) + \
        sep + body


def return_path(raw):
    m = re.search(rb"^Return-Path:\s*<([^>]*)>", raw, re.M | re.I)
    return m.group(1).decode() if m else ""


class Spamd:
    """spamd on a loopback port, site config of its own (see module doc)."""

    def __init__(self, d, dns_port):
        self.dir = h.makedirs(os.path.abspath(str(d)))
        self.dns_port = dns_port
        self.port = None
        self.proc = None

    def _site(self):
        site = h.makedirs(os.path.join(self.dir, "site"))
        for name in sorted(os.listdir(SA_SITE)):
            if name.endswith((".pre", ".cf")):
                shutil.copy(os.path.join(SA_SITE, name), site)
        with open(os.path.join(site, "zz_form2mail_test.cf"), "w") as f:
            f.write("# form2mail receiving-side test: our resolver only\n"
                    "dns_server 127.0.0.1:%d\n"
                    "dns_available yes\n"
                    "use_bayes 0\n" % self.dns_port)
        return site

    def start(self, timeout=120):
        site = self._site()
        home = h.makedirs(os.path.join(self.dir, "home"), mode=0o777)
        self.log = os.path.join(self.dir, "spamd.log")
        user = "nobody"
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = None
        for _ in range(5):
            self.port = h.free_port()
            args = [SPAMD, "--siteconfigpath=" + site,
                    "--configpath=" + SA_RULES, "--nouser-config",
                    "--listen=127.0.0.1:%d" % self.port,
                    "--allowed-ips=127.0.0.1", "--max-children=1",
                    "--helper-home-dir=" + home, "--syslog=" + self.log,
                    "--pidfile=" + os.path.join(self.dir, "spamd.pid")]
            if os.geteuid() == 0 and user:
                args += ["--username=" + user]
            out = open(os.path.join(self.dir, "stdout.log"), "ab")
            self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=out,
                                         start_new_session=True)
            out.close()
            t = time.monotonic() + timeout
            while time.monotonic() < t and self.proc.poll() is None:
                if h.tcp_accepts(self.port):
                    return self
                time.sleep(0.2)
            self.stop()
        raise h.HarnessError("spamd did not start:\n" +
                             h.tail(os.path.join(self.dir, "stdout.log")) +
                             h.tail(self.log))

    def stop(self):
        if self.proc is not None:
            h.stop_pid(self.proc.pid, popen=self.proc)
            self.proc = None

    def report(self, raw, timeout=60):
        """SPAMC/1.5 REPORT -> (score, [(points, rule, description)])."""
        req = (b"REPORT SPAMC/1.5\r\nContent-length: %d\r\n"
               b"User: nobody\r\n\r\n" % len(raw)) + raw
        with socket.create_connection(("127.0.0.1", self.port),
                                      timeout=timeout) as s:
            s.sendall(req)
            s.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
        head, _, body = data.partition(b"\r\n\r\n")
        m = re.search(rb"^Spam: \S+ ; (-?[0-9.]+) / ", head, re.M)
        if not head.startswith(b"SPAMD/") or b" 0 EX_OK" not in head or \
                not m:
            raise h.HarnessError("spamd answered %r" % data[:300])
        rules = []
        table = False
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("----"):
                table = True
                continue
            r = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\s+(.*)$",
                         line)
            if table and r:
                rules.append((float(r.group(1)), r.group(2),
                              r.group(3).strip()))
        return float(m.group(1)), rules


class Receiver:
    def __init__(self, d, keys, domain="example.test"):
        self.dir = h.makedirs(os.path.abspath(str(d)))
        txt, more = zone(keys, domain)
        self.rs = rspamd_ctl.Rspamd(self.dir, txt=txt, dns_args=more)
        self.sa = None

    @property
    def dns_port(self):
        return self.rs.dns_port

    def start(self):
        self.rs.start()
        try:
            self.sa = Spamd(os.path.join(self.dir, "sa"),
                            self.rs.dns_port).start()
        except BaseException:
            self.rs.stop()
            raise
        return self

    def stop(self):
        if self.sa is not None:
            self.sa.stop()
        self.rs.stop()

    def rspamd_url(self):
        return "http://127.0.0.1:%d" % self.rs.port

    def rspamd_score(self, raw, rcpt, timeout=60):
        """POST /checkv2 as the recipient's MX -> (score, rules)."""
        import http.client
        import json
        hdr = {"IP": SITE_IP, "Helo": SITE_HOST, "Hostname": SITE_HOST,
               "From": return_path(raw), "Rcpt": rcpt,
               "Queue-Id": "4F2M%06d" % (os.getpid() % 1000000)}
        c = http.client.HTTPConnection("127.0.0.1", self.rs.port,
                                       timeout=timeout)
        try:
            c.request("POST", "/checkv2", body=raw, headers=hdr)
            r = c.getresponse()
            body = r.read()
        finally:
            c.close()
        if r.status != 200:
            raise h.HarnessError("rspamd answered %d %r" % (r.status,
                                                            body[:300]))
        j = json.loads(body)
        rules = sorted(((s.get("score", 0.0), n, s.get("description", ""))
                        for n, s in j.get("symbols", {}).items()),
                       key=lambda x: (-abs(x[0]), x[1]))
        return float(j["score"]), rules

    def sa_score(self, raw, rcpt):
        return self.sa.report(raw)
