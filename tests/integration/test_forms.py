"""Many forms and the names users bring from other services: recipient
routing by a visitor's choice (and NMS "recipient" as its alias),
_replyto / email as Reply-To, _subject only when allowed, _format=plain,
honeypot aliases, and CORS with its preflight.  Checked in the spool: the
envelope and headers exactly as they will be sent."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}


def spooled(cfg, sid):
    p = os.path.join(cfg["spool_dir"], "queue", sid)
    if not os.path.exists(p):
        return None, None
    with open(p, "rb") as f:
        head, _, msg = f.read().partition(b"\n\n")
    env = {}
    for line in head.split(b"\n")[1:]:
        k, _, v = line.decode().partition(" ")
        env.setdefault(k, []).append(v)
    return env, h.parse_message(msg)


def main():
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        d = wd.sub("f2m")
        cfg = h.default_config(d, pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["duplicate_window"] = 0
        cfg["forms"]["dept"] = {
            "route": {"field": "department", "choices": {
                "sales": ["Sales <sales@example.test>"],
                "support": ["support@example.test", "help@example.test"]}},
            "subject": "To {{department}}",
            "fields": {"name": {"required": True},
                       "department": {"label": "Department"}},
            "allow_missing_origin": True}
        cfg["forms"]["legacy"] = {
            "recipients": ["owner@example.test"],
            "allow_subject_field": True,
            "fields": {"name": {}, "comments": {"multiline": True}},
            "allowed_origins": ["https://site.test"],
            "allow_missing_origin": True}
        # a templates_dir of our own, with a page of the form "custom"
        tdir = wd.sub("templates")
        for n in os.listdir(os.path.join(h.REPO, "templates")):
            with open(os.path.join(h.REPO, "templates", n), "rb") as f:
                h.write_file(os.path.join(tdir, n), f.read())
        h.write_file(os.path.join(tdir, "ours.en.html"),
                     "<p>Custom thanks for {{_form}}: {{_id}}</p>\n")
        cfg["templates_dir"] = tdir
        cfg["forms"]["custom"] = {
            "recipients": ["owner@example.test"], "fields": {"name": {}},
            "pages": {"thanks": "ours"}, "allow_missing_origin": True}
        cfg["forms"]["files"] = {
            "recipients": ["owner@example.test"],
            "fields": {"name": {}},
            "uploads": {"allowed_types": ["application/pdf", "image/png"],
                        "max_file_size": 2000, "max_files": 2,
                        "max_total": 3000},
            "allow_missing_origin": True}
        cfg["limits"]["max_fields"] = 20
        cfg["forms"]["strictsubj"] = {
            "recipients": ["owner@example.test"],
            "subject": "Fixed subject",
            "fields": {"name": {}}, "allow_missing_origin": True}
        path = os.path.join(d, "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            routing(ngx, cfg)
            names(ngx, cfg)
            cors(ngx)
            pages(ngx)
            uploads(ngx, cfg)
        finally:
            ngx.stop()
            f2m.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def post(ngx, form, fields, headers=None):
    s, hd, b = ngx.post("/f2m/" + form, fields, dict(JSON, **(headers or {})))
    try:
        return s, hd, json.loads(b)
    except ValueError:
        return s, hd, b


def routing(ngx, cfg):
    for choice, rcpt in (("sales", ["sales@example.test"]),
                         ("support", ["support@example.test",
                                      "help@example.test"])):
        s, _, j = post(ngx, "dept", {"name": "Ada", "department": choice})
        env, m = spooled(cfg, j.get("id", "")) if s == 200 else (None, None)
        check(env is not None and env.get("rcpt") == rcpt,
              "route %s: envelope" % choice, rcpt, env and env.get("rcpt"))
        check(m is not None and [a.addr_spec for a in m["To"].addresses] ==
              rcpt, "route %s: To" % choice, rcpt, m and str(m["To"]))
    s, _, j = post(ngx, "dept", {"name": "Ada", "recipient": "support"})
    env, m = spooled(cfg, j.get("id", "")) if s == 200 else (None, None)
    check(env is not None and env.get("rcpt") == ["support@example.test",
                                                  "help@example.test"],
          "NMS recipient= is an alias of the route field", None, (s, j, env))
    for bad in ("marketing", "evil@evil.test", "sales\r\nBcc: x@evil.test",
                "Sales"):
        s, _, j = post(ngx, "dept", {"name": "Ada", "department": bad})
        check(s == 422 and j.get("errors", {}).get("department") in
              ("choice", "invalid"), "unknown choice %r: 422" % bad, 422,
              (s, j))
    s, _, j = post(ngx, "dept", {"name": "Ada"})
    check(s == 422 and j.get("errors") == {"department": "required"},
          "no choice: 422 required", 422, (s, j))


def names(ngx, cfg):
    s, _, j = post(ngx, "legacy", {"name": "Ada", "_replyto": "ada@example.org",
                                   "email": "other@example.org"})
    env, m = spooled(cfg, j.get("id", ""))
    check(m is not None and str(m["Reply-To"]) == "ada@example.org",
          "_replyto gives Reply-To", "ada@example.org", m and m["Reply-To"])
    check(env is not None and env.get("rcpt") == ["owner@example.test"],
          "_replyto does not add a recipient", None, env)
    s, _, j = post(ngx, "legacy", {"name": "Ada", "email": "bob@example.org"})
    env, m = spooled(cfg, j.get("id", ""))
    check(m is not None and str(m["Reply-To"]) == "bob@example.org",
          "email gives Reply-To without _replyto", None, m and m["Reply-To"])
    s, _, j = post(ngx, "legacy", {"name": "Ada",
                                   "_replyto": "a@example.org\r\nBcc: x@e.test"})
    check(s == 422, "_replyto with CRLF: 422", 422, (s, j))
    s, _, j = post(ngx, "legacy", {"name": "Ada",
                                   "_replyto": "a@example.org, b@example.org"})
    check(s == 422, "_replyto with two addresses: 422", 422, (s, j))
    s, _, j = post(ngx, "legacy", {"name": "Ada", "_subject": "Devis été"})
    env, m = spooled(cfg, j.get("id", ""))
    check(m is not None and str(m["Subject"]) == "Devis été",
          "_subject with allow_subject_field", "Devis été",
          m and str(m["Subject"]))
    s, _, j = post(ngx, "legacy", {"name": "Ada",
                                   "_subject": "x\r\nBcc: evil@evil.test"})
    check(s == 422 and "_subject" in j.get("errors", {}),
          "_subject with CRLF: 422", 422, (s, j))
    s, _, j = post(ngx, "strictsubj", {"name": "Ada", "_subject": "Mine"})
    env, m = spooled(cfg, j.get("id", ""))
    check(m is not None and str(m["Subject"]) == "Fixed subject",
          "_subject ignored without allow_subject_field", "Fixed subject",
          m and str(m["Subject"]))
    s, _, j = post(ngx, "legacy", {"name": "Ada", "_format": "plain"})
    env, m = spooled(cfg, j.get("id", ""))
    check(m is not None and m.get_content_type() == "text/plain",
          "_format=plain: text/plain only", "text/plain",
          m and m.get_content_type())
    s, _, j = post(ngx, "legacy", {"name": "Ada"})
    env, m = spooled(cfg, j.get("id", ""))
    check(m is not None and m.get_content_type() == "multipart/alternative",
          "without _format: text and HTML", None, m and m.get_content_type())
    check(m is not None and m["Reply-To"] is None, "no Reply-To without an "
          "address")
    for hp in ("_gotcha", "_honey", "botcheck"):
        before = set(os.listdir(os.path.join(cfg["spool_dir"], "queue")))
        s, _, j = post(ngx, "legacy", {"name": "Ada", hp: "1"})
        after = set(os.listdir(os.path.join(cfg["spool_dir"], "queue")))
        check(s == 200 and j.get("ok") and after == before,
              "honeypot alias %s: accepted, nothing kept" % hp, None, (s, j))
    s, _, j = post(ngx, "legacy", {"name": "Ada", "botcheck": ""})
    env, m = spooled(cfg, j.get("id", ""))
    body = m.get_body(("plain",)).get_content() if m else ""
    check(s == 200 and "botcheck" not in body, "an empty botcheck is not "
          "shown in the mail", None, body)


def cors(ngx):
    s, hd, b = ngx.request("OPTIONS", "/f2m/legacy", headers={
        "Origin": "https://site.test",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    check(s == 204 and hd.get("Access-Control-Allow-Origin") ==
          "https://site.test" and "POST" in hd.get(
              "Access-Control-Allow-Methods", ""), "preflight from an "
          "allowed origin", None, (s, dict(hd)))
    s, hd, b = ngx.request("OPTIONS", "/f2m/legacy", headers={
        "Origin": "https://evil.test",
        "Access-Control-Request-Method": "POST"})
    check("Access-Control-Allow-Origin" not in hd, "no CORS grant for "
          "another origin", None, dict(hd))
    s, hd, b = ngx.post("/f2m/legacy", {"name": "Ada"}, dict(JSON, Origin=
                        "https://site.test"))
    check(s == 200 and hd.get("Access-Control-Allow-Origin") ==
          "https://site.test" and "Origin" in hd.get("Vary", ""),
          "CORS header on the answer", None, (s, dict(hd)))
    s, hd, b = ngx.post("/f2m/legacy", {"name": "Ada"}, dict(JSON, Origin=
                        "https://evil.test"))
    check(s == 403 and "Access-Control-Allow-Origin" not in hd,
          "another origin: 403 without a CORS grant", 403, (s, dict(hd)))


def pages(ngx):
    s, hd, b = ngx.post("/f2m/dept", {"name": ""},
                        {"Accept-Language": "fr-CH, fr;q=0.9, en;q=0.8"})
    check(s == 422 and "ce champ est obligatoire".encode() in b and
          hd.get("Content-Language") == "fr", "French error page by "
          "Accept-Language", None, (s, b[:300]))
    s, hd, b = ngx.post("/f2m/dept", {"name": ""},
                        {"Accept-Language": "de, en;q=0.5, fr;q=0.4"})
    check(s == 422 and "Bitte füllen Sie dieses Feld aus".encode() in b and
          hd.get("Content-Language") == "de", "German error page (the "
          "shipped error.de.html)", None, (s, b[:300]))
    s, hd, b = ngx.post("/f2m/dept", {"name": ""},
                        {"Accept-Language": "ja, en;q=0.5, fr;q=0.4"})
    check(s == 422 and b"is required" in b and hd.get("Content-Language") ==
          "en", "English error page (ja not offered, en above fr)", None,
          (s, b[:300]))
    s, hd, b = ngx.post("/f2m/dept", {"name": "Ada", "department": "sales"},
                        {"Accept-Language": "fr"})
    check(s == 200 and "Merci".encode() in b and b"<!DOCTYPE html>" in b,
          "French thank-you page", None, (s, b[:300]))
    s, hd, b = ngx.post("/f2m/custom", {"name": "Ada"})
    check(s == 200 and b.startswith(b"<p>Custom thanks for custom: "),
          "a form's own thank-you page", None, (s, b[:300]))
    s, hd, b = ngx.post("/f2m/custom", {"name": "Ada"},
                        {"Accept-Language": "fr"})
    check(s == 200 and b.startswith(b"<p>Custom thanks"), "its English "
          "page serves when there is no French one", None, (s, b[:300]))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40


def upload(ngx, form, files, fields=None):
    body, ctype = h.multipart(fields or {"name": "Ada"}, files)
    s, hd, b = ngx.post("/f2m/" + form, body, dict(JSON, **{
        "Content-Type": ctype}))
    try:
        return s, json.loads(b)
    except ValueError:
        return s, b


def uploads(ngx, cfg):
    s, j = upload(ngx, "files", [("doc", "C:\\Users\\x\\..\\Devis été.pdf",
                                  "application/pdf", PDF),
                                 ("pic", "../../etc/passwd.png", "image/png",
                                  PNG)])
    env, m = spooled(cfg, j.get("id", "")) if s == 200 else (None, None)
    check(s == 200 and m is not None, "two files accepted", 200, (s, j))
    if m is not None:
        atts = [(p.get_filename(), p.get_content_type(), p.get_content())
                for p in m.iter_attachments()]
        check(atts == [("Devis été.pdf", "application/pdf", PDF),
                       ("passwd.png", "image/png", PNG)],
              "attached with paths stripped, names and bytes kept", None,
              [(a, b_, len(c)) for a, b_, c in atts])
    s, j = upload(ngx, "files", [("doc", "invoice.pdf", "application/pdf",
                                  b"MZ\x90\0 this is an exe")])
    check(s == 422 and j.get("errors") == {"doc": "type"}, "type decided by "
          "content, not the claim", 422, (s, j))
    s, j = upload(ngx, "files", [("doc", "big.pdf", "application/pdf",
                                  PDF + b"x" * 3000)])
    check(s == 422 and j.get("errors") == {"doc": "size"}, "file over "
          "max_file_size: 422 size", 422, (s, j))
    s, j = upload(ngx, "files", [("a", "a.pdf", "application/pdf", PDF)] * 3)
    check(s == 413, "more than max_files: 413", 413, (s, j))
    before = sorted(os.listdir(os.path.join(cfg["spool_dir"], "queue")))
    s, j = upload(ngx, "legacy", [("doc", "a.pdf", "application/pdf", PDF)])
    check(s == 422 and j.get("errors") == {"doc": "file"}, "a file on a "
          "form without uploads: 422 file", 422, (s, j))
    after = sorted(os.listdir(os.path.join(cfg["spool_dir"], "queue")))
    check(after == before, "a file on a form without uploads: nothing "
          "spooled", before, after)
    s, j = upload(ngx, "files", [("doc", "", "application/octet-stream", b"")])
    check(s == 200, "an empty file input is no file", 200, (s, j))
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
            b"Ada\r\n--XyZ\r\nContent-Disposition: form-data; name=\"doc\"; "
            b"filename=\"a.pdf\"\r\n\r\n" + PDF)   # no final boundary
    s, hd, b = ngx.post("/f2m/files", body, dict(JSON, **{
        "Content-Type": "multipart/form-data; boundary=XyZ"}))
    check(s == 400, "missing final boundary: 400", 400, (s, b[:200]))


if __name__ == "__main__":
    sys.exit(main())
