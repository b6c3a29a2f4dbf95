"""form2mail doctor: the next hop (issue 14 part 6) and the rspamd traps
(part 2), against a local resolver zone.

An unbound on 127.0.0.1 (a free high port) serves example.test as a
DNSSEC-signed auth-zone (ldns-keygen + ldns-signzone) and plain.test as
unsigned local-data. doctor validates DNSSEC itself (libunbound) from
--trust-anchor, the DS of example.test: only answers it validated count
for DANE. MTA-STS policies are served over HTTPS on loopback (a free high
port, a certificate of a test CA for the mta-sts.* names) and fetched with
the test-only --sts-ca and --sts-port; the zone gives mta-sts.* A 127.0.0.1.

Recipient domains, one per case: enforce. (enforce policy matching the MX,
TLS-RPT, signed TLSA: enforced, DANE), testing. (mode testing), mismatch.
(enforce policy whose mx does not match: FAIL), nofetch. (TXT, but the
policy answers 404), bogus. (TLSA altered after signing: DNSSEC bogus),
plain.test (TLSA without DNSSEC, nothing else). Then the resolver stopped:
unknown everywhere, never ok; and --trust-anchor none: DANE unknown."""
import hashlib
import http.server
import os
import re
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402
from test_doctor import UNBOUND, dns_port, f2m  # noqa: E402

ZONE = "example.test"
CASES = ["enforce", "testing", "mismatch", "nofetch", "bogus"]
HOP_PREFIX = ("MTA-STS", "DANE", "TLS-RPT", "Next hop")


def need(*progs):
    return [p for p in progs if not os.path.exists(p)]


def leaf_cert(pki, d, names):
    key, csr, crt, ext = (os.path.join(d, n) for n in
                          ("sts.key", "sts.csr", "sts.pem", "sts.ext"))
    h.write_file(ext, "basicConstraints=critical,CA:FALSE\n"
                 "keyUsage=critical,digitalSignature\n"
                 "extendedKeyUsage=serverAuth\n"
                 "subjectAltName=%s\n" % ",".join("DNS:" + n for n in names))
    h.run(["openssl", "req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-keyout", key, "-out", csr,
           "-subj", "/CN=" + names[0]])
    h.run(["openssl", "x509", "-req", "-in", csr, "-CA", pki.ca, "-CAkey",
           pki.ca_key, "-set_serial", "7", "-out", crt, "-days", "30",
           "-extfile", ext])
    return crt, key


def spki_sha256(cert):
    der = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-pubkey"], stdout=subprocess.PIPE, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"],
                         input=der, stdout=subprocess.PIPE, check=True).stdout
    return hashlib.sha256(der).hexdigest()


POLICIES = {
    "enforce": "version: STSv1\r\nmode: enforce\r\nmx: *.enforce.%s\r\n"
               "max_age: 604800\r\n" % ZONE,
    "testing": "version: STSv1\nmode: testing\nmx: mx.testing.%s\n"
               "max_age: 86400\n" % ZONE,
    "mismatch": "version: STSv1\nmode: enforce\nmx: mail.other.example\n"
                "max_age: 604800\n",
    "bogus": "version: STSv1\nmode: none\nmax_age: 86400\n",
}


