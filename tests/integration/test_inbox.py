"""Notifications land in the inbox: every kind of mail form2mail sends,
delivered through a real Postfix, is scored by a receiving rspamd and a
receiving SpamAssassin (spamd) with real DNS answers for the site's domain
(SPF, both DKIM keys, DMARC p=reject; tests/integration/receiver.py), once
as the site's own mail server would see it (recipient on the From domain)
and once as another domain's would.  Each must score <= 0 on both; every
rule that fired is printed.

Kinds: a plain-text notification, HTML + text, one with an upload, the
autoreply to the visitor, and `send-test`.  The shipped defaults are used:
no sender.message_id_domain, no sender.envelope_from, sender.hostname on a
www. host (the EHLO name; it must not reach the Message-ID).

Then the pre-check: the same rspamd, with those DNS answers, judges the
unsigned draft form2mail sends before spooling.  An ordinary French
message from the visitor's address must start at a baseline <= 0 (the SPF,
DKIM, DMARC and ARC groups are off for that request), GTUBE must still be
rejected."""
import json
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402
import receiver  # noqa: E402

JSON = {"Accept": "application/json"}
OWN = "Sales <sales@example.test>"
ELSEWHERE = "ops@partner.example"
VISITOR = "francois@example.org"
# The visitor's address as nginx sees it (real_ip from X-Forwarded-For): a
# public one, so that the pre-check's rspamd would judge SPF and DMARC
# from it (it skips them for loopback clients).
VISITOR_IP = "81.2.69.160"
XFF = {"X-Forwarded-For": VISITOR_IP}
NAME = "François Çédille"
MESSAGE = ("Bonjour,\n\nje voudrais un devis pour la rénovation de notre "
           "cuisine (environ 12 m²), si possible avant le printemps.\n"
           "Pouvez-vous me rappeler en fin de journée ?\n\nMerci d’avance,\n"
           "François")
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>"
       b"\n%%EOF\n")
MAX_SCORE = 0.0


def templates(wd):
    """The shipped templates plus `note`: the shipped default.txt alone,
    for a text-only notification."""
    d = wd.sub("templates")
    for n in os.listdir(os.path.join(h.REPO, "templates")):
        shutil.copy(os.path.join(h.REPO, "templates", n), d)
    shutil.copy(os.path.join(d, "default.txt"), os.path.join(d, "note.txt"))
    return d


def fields():
    return {"name": {"required": True, "max_length": 200},
            "email": {"required": True, "type": "email", "reply_to": True},
            "message": {"required": True, "max_length": 10000,
                        "multiline": True}}


def config(wd, mta, pki, keys, sock, spam=None, sender=None, name="f2m"):
    d = wd.sub(name)
    cfg = h.default_config(d, socket_path=sock, mta=mta, pki=pki, dkim=keys)
    # the shipped defaults: no envelope_from, no message_id_domain
    cfg["sender"] = {"from": "Example Forms <forms@example.test>",
                     "hostname": "www.example.test"}
    cfg["sender"].update(sender or {})
    cfg["templates_dir"] = templates(wd)
    cfg["duplicate_window"] = 0
    rc = [OWN, ELSEWHERE]
    cfg["forms"] = {
        "plain": {"recipients": rc, "fields": fields(), "template": "note",
                  "subject": "Contact: {{name}}",
                  "allow_missing_origin": True},
        "html": {"recipients": rc, "fields": fields(),
                 "subject": "Demande de devis : {{name}}",
                 "allow_missing_origin": True},
        "upload": {"recipients": rc, "fields": fields(),
                   "subject": "Contact: {{name}}",
                   "uploads": {"allowed_types": ["application/pdf"],
                               "max_file_size": 100000, "max_files": 2,
                               "max_total": 200000},
                   "allow_missing_origin": True},
        "auto": {"recipients": rc,
                 "fields": dict(fields(), name={"required": True,
                                               "max_length": 60}),
                 "subject": "Contact: {{name}}",
                 "challenge": {"type": "altcha", "max_number": 2000},
                 "autoresponder": {"field": "email",
                                   "subject": "Merci pour votre message"},
                 "allow_missing_origin": True},
    }
    if spam:
        cfg["spam"] = spam
    path = os.path.join(d, "form2mail.json")
    h.write_config(path, cfg)
    return cfg, path


