"""A compromised worker (it runs as the service user, which owns the spool)
writes its own files into queue/: the deliverer must not sign and send
mail to a recipient, from a sender or for a form that config did not name.
Each forged file goes to failed/ with the reason logged and nothing reaches
the MTA; a genuine message queued beside them is delivered (the control
that shows the deliverer did run).  SECURITY.md section 3."""
import os
import pwd
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

ALPHA = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_id():
    return "".join(random.choice(ALPHA) for _ in range(26))


def forge(text, sid, **changes):
    """The genuine file with envelope lines replaced or added, renamed to
    a new id (the Message-ID inside is changed too, so a delivery would
    be told apart)."""
    head, _, msg = text.partition("\n\n")
    lines = head.split("\n")
    out = []
    for ln in lines:
        k = ln.split(" ", 1)[0]
        if k in changes and changes[k] is not None and k != "rcpt":
            out.append("%s %s" % (k, changes[k]))
        else:
            out.append(ln)
    if changes.get("rcpt"):
        out.append("rcpt %s" % changes["rcpt"])
    nid = new_id()
    return nid, "\n".join(out) + "\n\n" + msg.replace(sid, nid)


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        mta = h.Mta(wd.sub("mta"), pki)
        mta.start()
        d = wd.sub("f2m")
        cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
        cfg["forms"]["contact"]["recipients"] = ["sales@example.test"]
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        try:
            r = f2m.cli("send-test", "contact")
            check(r.returncode == 0, "send-test queued the genuine message",
                  0, (r.returncode, r.stderr))
            sid = r.stdout.split()[1]
            qdir = os.path.join(cfg["spool_dir"], "queue")
            with open(os.path.join(qdir, sid)) as f:
                genuine = f.read()
            user = pwd.getpwnam(cfg["user"])
            cases = [
                ("an added recipient", dict(rcpt="victim@elsewhere.example")),
                ("a foreign envelope sender",
                 dict(**{"from": "attacker@elsewhere.example"})),
                ("a form that does not exist", dict(form="nosuchform")),
            ]
            forged = {}
            for what, ch in cases:
                nid, text = forge(genuine, sid, **ch)
                p = os.path.join(qdir, nid)
                with open(p, "w") as f:
                    f.write(text)
                os.chown(p, user.pw_uid, user.pw_gid)
                os.chmod(p, 0o600)
                forged[nid] = what
            f2m.start()
            mta.wait_messages(1, 60)
            host = h.message_id_domain(cfg)
            fdir = os.path.join(cfg["spool_dir"], "failed")
            h.wait_until(lambda: all(os.path.exists(os.path.join(fdir, i))
                                     for i in forged), 30,
                         what="the forged files in failed/")
            got = mta.by_message_id()
            check(got.get("<%s@%s>" % (sid, host)) == 1, "the genuine "
                  "message was delivered (the deliverer ran)", 1, got)
            log = f2m.log()
            for nid, what in forged.items():
                check(("<%s@%s>" % (nid, host)) not in got, "%s: not sent" %
                      what, None, got)
                check(os.path.exists(os.path.join(fdir, nid)), "%s: moved "
                      "to failed/" % what)
                check("deliver id=%s" % nid in log and "is something "
                      "writing into the spool?" in log, "%s: the reason is "
                      "logged" % what, None, log[-1500:])
            check("victim@elsewhere.example" not in mta.log(), "the MTA "
                  "never saw the added recipient", None, mta.log()[-800:])
        finally:
            f2m.stop()
            mta.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
