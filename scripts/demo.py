#!/usr/bin/python3
"""form2mail demo: the whole path on this machine, with real servers.

  browser --HTTPS--> nginx (127.0.0.1:8443) --FastCGI--> form2mail serve
          --> DKIM-signed mail over smtps + AUTH --> Postfix (+ Dovecot SASL)
          --> one Maildir you can look at

Run as root through scripts/demo (installs packages and builds first), or
directly: /usr/bin/python3 scripts/demo.py [--dir DIR] [--port PORT] [--check]

State (test CA, DKIM keys, SMTP password, spool, Maildir) lives in --dir
(default /tmp/form2mail-demo) and is kept between runs, so the DKIM records
stay the same. Ctrl-C (or SIGTERM) stops everything the demo started.
--check posts the form once, waits for the mail, prints its headers and the
DKIM results, and exits (0 when the mail arrived signed and verified).
"""

import argparse
import grp
import json
import os
import secrets
import shutil
import signal
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness as h  # noqa: E402

DOMAIN = "example.test"


class Stop(Exception):
    pass


def on_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


def die(msg):
    print("demo: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


def say(msg=""):
    print(msg, flush=True)


def load_password(path):
    if os.path.exists(path):
        with open(path) as f:
            pw = f.read().rstrip("\n")
        if pw:
            return pw
    pw = secrets.token_urlsafe(18)
    h.write_secret(path, pw + "\n")
    return pw


def demo_config(fdir, mta, dkim, port):
    cfg = h.default_config(fdir, mta=mta, dkim=dkim,
                           password_file=os.path.join(fdir, "smtp-password"))
    # the FastCGI socket for nginx only (issue 16 F1): its group, 0660
    cfg["listen_mode"] = "0660"
    cfg["listen_group"] = h.web_group()
    cfg["forms"]["contact"]["allowed_origins"] = [
        "https://127.0.0.1:%d" % port, "https://localhost:%d" % port]
    return cfg


def describe(raw, txt):
    """One line about a delivered message."""
    dk = h.verify_dkim(raw, txt)
    sig = ", ".join("%s %s" % (a, "pass" if ok else "FAIL") for _, _, _, a, ok in dk)
    return "to %s | %s | DKIM: %s" % (h.header(raw, "X-Original-To"),
                                     h.header(raw, "Subject"), sig or "none")


def run_check(nginx, mta, cfg, keys, port, timeout):
    """Post the contact form once, wait for both copies, show them."""
    fields = {"name": "Demo Visitor", "email": "visitor@example.org",
              "message": "Hello from scripts/demo --check.\nSecond line: ünïcödé ✓",
              "_gotcha": ""}
    st, hd, body = nginx.post("/f2m/contact", fields, headers={
        "Accept": "application/json", "Origin": "https://localhost:%d" % port})
    say("POST https://localhost:%d/f2m/contact -> %d %s" % (port, st, body.decode(errors="replace")))
    if st != 200:
        return 1
    try:
        sub_id = json.loads(body)["id"]
    except (ValueError, KeyError):
        say("check: no id in the answer")
        return 1
    mid = "<%s@%s>" % (sub_id, cfg["sender"]["hostname"])
    want = len(cfg["forms"]["contact"]["recipients"])
    deadline = time.monotonic() + timeout
    copies = []
    while time.monotonic() < deadline:
        copies = mta.copies(mid)
        if len(copies) >= want:
            break
        time.sleep(0.1)
    if len(copies) < want:
        say("check: expected %d copies of %s within %.0fs, got %d" % (want, mid, timeout, len(copies)))
        say(h.tail(mta.maillog, 20))
        return 1
    path, raw = copies[0]
    say("\nMail %s (%s):\n" % (mid, path))
    say(h.headers_of(raw).decode("utf-8", "replace"))
    say("\nEnvelope recipients: %s" % ", ".join(mta.envelope_recipients(mid)))
    errs = []
    res = h.verify_dkim(raw, keys.txt, errs)
    for i, d, s, a, ok in res:
        say("DKIM signature %d: d=%s s=%s a=%s: %s" % (i, d, s, a, "pass" if ok else "FAIL"))
    for e in errs:
        say("  " + e)
    algs = sorted(a for _, _, _, a, ok in res if ok)
    if algs != ["ed25519-sha256", "rsa-sha256"]:
        say("check: expected valid rsa-sha256 and ed25519-sha256 signatures")
        return 1
    say("\ncheck: ok")
    return 0


def main():
    ap = argparse.ArgumentParser(description="Run the form2mail demo on real nginx, Postfix and Dovecot.")
    ap.add_argument("--dir", default="/tmp/form2mail-demo",
                    help="state directory (default %(default)s)")
    ap.add_argument("--port", type=int, default=8443,
                    help="HTTPS port on 127.0.0.1 (default %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="post the form once, wait for the mail, print it and exit")
    ap.add_argument("--timeout", type=float, default=35.0,
                    help="seconds --check waits for the mail (default %(default)s)")
    args = ap.parse_args()

    if os.geteuid() != 0:
        die("run as root (Postfix, Dovecot and nginx are started with their own configs)")
    binary = h.f2m_bin()
    if not os.access(binary, os.X_OK):
        die("%s not found: build first (scripts/demo does), or set F2M_BIN" % binary)
    if not h.port_is_free(args.port):
        die("port %d on 127.0.0.1 is busy: stop what uses it or pass --port" % args.port)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    d = os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    started = []  # (name, object) in start order
    rc = 0
    try:
        pki = h.make_pki(os.path.join(d, "pki"), reuse=True)
        keys = h.make_dkim_keys(os.path.join(d, "dkim"), DOMAIN, reuse=True)
        password = load_password(os.path.join(d, "mta-password"))

        mta = h.Mta(os.path.join(d, "mta"), pki, username="forms@" + DOMAIN,
                    password=password)
        mta.start()
        started.append(("Postfix + Dovecot", mta))

        fdir = h.makedirs(os.path.join(d, "f2m"))
        cfg = demo_config(fdir, mta, keys, args.port)
        conf_path = os.path.join(fdir, "form2mail.json")
        h.write_config(conf_path, cfg)
        f2m = h.Form2mail(conf_path, log_file=os.path.join(fdir, "form2mail.log"),
                          binary=binary)
        f2m.start()
        started.append(("form2mail", f2m))

        www = h.makedirs(os.path.join(d, "www"))
        src = os.path.join(REPO, "examples", "contact.html")
        for name in ("index.html", "contact.html"):
            shutil.copy(src, os.path.join(www, name))
            os.chmod(os.path.join(www, name), 0o644)
        nginx = h.Nginx(os.path.join(d, "nginx"), pki, f2m.socket, docroot=www,
                        port=args.port)
        nginx.start()
        started.append(("nginx", nginx))

        say("form2mail demo is running.\n")
        say("  Contact page:  https://127.0.0.1:%d/   (self-signed test CA: %s)"
            % (args.port, pki.ca))
        say("  Form posts to: https://127.0.0.1:%d/f2m/contact" % args.port)
        say("  Maildir:       %s/new   (every recipient lands here, X-Original-To tells which)"
            % mta.maildir)
        say("  form2mail:     pid %d, config %s, log %s" % (f2m.pid, conf_path, f2m.log_file))
        st = os.stat(f2m.socket)
        say("  FastCGI:       %s, mode %04o, group %s (the web server's; never 0666)"
            % (f2m.socket, st.st_mode & 0o7777, grp.getgrgid(st.st_gid).gr_name))
        say("  SMTP:          %s as %s (Postfix log %s)"
            % (cfg["smtp"]["url"], mta.username, mta.maillog))
        say("\n  DKIM records to publish for %s:" % DOMAIN)
        for line in keys.zone_lines():
            say("    " + line)
        say("")

        if args.check:
            rc = run_check(nginx, mta, cfg, keys, args.port, args.timeout)
            return rc

        say("Ctrl-C to stop.\n")
        seen = set(p for p, _ in mta.messages())
        while True:
            time.sleep(0.5)
            for name, obj in started:
                if name == "form2mail" and not obj.running():
                    say("demo: form2mail exited (%s)\n%s" % (obj.proc.returncode, h.tail(obj.log_file)))
                    rc = 1
                    return rc
                if name == "nginx" and obj.proc.poll() is not None:
                    say("demo: nginx exited (%s)\n%s" % (obj.proc.returncode, h.tail(obj.error_log)))
                    rc = 1
                    return rc
            for path, raw in mta.messages():
                if path not in seen:
                    seen.add(path)
                    say("mail: " + describe(raw, keys.txt))
    except Stop as e:
        say("\ndemo: %s received, stopping" % e)
    except h.HarnessError as e:
        say("demo: error: %s" % e)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for name, obj in reversed(started):
            try:
                obj.stop()
                say("demo: stopped %s" % name)
            except Exception as e:  # keep stopping the others
                say("demo: stopping %s failed: %s" % (name, e))
                rc = 1
        if started:
            say("demo: everything it started is stopped (state kept in %s)" % d)
    return rc


if __name__ == "__main__":
    sys.exit(main())