def post(ngx, form, files=None):
    f = {"name": NAME, "email": VISITOR, "message": MESSAGE}
    if form == "auto":
        ch = json.loads(ngx.get("/f2m/auto/challenge", XFF)[2])
        f["altcha"] = h.altcha_solve(ch)
    if files:
        body, ctype = h.multipart(f, files)
        s, hd, b = ngx.post("/f2m/" + form, body,
                            dict(JSON, **XFF, **{"Content-Type": ctype}))
    else:
        s, hd, b = ngx.post("/f2m/" + form, f, dict(JSON, **XFF))
    check(s == 200, "%s: post accepted" % form, 200, (s, b[:300]))
    return json.loads(b).get("id") if s == 200 else None


def main():
    if not os.access(receiver.SPAMD, os.X_OK):
        print("spamd missing: scripts/deps installs it (package spamd)")
        return 1
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        rx = receiver.Receiver(wd.sub("rx"), keys).start()
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        sock = os.path.join(str(wd), "f2m.sock")
        ngx = h.Nginx(wd.sub("nginx"), pki, sock)
        ngx.extra_server = ("set_real_ip_from 127.0.0.1; "
                            "real_ip_header X-Forwarded-For;")
        ngx.start()
        try:
            trap(wd, rx, mta, ngx, pki, keys, sock)
            receiving(wd, rx, mta, ngx, pki, keys, sock)
            precheck(wd, rx, mta, ngx, pki, keys, sock)
        finally:
            ngx.stop()
            mta.stop()
            rx.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def trap(wd, rx, mta, ngx, pki, keys, sock):
    """The traps set on purpose (From the site's own address beside a
    recipient on its domain, Message-ID on the www. host): the receiving
    rspamd must see them, or the scores below would prove nothing."""
    cfg, path = config(wd, mta, pki, keys, sock, name="trap", sender={
        "same_domain_from": "sender", "message_id_domain": "www.example.test"})
    f2m = h.Form2mail(path)
    f2m.start()
    try:
        sid = post(ngx, "html")
        mta.wait_messages(2, timeout=60)
    finally:
        f2m.stop()
    check("SPOOF_REPLYTO" in f2m.log() and "MID_RHS_WWW" in f2m.log(),
          "serve warns about both traps at start", None, f2m.log()[-1500:])
    for name, raw in mta.messages():
        rcpt = h.header(raw, "X-Original-To") or ""
        rs, rules = rx.rspamd_score(receiver.as_received(raw, rcpt), rcpt)
        names = dict((r, p) for p, r, _ in rules)
        print("== trap (same_domain_from sender, Message-ID on www.) -> %s: "
              "rspamd %.2f %s" % (rcpt, rs, sorted(
                  "%s(%.2f)" % (r, p) for r, p in names.items() if p)))
        if rcpt.endswith("@example.test"):
            check(names.get("SPOOF_REPLYTO") == 6.0 and rs > 0,
                  "trap: the receiving rspamd scores SPOOF_REPLYTO +6 on the "
                  "site's own domain", "SPOOF_REPLYTO 6.0", (rs, names))
        check("MID_RHS_WWW" in names, "trap: MID_RHS_WWW on a www. "
              "Message-ID", None, sorted(names))
    check(sid is not None, "trap: posted")
    mta.clear()


