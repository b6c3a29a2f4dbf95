"""form2mail doctor against a real resolver and a real relay.

An unbound started here on 127.0.0.1 (a free high port) serves the zone as
local-data; doctor is pointed at it with --resolver. The correct zone is
what `form2mail dns` prints for the config (sender.spf included); each
broken zone changes one thing: DKIM record missing, another key, two SPF
records, SPF that fails for the relay's addresses, no DMARC. The relay is
the harness's Postfix + Dovecot (implicit TLS, AUTH); a wrong password must
give FAIL on AUTH. Doctor never sends: the Maildir stays empty and Postfix
logs no message."""
import os
import re
import signal
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

UNBOUND = "/usr/sbin/unbound"
DOMAIN = "example.test"
SPF_TERMS = "ip4:127.0.0.1 ip6:::1"


def udp_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def dns_port():
    for _ in range(20):
        p = h.free_port()
        if p > 1024 and h.port_is_free(p) and udp_free(p):
            return p
    raise h.HarnessError("no free port for unbound")


class Unbound:
    """unbound -d -c CONF on 127.0.0.1:port serving `records` (zone-file
    lines "NAME TXT ...") as local-data of a static zone."""

    def __init__(self, directory, port, records, zone=DOMAIN):
        self.dir = h.makedirs(directory)
        self.port = port
        self.conf = os.path.join(self.dir, "unbound.conf")
        self.log = os.path.join(self.dir, "unbound.log")
        lines = [
            "server:",
            "  interface: 127.0.0.1",
            "  port: %d" % port,
            "  do-ip6: no",
            "  do-daemonize: no",
            '  username: ""',
            '  chroot: ""',
            '  directory: "%s"' % self.dir,
            '  pidfile: ""',
            "  use-syslog: no",
            '  logfile: "%s"' % self.log,
            "  verbosity: 1",
            '  module-config: "iterator"',
            "  access-control: 127.0.0.0/8 allow",
            '  local-zone: "%s." static' % zone,
        ]
        for r in records:
            lines.append("  local-data: '%s'" % r)
        lines += ["remote-control:", "  control-enable: no", ""]
        h.write_file(self.conf, "\n".join(lines))
        self.proc = None

    def __enter__(self):
        chk = h.run(["/usr/sbin/unbound-checkconf", self.conf], check=False)
        if chk.returncode != 0:
            raise h.HarnessError("unbound-checkconf: %s" %
                                 chk.stdout.decode(errors="replace"))
        if not (h.port_is_free(self.port) and udp_free(self.port)):
            raise h.HarnessError("port %d taken" % self.port)
        out = open(self.log + ".out", "wb")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                     stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        out.close()
        h.wait_until(lambda: self.proc.poll() is not None or
                     h.tcp_listening(self.port), 10, what="unbound on %d"
                     % self.port, diag=lambda: h.tail(self.log) + "\n" +
                     h.tail(self.log + ".out"))
        if self.proc.poll() is not None:
            raise h.HarnessError("unbound exited %d\n%s" % (
                self.proc.returncode, h.tail(self.log + ".out")))
        return self

    def __exit__(self, *exc):
        if self.proc is not None:
            h.stop_pid(self.proc.pid, signal.SIGTERM, popen=self.proc)
            self.proc.wait(timeout=5)


