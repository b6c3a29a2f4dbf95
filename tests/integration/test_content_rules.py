"""The content rules (max_links, blocked_phrases) on every visitor-typed
value that reaches the mail, through nginx (issue 16, F7).

A post whose subject (Formspree/FormSubmit `_subject`, NMS/Web3Forms
`subject`), Reply-To (`_replyto`, `replyto`), Reply-To name
(`realname`, `from_name`) or the name of an extra field shown in the
mail (extra_fields "include") carries more links than max_links or a blocked
phrase is spam: answered exactly like an accepted post (200 with an id),
nothing spooled.  Values that reach no message (`_next`, `redirect`) are
not judged: a post with them is accepted and spooled.

Run against the old binary (F2M_BIN=/work/base/build/form2mail) the
`_subject` and `_replyto` posts are spooled for delivery: it fails.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}
GOOD = {"name": "Ada", "email": "ada@example.org", "message": "Hello"}
LINKS = "see http://a.example and www.b.example"
PHRASE = "Buy CHEAP Pills today"


def queued(cfg):
    return sorted(os.listdir(os.path.join(cfg["spool_dir"], "queue")))


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        # Nothing listens there: what is accepted stays in the spool.
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        rules = {"max_links": 1, "blocked_phrases": ["cheap pills"],
                 "allow_subject_field": True}
        # email is the configured Reply-To: _replyto is not read
        cfg["forms"]["subj"] = h.contact_form(**rules)
        # no reply_to field: _replyto / replyto and the name are read;
        # extras are ignored, so only the route carries them to the mail
        # extras included: an extra field's name is shown in the mail
        cfg["forms"]["extra"] = h.contact_form(extra_fields="include",
                                               **rules)
        cfg["forms"]["reply"] = h.contact_form(
            fields={"email": {"required": False, "reply_to": False}},
            extra_fields="ignore", redirect_allowlist=["https://site.test/"],
            **rules)
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            cases(ngx, cfg)
        finally:
            ngx.stop()
            f2m.stop()
        log = f2m.log()
        check("AddressSanitizer" not in log and "runtime error" not in log,
              "no sanitizer report", None, log[-2000:])
        if FAILS:
            print(log[-3000:])
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def post(ngx, form, fields):
    s, hd, b = ngx.post("/f2m/" + form, fields, JSON)
    try:
        j = json.loads(b)
    except ValueError:
        j = None
    return s, j, b


def accepted_shape(s, j):
    return s == 200 and isinstance(j, dict) and j.get("ok") is True and \
        re.fullmatch(r"[a-z0-9]{26}", j.get("id", "")) is not None


def spam(ngx, cfg, form, what, fields):
    before = queued(cfg)
    s, j, b = post(ngx, form, fields)
    after = queued(cfg)
    check(accepted_shape(s, j), "%s: answered as accepted" % what, 200,
          (s, b[:200]))
    new = [x for x in after if x not in before]
    check(not new, "%s: nothing spooled (dropped as spam)" % what, [], new)
    print("  %-44s status=%s spooled=%d" % (what, s, len(new)))


def ham(ngx, cfg, form, what, fields):
    before = queued(cfg)
    s, j, b = post(ngx, form, fields)
    after = queued(cfg)
    check(accepted_shape(s, j), "%s: accepted" % what, 200, (s, b[:200]))
    check(j is not None and j.get("id") in after and j.get("id") not in
          before, "%s: spooled" % what, j and j.get("id"), after)
    print("  %-44s status=%s spooled=%d" % (what, s,
          len([x for x in after if x not in before])))


def cases(ngx, cfg):
    ham(ngx, cfg, "subj", "plain post", GOOD)
    ham(ngx, cfg, "subj", "_subject with one link",
        dict(GOOD, _subject="see www.a.example"))
    spam(ngx, cfg, "subj", "_subject with two links",
         dict(GOOD, _subject=LINKS))
    spam(ngx, cfg, "subj", "_subject with a blocked phrase",
         dict(GOOD, _subject=PHRASE))
    spam(ngx, cfg, "subj", "link in _subject + link in message",
         dict(GOOD, _subject="www.a.example", message="www.b.example"))
    spam(ngx, cfg, "reply", "subject (NMS, Web3Forms), extras ignored",
         dict(GOOD, subject=PHRASE))
    spam(ngx, cfg, "reply", "_replyto on a www. host + a link",
         dict(GOOD, _replyto="x@www.spam.example", message="www.a.example"))
    spam(ngx, cfg, "reply", "realname with a blocked phrase",
         dict(GOOD, _replyto="x@example.org", realname="cheap pills shop"))
    spam(ngx, cfg, "reply", "from_name with a blocked phrase",
         dict(GOOD, replyto="x@example.org", from_name="cheap pills shop"))
    # an extra field's name reaches the mail as its label
    ham(ngx, cfg, "extra", "extra field with one link in its name",
        dict(GOOD, **{"see www.a.example": "x"}))
    spam(ngx, cfg, "extra", "extra field named with two links",
         dict(GOOD, **{LINKS: "x"}))
    spam(ngx, cfg, "extra", "extra field named with a blocked phrase",
         dict(GOOD, **{PHRASE: "x"}))
    # what reaches no message is not judged: max_links 1 and two URLs
    ham(ngx, cfg, "reply", "_next and redirect hold URLs",
        dict(GOOD, message="www.a.example", _next="https://site.test/x",
             redirect="https://site.test/y"))


if __name__ == "__main__":
    sys.exit(main())