def receiving(wd, rx, mta, ngx, pki, keys, sock):
    cfg, path = config(wd, mta, pki, keys, sock)
    f2m = h.Form2mail(path)
    f2m.start()
    kinds = {}
    try:
        for form in ("plain", "html"):
            kinds[post(ngx, form)] = form
        kinds[post(ngx, "upload", [("cv", "devis-cuisine.pdf",
                                    "application/pdf", PDF)])] = "upload"
        kinds[post(ngx, "auto")] = "notification+autoreply"
        p = f2m.cli("send-test", "-c", path, "html")
        check(p.returncode == 0, "send-test queues a sample", 0,
              (p.returncode, p.stderr))
        sid = p.stdout.split()[1] if p.returncode == 0 else None
        kinds[sid] = "send-test"
        # 4 posts x 2 recipients, the autoreply, send-test x 2
        mta.wait_messages(11, timeout=60)
    finally:
        f2m.stop()
    ids = {}
    for sid, kind in kinds.items():
        ids[sid] = kind
    byid = {}
    for name, raw in mta.messages():
        mid = h.header(raw, "Message-ID") or ""
        m = re.match(r"<([^@>]+)@([^>]+)>", mid)
        check(m is not None and not m.group(2).startswith("www."),
              "Message-ID is on the From domain, not the www. host",
              "<id@example.test>", mid)
        byid.setdefault(m.group(1) if m else mid, []).append(raw)
    kinds_by_mid = {}
    for mid_local in byid:
        k = ids.get(mid_local)
        if k is None:
            # the autoreply: its own id, sent to the visitor
            k = "autoreply"
        kinds_by_mid[mid_local] = k
    results = []
    for mid_local, raws in sorted(byid.items(), key=lambda x: x[0]):
        for raw in raws:
            rcpt = h.header(raw, "X-Original-To") or ""
            kind = kinds_by_mid[mid_local]
            m = h.parse_message(raw)
            frm = m["From"].addresses[0] if m["From"] else None
            if kind == "autoreply":
                check(frm is not None and frm.addr_spec ==
                      "forms@example.test" and m["Reply-To"] is None,
                      "autoreply: From the site, no Reply-To", None,
                      str(m["From"]))
            else:
                rt = m["Reply-To"].addresses[0].addr_spec \
                    if m["Reply-To"] else None
                check(frm is not None and frm.addr_spec ==
                      "sales@example.test" and frm.display_name ==
                      "Example Forms" and rt == (
                          "send-test@example.test" if kind == "send-test"
                          else VISITOR),
                      "%s: From the first recipient (on From's domain) "
                      "under the site's name, the visitor in Reply-To" % kind,
                      None, (str(m["From"]), str(m["Reply-To"])))
            msg = receiver.as_received(raw, rcpt)
            rs, rs_rules = rx.rspamd_score(msg, rcpt)
            sa, sa_rules = rx.sa_score(msg, rcpt)
            results.append((kind, rcpt, rs, sa))
            print("== %s -> %s" % (kind, rcpt))
            print("   rspamd %.2f" % rs)
            for pts, rule, desc in rs_rules:
                print("     %6.2f %-28s %s" % (pts, rule, desc[:72]))
            print("   SpamAssassin %.2f" % sa)
            for pts, rule, desc in sa_rules:
                print("     %6.2f %-28s %s" % (pts, rule, desc[:72]))
            check(rs <= MAX_SCORE, "%s -> %s: rspamd scores <= 0" %
                  (kind, rcpt), "<= 0", rs)
            check(sa <= MAX_SCORE, "%s -> %s: SpamAssassin scores <= 0" %
                  (kind, rcpt), "<= 0", sa)
            names = set(r for _, r, _ in rs_rules)
            check("R_DKIM_ALLOW" in names and "DMARC_POLICY_ALLOW" in names
                  and "R_SPF_ALLOW" in names,
                  "%s -> %s: rspamd sees SPF, DKIM and DMARC pass" %
                  (kind, rcpt), None, sorted(names))
            sanames = set(r for _, r, _ in sa_rules)
            check("DKIM_VALID_AU" in sanames and "SPF_PASS" in sanames,
                  "%s -> %s: SpamAssassin sees DKIM (author domain) and SPF "
                  "pass" % (kind, rcpt), None, sorted(sanames))
    seen = set((k, r.rpartition("@")[2]) for k, r, _, _ in results)
    for kind in ("plain", "html", "upload", "notification+autoreply",
                 "send-test"):
        for dom in ("example.test", "partner.example"):
            check((kind, dom) in seen, "%s scored at %s" % (kind, dom))
    check(any(k == "autoreply" for k, _, _, _ in results),
          "the autoreply was scored at the visitor's server")
    print("summary (kind, recipient, rspamd, SpamAssassin):")
    for k, r, rs, sa in results:
        print("   %-24s %-26s %6.2f %6.2f" % (k, r, rs, sa))
    mta.clear()