def f2m(*args):
    p = subprocess.run([h.f2m_bin(), *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=180,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def records_of(dns_out):
    """Zone lines of `form2mail dns` output (comments dropped)."""
    return [l for l in dns_out.splitlines() if l and not l.startswith(";")]


def without(records, prefix):
    return [r for r in records if not r.startswith(prefix)]


# Lines of the traps and the next hop (test_doctor_hop.py checks them):
# the default test config trips the traps and its recipients publish
# no MTA-STS, so they are warnings here.
EXTRA = ("rspamd ", "MTA-STS", "DANE", "TLS-RPT", "Next hop")


def own(lines):
    return [l for l in lines if not l[6:].startswith(EXTRA)]


def lines_with(out, status, what):
    return [l for l in out.splitlines()
            if l.startswith(status) and what in l]


def main():
    if not os.path.exists(UNBOUND):
        print("SKIP: no unbound")
        return 77
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), DOMAIN)
        other = h.make_dkim_keys(wd.sub("other"), DOMAIN)
        mta = h.Mta(wd.sub("mta"), pki)
        d = wd.sub("f2m")
        cfg = h.default_config(d, mta=mta, dkim=keys)
        cfg["smtp"]["url"] = mta.url("smtps", host="localhost")
        cfg["sender"]["spf"] = SPF_TERMS
        conf = os.path.join(d, "form2mail.json")
        h.write_config(conf, cfg)
        port = dns_port()
        resolver = "127.0.0.1:%d" % port

        # check and dns read sender.spf
        rc, out, err = f2m("check", "-c", conf)
        check(rc == 0, "check accepts sender.spf", 0, (rc, out, err))
        rc, out, err = f2m("dns", "-c", conf)
        check(rc == 0 and '%s. TXT "v=spf1 %s -all"' % (DOMAIN, SPF_TERMS)
              in out, "dns prints the SPF record of sender.spf", None,
              (rc, out, err))
        good = records_of(out)
        check(len(good) == 4, "dns: SPF, two DKIM, DMARC", 4, good)
        rc, out2, err = f2m("dns", "-c", conf, "--spf", "include:_spf.example.net")
        check(rc == 0 and '"v=spf1 include:_spf.example.net -all"' in out2,
              "dns --spf overrides sender.spf", None, (rc, out2, err))

        bad = h.merge(cfg, {"sender": {"spf": "ip4:127.0.0.1 ~all"}})
        p = os.path.join(d, "badspf.json")
        h.write_config(p, bad)
        rc, out, err = f2m("check", "-c", p)
        check(rc == 1 and re.search(re.escape(p) + r":\d+:\d+: \"spf\": "
                                    r"\"~all\"", err),
              "sender.spf with all: exit 1, file:line:column naming the "
              "term", 1, (rc, err))
        for terms in ("ptr", "redirect=_spf.example.net", "ip4:300.1.1.1",
                      "include:%{d}.example.net", "ip6:::1/129",
                      "include:localhost", "a/33",
                      " ".join(["include:i%d.example.net" % i for i in range(11)])):
            h.write_config(p, h.merge(cfg, {"sender": {"spf": terms}}))
            rc, out, err = f2m("check", "-c", p)
            check(rc == 1 and '"spf"' in err, "sender.spf %r refused" % terms,
                  1, (rc, err))
        h.write_config(p, h.merge(cfg, {"sender": {"spf":
            "+a mx:mail.example.net/24//64 ?exists:x.example.net "
            "ip4:192.0.2.0/24 ip6:2001:db8::/32 -include:_spf.example.net"}}))
        rc, out, err = f2m("check", "-c", p)
        check(rc == 0, "sender.spf with every mechanism kind accepted", 0,
              (rc, err))

        rc, out, err = f2m("doctor", "-c", conf, "--resolver", "300.0.0.1")
        check(rc == 2 and "--resolver" in err, "bad --resolver: exit 2", 2,
              (rc, err))
        for bad_resolver in ("127.0.0.1:0", "[::1]:53x", "[::1", "::1:53:x",
                             "host.example:53", ""):
            rc, out, err = f2m("doctor", "-c", conf, "--resolver=" +
                               bad_resolver)
            check(rc == 2 and out == "", "--resolver=%r: exit 2, nothing "
                  "checked" % bad_resolver, 2, (rc, out, err))
        rc, out, err = f2m("doctor", "-c", conf, "--frob")
        check(rc == 2 and "usage" in err, "unknown option: exit 2", 2,
              (rc, err))

        rsa_name = "f2mr._domainkey.%s." % DOMAIN
        other_rsa = [l for l in other.zone_lines() if l.startswith(rsa_name)]
        scenarios = [
            ("correct", good, 0, None),
            ("missing DKIM", without(good, rsa_name), 1,
             ("FAIL  DKIM f2mr._domainkey.example.test: no TXT record",
              "fix: publish: %s TXT \"v=DKIM1; k=rsa; p=" % rsa_name)),
            ("wrong key", without(good, rsa_name) +
             [l.replace(" IN TXT ", " TXT ") for l in other_rsa], 1,
             ("FAIL  DKIM f2mr._domainkey.example.test: TXT holds another "
              "public key", "fix: publish: %s TXT" % rsa_name)),
            ("two SPF records", good + ['%s. TXT "v=spf1 a -all"' % DOMAIN], 1,
             ("FAIL  SPF example.test: 2 SPF records (RFC 7208 4.5: "
              "permerror)", 'fix: merge them into one: example.test. TXT '
              '"v=spf1 %s -all"' % SPF_TERMS)),
            ("SPF fails for the relay",
             without(good, DOMAIN + ". TXT") +
             ['%s. TXT "v=spf1 ip4:192.0.2.1 -all"' % DOMAIN], 1,
             ("FAIL  SPF example.test: fail for the relay localhost address "
              "127.0.0.1", 'fix: publish: example.test. TXT "v=spf1 %s -all"'
              % SPF_TERMS)),
            ("no DMARC", without(good, "_dmarc."), 1,
             ("FAIL  DMARC _dmarc.example.test: no DMARC record",
              'fix: publish: _dmarc.example.test. TXT "v=DMARC1; '
              'p=quarantine"')),
        ]
        with mta:
            for name, zone, want_rc, want in scenarios:
                with Unbound(wd.sub("dns-" + name.replace(" ", "-")), port,
                             zone):
                    rc, out, err = f2m("doctor", "-c", conf, "--resolver",
                                       resolver)
                print("--- doctor, %s zone (exit %d) ---\n%s%s" % (
                    name, rc, out, err), flush=True)
                check(rc == want_rc, "%s: exit %d" % (name, want_rc),
                      want_rc, (rc, out, err))
                lines = out.splitlines()
                check(len(lines) >= 10 and all(
                    re.match(r"(ok|warn|skip|FAIL) {2,}\S", l) for l in lines),
                    "%s: one status word per line" % name, None, lines)
                check(all(0x20 <= ord(c) < 0x7f or ord(c) > 0x9f
                          for c in out if c != "\n"),
                      "%s: no control characters" % name, None, out)
                if want is None:
                    check(all(l.startswith("ok    ") for l in own(lines)),
                          "%s: every line ok" % name, "ok", lines)
                    for what in ("DKIM f2mr._domainkey.example.test: TXT "
                                 "matches the key (rsa-sha256)",
                                 "DKIM f2me._domainkey.example.test: TXT "
                                 "matches the key (ed25519-sha256)",
                                 "SPF example.test: one valid record",
                                 "SPF example.test: pass for the relay "
                                 "localhost address 127.0.0.1",
                                 "SPF example.test: pass for the relay "
                                 "localhost address ::1",
                                 "DMARC _dmarc.example.test: policy "
                                 "quarantine",
                                 "DMARC alignment: DKIM d= example.test",
                                 "DMARC alignment: envelope (SPF) "
                                 "example.test",
                                 "SMTP connect localhost:%d" % mta.smtps_port,
                                 "SMTP TLS localhost: implicit TLS",
                                 "SMTP AUTH forms@example.test: accepted",
                                 "SMTP no mail sent: NOOP answered 250"):
                        check(lines_with(out, "ok    ", what),
                              "%s: ok line %r" % (name, what), what, lines)
                else:
                    first, fix = want
                    hit = [l for l in lines if l.startswith(first)]
                    check(hit and fix in hit[0], "%s: %r with fix %r" % (
                        name, first, fix), (first, fix), lines)
                    others = [l for l in own(lines) if l.startswith("FAIL") and
                              not l.startswith(first.split(":")[0])]
                    check(not others, "%s: no other check fails" % name,
                          [], others)

            # SPF through an include: libspf2 asks the same resolver.
            inc = without(good, DOMAIN + ". TXT") + [
                '%s. TXT "v=spf1 include:_spf.%s -all"' % (DOMAIN, DOMAIN),
                '_spf.%s. TXT "v=spf1 %s -all"' % (DOMAIN, SPF_TERMS)]
            with Unbound(wd.sub("dns-include"), port, inc):
                rc, out, err = f2m("doctor", "-c", conf, "--resolver",
                                   resolver)
            check(rc == 0 and len(lines_with(out, "ok    ", "SPF example.test: "
                                             "pass for the relay")) == 2,
                  "SPF include: followed through --resolver, pass", 0,
                  (rc, out, err))

            # DMARC p=none: a warning, not a failure.
            pnone = without(good, "_dmarc.") + [
                '_dmarc.%s. TXT "v=DMARC1; p=none; rua=mailto:d@%s"' % (
                    DOMAIN, DOMAIN)]
            with Unbound(wd.sub("dns-pnone"), port, pnone):
                rc, out, err = f2m("doctor", "-c", conf, "--resolver",
                                   resolver)
            check(rc == 0 and lines_with(out, "warn  ", "DMARC "
                                         "_dmarc.example.test: p=none"),
                  "DMARC p=none: warn, exit 0", 0, (rc, out, err))

            # The relay refuses the login: FAIL on AUTH, DNS still fine.
            wrong_pw = h.write_secret(os.path.join(d, "wrong-password"),
                                      "another-pw\n")
            wconf = os.path.join(d, "wrongpw.json")
            h.write_config(wconf, h.merge(cfg, {"smtp": {
                "password_file": wrong_pw}}))
            with Unbound(wd.sub("dns-authfail"), port, good):
                rc, out, err = f2m("doctor", "-c", wconf, "--resolver",
                                   resolver)
            print("--- doctor, wrong password (exit %d) ---\n%s%s" % (
                rc, out, err), flush=True)
            check(rc == 1 and lines_with(out, "FAIL  SMTP AUTH "
                                         "forms@example.test: refused", "535")
                  and "fix: check smtp.username" in out,
                  "wrong password: FAIL on AUTH with the 535 reply", None,
                  (rc, out, err))
            check(lines_with(out, "ok    ", "SMTP TLS localhost"),
                  "wrong password: TLS still ok", None, out)
            check("s3cret-pw" not in out and "another-pw" not in out,
                  "no password in the output", None, out)

            # No resolver answering: every DNS check fails, exit 1.
            rc, out, err = f2m("doctor", "-c", conf, "--resolver", resolver)
            print("--- doctor, no resolver (exit %d) ---\n%s%s" % (
                rc, out, err), flush=True)
            check(rc == 1 and lines_with(out, "FAIL  DKIM", "no answer"),
                  "resolver down: DNS checks fail, exit 1", None,
                  (rc, out, err))

            # Nothing was ever sent.
            check(mta.messages() == [], "the Maildir stays empty", [],
                  [p for p, _ in mta.messages()])
            log = mta.log()
            check(not re.search(r"message-id=|from=<", log),
                  "Postfix logged no message", None,
                  [l for l in log.splitlines()
                   if "message-id=" in l or "from=<" in l])
            check(re.search(r"sasl_method=PLAIN, sasl_username="
                            r"forms@example.test", log) or "AUTH" in log
                  or "connect from" in log, "doctor did reach Postfix",
                  None, h.tail(mta.maillog))
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