class Policies(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        case = host[len("mta-sts."):].split(".")[0]
        body = POLICIES.get(case)
        if body is None or self.path != "/.well-known/mta-sts.txt":
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def zone_records(dns_lines, tlsa_hex):
    z = ["%s. 3600 IN SOA ns.%s. admin.%s. 1 3600 600 86400 300" % (
        ZONE, ZONE, ZONE), "%s. 3600 IN NS ns.%s." % (ZONE, ZONE),
        "ns.%s. 3600 IN A 127.0.0.1" % ZONE]
    for l in dns_lines:
        name, rest = l.split(" ", 1)
        z.append("%s 3600 IN %s" % (name, rest.replace("IN ", "", 1)
                                    if rest.startswith("IN ") else rest))
    for c in CASES:
        dom = "%s.%s" % (c, ZONE)
        z += ["%s. 3600 IN MX 10 mx.%s." % (dom, dom),
              "mx.%s. 3600 IN A 127.0.0.1" % dom]
        if c != "bogus":
            z += ['_mta-sts.%s. 3600 IN TXT "v=STSv1; id=20261207a;"' % dom,
                  "mta-sts.%s. 3600 IN A 127.0.0.1" % dom]
    e = "enforce." + ZONE
    z += ['_smtp._tls.%s. 3600 IN TXT "v=TLSRPTv1; rua=mailto:tls@%s"' % (e, e),
          "_25._tcp.mx.%s. 3600 IN TLSA 3 1 1 %s" % (e, tlsa_hex),
          "_25._tcp.mx.bogus.%s. 3600 IN TLSA 3 1 1 %s" % (ZONE, tlsa_hex)]
    return z


def unbound_conf(d, port, signed_zone):
    conf = os.path.join(d, "unbound.conf")
    lines = ["server:", "  interface: 127.0.0.1", "  port: %d" % port,
             "  do-ip6: no", "  do-daemonize: no", '  username: ""',
             '  chroot: ""', '  directory: "%s"' % d, '  pidfile: ""',
             "  use-syslog: no", '  logfile: "%s"' % os.path.join(d, "log"),
             "  verbosity: 1", '  module-config: "iterator"',
             "  access-control: 127.0.0.0/8 allow",
             '  local-zone: "test." nodefault',
             '  local-zone: "plain.test." static',
             "  local-data: 'plain.test. 3600 IN MX 10 mx.plain.test.'",
             "  local-data: 'mx.plain.test. 3600 IN A 127.0.0.1'",
             "  local-data: '_25._tcp.mx.plain.test. 3600 IN TLSA 3 1 1 %s'"
             % ("ab" * 32),
             "auth-zone:", '  name: "%s."' % ZONE,
             '  zonefile: "%s"' % signed_zone, "  for-downstream: yes",
             "  for-upstream: no",
             "remote-control:", "  control-enable: no", ""]
    h.write_file(conf, "\n".join(lines))
    return conf


class Server:
    def __init__(self, conf, port):
        self.conf, self.port, self.proc = conf, port, None

    def __enter__(self):
        chk = h.run(["/usr/sbin/unbound-checkconf", self.conf], check=False)
        if chk.returncode != 0:
            raise h.HarnessError("unbound-checkconf: %r" % chk.stdout)
        if not h.port_is_free(self.port):
            raise h.HarnessError("port %d taken" % self.port)
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", self.conf],
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        h.wait_until(lambda: self.proc.poll() is not None or
                     h.tcp_listening(self.port), 10, what="unbound")
        if self.proc.poll() is not None:
            raise h.HarnessError("unbound exited %d" % self.proc.returncode)
        return self

    def __exit__(self, *exc):
        h.stop_pid(self.proc.pid, popen=self.proc)
        self.proc.wait(timeout=5)


def hop_lines(out):
    return [l for l in out.splitlines() if l[6:].startswith(HOP_PREFIX)]


def line(out, status, start):
    hit = [l for l in out.splitlines()
           if l.startswith(status) and l[6:].startswith(start)]
    return hit[0] if hit else None


def main():
    missing = need(UNBOUND, "/usr/bin/ldns-keygen", "/usr/bin/ldns-signzone")
    if missing:
        print("SKIP: missing %s (scripts/deps)" % " ".join(missing))
        return 77
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        names = ["mta-sts.%s.%s" % (c, ZONE) for c in CASES]
        crt, key = leaf_cert(pki, wd.sub("sts"), names)
        keys = h.make_dkim_keys(wd.sub("dkim"), ZONE)
        d = wd.sub("f2m")
        cfg = h.default_config(d, dkim=keys)
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["smtp"]["ca_file"] = pki.ca
        h.write_secret(cfg["smtp"]["password_file"], "pw\n")
        hop_form = h.contact_form()
        hop_form["recipients"] = ["x@%s.%s" % (c, ZONE) for c in CASES] + [
            "x@plain.test"]
        cfg["forms"]["hop"] = hop_form
        # The traps, set on purpose: From stays the site's address, the
        # Message-ID on the www. host.
        cfg["sender"]["same_domain_from"] = "sender"
        cfg["sender"]["message_id_domain"] = "www.example.test"
        conf = os.path.join(d, "form2mail.json")
        h.write_config(conf, cfg)
        rc, out, err = f2m("dns", "-c", conf)
        check(rc == 0, "dns prints the records", 0, (rc, err))
        dnsl = [l for l in out.splitlines() if l and not l.startswith(";")]

        # The signed zone: KSK+ZSK, NSEC, then one TLSA altered (bogus).
        zd = wd.sub("zone")
        zf = os.path.join(zd, "example.test.zone")
        h.write_file(zf, "\n".join(zone_records(dnsl, spki_sha256(crt))) +
                     "\n")
        ksk = h.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", ZONE],
                    cwd=zd).stdout.decode().strip()
        zsk = h.run(["ldns-keygen", "-a", "ECDSAP256SHA256", ZONE],
                    cwd=zd).stdout.decode().strip()
        h.run(["ldns-signzone", "-f", zf + ".signed", zf, ksk, zsk], cwd=zd)
        signed = open(zf + ".signed").read()
        bad = re.sub(r"(_25\._tcp\.mx\.bogus\.example\.test\.\s+\d+\s+IN\s+"
                     r"TLSA\s+3 1 1 )([0-9a-f]{2})", lambda m: m.group(1) +
                     ("00" if m.group(2) != "00" else "11"), signed)
        check(bad != signed, "the bogus TLSA was altered after signing")
        h.write_file(zf + ".signed", bad)
        anchor = os.path.join(zd, "anchor.ds")
        h.write_file(anchor, open(os.path.join(zd, ksk + ".ds")).read())

        port = dns_port()
        uconf = unbound_conf(wd.sub("unbound"), port, zf + ".signed")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Policies)
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
        sts_port = httpd.server_address[1]
        t = threading.Thread(target=httpd.serve_forever, daemon=True)
        t.start()
        base = ["doctor", "-c", conf, "--resolver", "127.0.0.1:%d" % port,
                "--sts-ca", pki.ca, "--sts-port", str(sts_port)]
        try:
            with Server(uconf, port):
                rc, out, err = f2m(*base, "--trust-anchor", anchor)
                print("--- doctor, local zone (exit %d) ---\n%s%s" % (
                    rc, out, err), flush=True)
                rc2, out2, err2 = f2m(*base, "--trust-anchor", "none")
                print("--- doctor, --trust-anchor none ---\n%s%s" % (
                    out2, err2), flush=True)
            rc3, out3, err3 = f2m(*base, "--trust-anchor", anchor)
            print("--- doctor, resolver down (exit %d) ---\n%s%s" % (
                rc3, out3, err3), flush=True)
        finally:
            httpd.shutdown()
            httpd.server_close()

        E, T, M, N, B = ("%s.%s" % (c, ZONE) for c in CASES)
        want = [
            ("ok    ", "MTA-STS %s: enforced (id 20261207a, max_age 604800, "
             "mx *.%s matches every MX)" % (E, E)),
            ("ok    ", "DANE %s: every MX has DNSSEC-signed TLSA (mx.%s: 1 "
             "usable TLSA, DNSSEC-signed)" % (E, E)),
            ("ok    ", "TLS-RPT %s: published (rua=mailto:tls@%s)" % (E, E)),
            ("ok    ", "Next hop %s: TLS enforced (MTA-STS and DANE)" % E),
            ("warn  ", "MTA-STS %s: testing (mx mx.%s): senders report" % (T, T)),
            ("warn  ", "TLS-RPT %s: not published" % T),
            ("warn  ", "DANE %s: no DANE (mx.%s: no TLSA" % (T, T)),
            ("warn  ", "Next hop %s: TLS not enforced" % T),
            ("FAIL  ", "MTA-STS %s: mode enforce lists mx mail.other.example "
             "but no MX host matches (mx.%s)" % (M, M)),
            ("warn  ", "MTA-STS %s: TXT id=20261207a published, but the "
             "policy https://mta-sts.%s:%d/.well-known/mta-sts.txt cannot be "
             "fetched (HTTPS status 404" % (N, N, sts_port)),
            ("warn  ", "Next hop %s: TLS not enforced" % N),
            ("warn  ", "DANE %s: unknown (mx.%s: unknown (TLSA: DNSSEC "
             "validation failed (bogus)" % (B, B)),
            ("warn  ", "MTA-STS %s: no MTA-STS" % B),
            ("warn  ", "Next hop %s: unknown" % B),
            ("warn  ", "MTA-STS plain.test: no MTA-STS"),
            ("warn  ", "DANE plain.test: no DANE (mx.plain.test: TLSA "
             "published but it is not DNSSEC-signed"),
            ("warn  ", "TLS-RPT plain.test: not published"),
            ("warn  ", "Next hop plain.test: TLS not enforced"),
            ("warn  ", "MTA-STS: test overrides in use (--sts-ca, --sts-port)"),
            # The traps set above.
            ("warn  ", "rspamd SPOOF_REPLYTO (+6): form \"contact\" mails "
             "sales@example.test, on From's domain example.test"),
            ("warn  ", "rspamd MID_RHS_WWW (+0.5): Message-ID "
             "<...@www.example.test>"),
            ("ok    ", "SPF alignment: envelope MAIL FROM "
             "bounces@example.test is on From's domain example.test"),
            ("ok    ", "DKIM f2mr._domainkey.example.test: TXT matches"),
        ]
        for status, start in want:
            check(line(out, status, start), "line %r%s" % (status, start),
                  status + start, out.splitlines())
        check("fix: remove sender.same_domain_from (the default "
              "\"recipient\" sends such mail From its first recipient); or "
              "send from a sub-domain: sender.from forms@notify."
              "example.test" in (line(out, "warn  ", "rspamd SPOOF_REPLYTO")
                                 or ""), "SPOOF_REPLYTO names the fix", None,
              out)
        check("fix: remove sender.message_id_domain (it defaults to "
              "From's domain example.test)" in (line(out, "warn  ",
                                                    "rspamd MID_RHS_WWW")
                                 or ""), "MID_RHS_WWW names the fix", None, out)
        check(rc == 1, "exit 1 (the mismatching enforce policy fails)", 1, rc)
        secure = [l for l in hop_lines(out) if l.startswith("ok")]
        check(all(E in l for l in secure), "only enforce. is ever ok",
              [], [l for l in secure if E not in l])
        check(all(0x20 <= ord(c) < 0x7f or ord(c) > 0x9f
                  for c in out if c != "\n"), "no control characters")

        # No trust anchor: DANE is unknown, MTA-STS still checked.
        check(line(out2, "warn  ", "DANE %s: unknown: DNSSEC validation "
                   "off (--trust-anchor none)" % E), "--trust-anchor none: "
              "DANE unknown", None, out2)
        check(line(out2, "ok    ", "Next hop %s: TLS enforced (MTA-STS)" % E),
              "--trust-anchor none: MTA-STS alone enforces", None, out2)
        check(not [l for l in hop_lines(out2) if l.startswith("ok    DANE")],
              "--trust-anchor none: no DANE ok", [], out2)

        # Resolver down: unknown everywhere, never ok.
        hl3 = hop_lines(out3)
        check(len(hl3) >= 4 * 6, "resolver down: every domain reported",
              ">= 24 lines", hl3)
        check(not [l for l in hl3 if l.startswith("ok")],
              "resolver down: no next-hop line is ok", [],
              [l for l in hl3 if l.startswith("ok")])
        for dom in (E, T, M, N, B, "plain.test"):
            for what in ("MTA-STS", "DANE", "TLS-RPT", "Next hop"):
                check(line(out3, "warn  ", "%s %s: unknown" % (what, dom)),
                      "resolver down: %s %s unknown" % (what, dom), None, hl3)
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