def rspamd_task_line(rx, qid, timeout=30):
    """rspamd's log line for the task form2mail sent with Queue-Id qid."""
    log = os.path.join(rx.rs.dir, "log", "rspamd.log")
    t = time.time() + timeout
    while time.time() < t:
        try:
            with open(log, errors="replace") as f:
                for line in f:
                    if "qid: <%s>" % qid in line and "(default:" in line:
                        return line
        except OSError:
            pass
        time.sleep(0.2)
    return None


def precheck(wd, rx, mta, ngx, pki, keys, sock):
    spam = {"rspamd_url": rx.rspamd_url(), "reject_score": 15,
            "hold_score": 6, "fail_open": False, "timeout": 20}
    shutil.rmtree(os.path.join(str(wd), "f2m"))
    cfg, path = config(wd, mta, pki, keys, sock, spam=spam)
    f2m = h.Form2mail(path)
    f2m.start()
    try:
        sid = post(ngx, "plain")
        line = rspamd_task_line(rx, sid) if sid else None
        check(line is not None, "rspamd logged the pre-check of the post",
              None, sid)
        m = re.search(r"\[(-?[0-9.]+)/[0-9.]+\]", line or "")
        base = float(m.group(1)) if m else None
        print("pre-check of an ordinary French message: %s" %
              (line or "").strip()[-600:])
        check(("ip: %s," % VISITOR_IP) in (line or ""), "the pre-check "
              "tells rspamd the visitor's address", VISITOR_IP, line)
        check(base is not None and base <= 0, "pre-check baseline <= 0 "
              "with real DNS answers (content alone)", "<= 0", base)
        for sym in ("R_SPF_FAIL", "R_SPF_ALLOW", "DMARC_POLICY_REJECT",
                    "R_DKIM_NA", "ARC_NA"):
            check(sym not in (line or ""), "pre-check: no %s" % sym, None,
                  line)
        s, hd, b = ngx.post("/f2m/plain", {"name": "Spammer", "email":
                                           VISITOR, "message": GTUBE},
                            dict(JSON, **XFF))
        check(s == 200, "GTUBE post answered like an accepted one", 200,
              (s, b[:200]))
        gid = json.loads(b).get("id") if s == 200 else None
        gl = rspamd_task_line(rx, gid) if gid else None
        check(gl is not None and "GTUBE" in gl and "reject" in gl,
              "rspamd rejects GTUBE in the pre-check", None, gl)
        # The deliverer may already have sent the ordinary message (it
        # starts alongside the workers): queued or sent, but never GTUBE.
        q = [e.get("id") for e in
             json.loads(f2m.cli("queue", "list", "--json").stdout)]
        with open(f2m.log_file, errors="replace") as fh:
            log = fh.read()
        sent = "deliver id=%s form=plain outcome=sent" % sid in log
        check(gid is not None and gid not in q and
              "deliver id=%s " % gid not in log and
              re.search(r"request id=%s .*outcome=spam_rspamd" % gid, log),
              "GTUBE is neither queued nor sent: outcome spam_rspamd",
              None, (q, gid))
        check(sid in q or sent, "the ordinary message is queued or sent",
              sid, (q, sent))
    finally:
        f2m.stop()


if __name__ == "__main__":
    sys.exit(main())
