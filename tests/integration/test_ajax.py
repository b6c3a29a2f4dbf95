"""AJAX posts as people write them, through real nginx: FormData
(multipart/form-data) on a form without uploads, JSON bodies (flat
objects, arrays as repeated fields, nested or broken JSON, the size
limits, the CORS preflight a cross-origin JSON post needs), Formspree's
answer shapes, the field names of NMS and Web3Forms, the answer pages in
German, Spanish and Portuguese, and attachment names that end in an
extension of their sniffed type.  Every accepted post is read back from
the spool."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

JSON = {"Accept": "application/json"}
ORIGIN = "https://site.test"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 40
MAX_BODY = 65536


def queue(cfg):
    return sorted(os.listdir(os.path.join(cfg["spool_dir"], "queue")))


def spooled(cfg, sid):
    p = os.path.join(cfg["spool_dir"], "queue", sid or "-")
    if not os.path.exists(p):
        return None
    with open(p, "rb") as f:
        return h.parse_message(f.read().partition(b"\n\n")[2])


def text_of(m):
    return m.get_body(("plain",)).get_content() if m is not None else ""


def answer(r):
    s, hd, b = r
    try:
        return s, hd, json.loads(b)
    except ValueError:
        return s, hd, b


def post_json(ngx, form, obj, headers=None, raw=None):
    body = raw if raw is not None else json.dumps(obj).encode()
    hd = dict(JSON, **{"Content-Type": "application/json"})
    hd.update(headers or {})
    return answer(ngx.post("/f2m/" + form, body, hd))


def post_formdata(ngx, form, fields, files=None, headers=None):
    body, ctype = h.multipart(fields, files)
    hd = dict(JSON, **{"Content-Type": ctype})
    hd.update(headers or {})
    return answer(ngx.post("/f2m/" + form, body, hd))


def config(wd):
    pki = h.make_pki(wd.sub("pki"))
    keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
    d = wd.sub("f2m")
    cfg = h.default_config(d, pki=pki, dkim=keys)
    h.write_secret(cfg["smtp"]["password_file"], "unused\n")
    cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
    cfg["duplicate_window"] = 0
    cfg["limits"]["max_body"] = MAX_BODY
    cfg["limits"]["max_fields"] = 20
    fields = {"name": {"required": True, "max_length": 200},
              "email": {"required": True, "type": "email",
                        "reply_to": True},
              "message": {"required": True, "multiline": True}}
    cfg["forms"]["plain"] = {
        "recipients": ["owner@example.test"], "fields": fields,
        "allowed_origins": [ORIGIN], "allow_missing_origin": True}
    cfg["forms"]["fs"] = {
        "recipients": ["owner@example.test"], "fields": fields,
        "json_style": "formspree",
        "success_url": "https://site.test/thanks.html",
        "allowed_origins": [ORIGIN], "allow_missing_origin": True}
    cfg["forms"]["fsnext"] = {
        "recipients": ["owner@example.test"], "fields": {"name": {}},
        "json_style": "formspree",
        "site_url": "https://site.test/contact/",
        "allow_missing_origin": True}
    cfg["forms"]["legacy"] = {
        "recipients": ["owner@example.test"], "allow_subject_field": True,
        "fields": {"comments": {"multiline": True}},
        "redirect_allowlist": ["https://site.test/done/"],
        "success_url": "https://site.test/thanks.html",
        "allow_missing_origin": True}
    cfg["forms"]["strict"] = {
        "recipients": ["owner@example.test"], "allow_subject_field": True,
        "extra_fields": "reject", "fields": {"comments": {}},
        "allow_missing_origin": True}
    cfg["forms"]["files"] = {
        "recipients": ["owner@example.test"], "fields": {"name": {}},
        "uploads": {"allowed_types": ["application/pdf", "text/plain",
                                      "image/png"],
                    "max_file_size": 4000, "max_files": 4,
                    "max_total": 12000},
        "allow_missing_origin": True}
    return cfg, pki


def formdata(ngx, cfg):
    before = queue(cfg)
    s, _, j = post_formdata(ngx, "plain", {
        "name": "Ada", "email": "ada@example.org", "message": "Bonjour"})
    m = spooled(cfg, j.get("id") if isinstance(j, dict) else None)
    check(s == 200 and m is not None and "Bonjour" in text_of(m),
          "FormData without files on a form without uploads: accepted",
          200, (s, j))
    body = (b"--B0\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
            b"Ada\r\n--B0\r\nContent-Disposition: form-data; name=\"email\""
            b"\r\n\r\nada@example.org\r\n--B0\r\nContent-Disposition: "
            b"form-data; name=\"message\"\r\n\r\nHi\r\n--B0\r\n"
            b"Content-Disposition: form-data; name=\"cv\"; filename=\"\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n\r\n--B0--\r\n")
    s, _, j = answer(ngx.post("/f2m/plain", body, dict(JSON, **{
        "Content-Type": "multipart/form-data; boundary=B0"})))
    m = spooled(cfg, j.get("id") if isinstance(j, dict) else None)
    check(s == 200 and m is not None and
          not list(m.iter_attachments()), "FormData with an empty file "
          "input: accepted, no attachment", 200, (s, j))
    n = len(queue(cfg))
    s, _, j = post_formdata(ngx, "plain", {
        "name": "Ada", "email": "ada@example.org", "message": "Hi"},
        [("cv", "cv.pdf", "application/pdf", PDF),
         ("cv", "cv2.pdf", "application/pdf", PDF)])
    check(s == 422 and j.get("errors") == {"cv": "file"}, "a file on a "
          "form without uploads: 422 file under its field", 422, (s, j))
    check(len(queue(cfg)) == n, "the refused file post spooled nothing",
          n, len(queue(cfg)))
    s, _, j = post_formdata(ngx, "plain", {
        "name": "Ada", "email": "ada@example.org", "message": "Hi"},
        [("cv", "empty.txt", "text/plain", b"")])
    check(s == 422 and j.get("errors") == {"cv": "file"}, "an empty file "
          "with a name is a file too: 422 file", 422, (s, j))
    s, _, j = post_formdata(ngx, "plain", {"name": "", "email": "x"})
    check(s == 422 and j.get("errors", {}).get("name") == "required" and
          j["errors"].get("email") == "email", "FormData is validated as "
          "urlencoded is", 422, (s, j))
    check(len(queue(cfg)) == len(before) + 2, "FormData: two posts spooled",
          len(before) + 2, len(queue(cfg)))


def json_bodies(ngx, cfg):
    s, _, j = post_json(ngx, "plain", {"name": "Zoë", "email":
                                       "zoe@example.org", "message":
                                       "Ligne 1\nLigne 2 \u2014 fin",
                                       "budget": 1500.50, "urgent": True,
                                       "topics": ["a", "b"]})
    m = spooled(cfg, j.get("id") if isinstance(j, dict) else None)
    t = text_of(m)
    check(s == 200 and m is not None, "JSON body accepted", 200, (s, j))
    check("Ligne 2 \u2014 fin" in t and "1500.5" in t and "true" in t,
          "JSON values reach the mail (string, number, boolean)", None, t)
    check(t.count("topics") == 2 and "a" in t and "b" in t,
          "a JSON array is a repeated field", None, t)
    check(m is not None and str(m["Reply-To"]) == "zoe@example.org",
          "JSON: the reply_to field gives Reply-To", "zoe@example.org",
          m and m["Reply-To"])
    for what, raw in (("nested object", b'{"name":{"first":"Ada"}}'),
                      ("array of objects", b'{"name":[{"a":1}]}'),
                      ("null", b'{"name":null}'),
                      ("top-level array", b'["Ada"]'),
                      ("broken", b'{"name":"Ada",'),
                      ("trailing text", b'{"name":"Ada"} x'),
                      ("lone surrogate", b'{"name":"\\ud800"}'),
                      ("raw control", b'{"name":"a\x01b"}')):
        n = len(queue(cfg))
        s, _, j = post_json(ngx, "plain", None, raw=raw)
        check(s == 400 and isinstance(j, dict) and j.get("error") ==
              "bad_request" and len(queue(cfg)) == n, "JSON %s: 400, "
              "nothing spooled" % what, 400, (s, j))
    s, _, j = post_json(ngx, "plain", {"name": "", "email": "nope"})
    check(s == 422 and j.get("errors", {}).get("email") == "email" and
          j["errors"].get("name") == "required", "JSON is validated as "
          "the other types", 422, (s, j))
    s, _, j = post_json(ngx, "plain", {"name": "Ada\r\nBcc: x@evil.test",
                                       "email": "a@example.org\r\nBcc: "
                                       "x@evil.test", "message": "x"})
    check(s == 422 and j.get("errors", {}).get("email") in
          ("email", "invalid"), "JSON: CRLF in a header-bound value: 422",
          422, (s, j))
    big = {"name": "Ada", "email": "a@example.org",
           "message": "x" * (MAX_BODY + 10)}
    s, _, j = post_json(ngx, "plain", big)
    check(s == 413, "JSON over max_body: 413", 413, (s, j))
    many = {"f%d" % i: "v" for i in range(25)}
    s, _, j = post_json(ngx, "plain", many)
    check(s == 413, "JSON with more pairs than max_fields: 413", 413, (s, j))
    s, _, j = post_json(ngx, "plain", {"name": ["a"] * 25})
    check(s == 413, "JSON array over max_fields: 413", 413, (s, j))
    # A cross-origin JSON post is preflighted (Content-Type is not a
    # "simple" one): the preflight and the post both get the grant.
    s, hd, _ = ngx.request("OPTIONS", "/f2m/plain", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, accept"})
    allow = hd.get("Access-Control-Allow-Headers", "").lower()
    check(s == 204 and hd.get("Access-Control-Allow-Origin") == ORIGIN and
          "content-type" in allow and "accept" in allow,
          "preflight of a cross-origin JSON post", None, (s, dict(hd)))
    s, hd, j = post_json(ngx, "plain", {"name": "Ada", "email":
                                        "a@example.org", "message": "x"},
                         {"Origin": ORIGIN})
    check(s == 200 and hd.get("Access-Control-Allow-Origin") == ORIGIN,
          "the cross-origin JSON post is granted", None, (s, dict(hd)))
    s, hd, b = ngx.post("/f2m/plain", json.dumps(
        {"name": "Ada", "email": "a@example.org", "message": "x"}),
        {"Content-Type": "application/json; charset=utf-8"})
    check(s == 200 and b"<!DOCTYPE html>" in b, "JSON without Accept: "
          "application/json gets the thank-you page", 200, (s, b[:120]))


def formspree(ngx, cfg):
    s, _, j = post_json(ngx, "fs", {"name": "Ada", "email": "a@example.org",
                                    "message": "x"})
    check(s == 200 and j.get("ok") is True and
          j.get("next") == "https://site.test/thanks.html",
          "formspree: 200 {ok:true, next}", None, (s, j))
    check(spooled(cfg, j.get("id")) is not None, "formspree: spooled")
    s, _, j = post_json(ngx, "fsnext", {"name": "Ada"})
    check(s == 200 and j.get("next") == "https://site.test/contact/",
          "formspree: next is site_url without success_url", None, (s, j))
    s, _, j = post_json(ngx, "fs", {"name": "", "email": "nope",
                                    "message": "x"},
                        {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    errs = j.get("errors") if isinstance(j, dict) else None
    check(s == 422 and isinstance(errs, list) and
          all(set(e) == {"field", "code", "message"} for e in errs) and
          sorted((e["field"], e["code"]) for e in errs) ==
          [("email", "email"), ("name", "required")],
          "formspree: 422 {errors:[{field,code,message}]}", None, (s, j))
    msgs = [e["message"] for e in errs or []]
    check(msgs and all(m and m.isprintable() for m in msgs) and not any(
        "required" in m or "valid email" in m for m in msgs),
        "formspree: the messages are in the negotiated language (de)",
        None, msgs)
    s, _, j2 = post_json(ngx, "fs", {"name": "", "email": "nope",
                                     "message": "x"})
    en = [e["message"] for e in j2.get("errors", [])]
    check(en != msgs and len(en) == 2, "formspree: English messages "
          "without Accept-Language", None, en)
    s, _, j = post_json(ngx, "plain", {"name": ""})
    check(s == 422 and isinstance(j.get("errors"), dict), "the default "
          "shape stays {errors:{field:code}}", None, (s, j))
    s, hd, j = post_formdata(ngx, "fs", {"name": "Ada", "email":
                                         "a@example.org", "message": "x"})
    check(s == 200 and j.get("ok") is True and "next" in j,
          "formspree: FormData as Formspree's client sends it", None, (s, j))


def migration(ngx, cfg):
    s, _, j = answer(ngx.post("/f2m/legacy", {
        "comments": "x", "replyto": "w3@example.org",
        "from_name": "Émile Zola", "subject": "Devis été"}, JSON))
    m = spooled(cfg, j.get("id") if isinstance(j, dict) else None)
    check(m is not None and m["Reply-To"].addresses[0].addr_spec ==
          "w3@example.org", "Web3Forms replyto gives Reply-To",
          "w3@example.org", m and str(m["Reply-To"]))
    check(m is not None and m["Reply-To"].addresses[0].display_name ==
          "Émile Zola", "Web3Forms from_name names the Reply-To",
          "Émile Zola", m and str(m["Reply-To"]))
    check(m is not None and str(m["Subject"]) == "Devis été",
          "Web3Forms/NMS subject with allow_subject_field", "Devis été",
          m and str(m["Subject"]))
    s, _, j = answer(ngx.post("/f2m/legacy", {
        "comments": "x", "email": "nms@example.org", "realname": "Ada L."},
        JSON))
    m = spooled(cfg, j.get("id") if isinstance(j, dict) else None)
    check(m is not None and str(m["Reply-To"]) == "\"Ada L.\" "
          "<nms@example.org>" or (m is not None and m["Reply-To"].addresses[
              0].display_name == "Ada L."), "NMS realname names the "
          "Reply-To", "Ada L.", m and str(m["Reply-To"]))
    for name, val in (("replyto", "a@example.org\r\nBcc: x@evil.test"),
                      ("replyto", "a@example.org, b@example.org")):
        s, _, j = answer(ngx.post("/f2m/legacy", {"comments": "x",
                                                  name: val}, JSON))
        check(s == 422 and name in j.get("errors", {}), "%s %r: 422" %
              (name, val), 422, (s, j))
    for name in ("realname", "from_name", "subject"):
        s, _, j = answer(ngx.post("/f2m/legacy", {
            "comments": "x", "email": "a@example.org",
            name: "Ada\r\nBcc: x@evil.test"}, JSON))
        check(s == 422 and j.get("errors", {}).get(name) == "invalid",
              "%s with CRLF: 422 invalid" % name, 422, (s, j))
    n = len(queue(cfg))
    s, _, j = answer(ngx.post("/f2m/legacy", {"comments": "x",
                                              "botcheck": "on"}, JSON))
    check(s == 200 and j.get("ok") and len(queue(cfg)) == n,
          "Web3Forms botcheck: answered as accepted, nothing kept", None,
          (s, j))
    s, hd, _ = ngx.post("/f2m/legacy", {"comments": "x", "redirect":
                                        "https://site.test/done/ok.html"})
    check(s == 303 and hd.get("Location") == "https://site.test/done/ok.html",
          "NMS redirect within the allowlist", None, (s, dict(hd)))
    s, hd, _ = ngx.post("/f2m/legacy", {"comments": "x", "redirect":
                                        "https://evil.test/phish"})
    check(s == 303 and hd.get("Location") == "https://site.test/thanks.html",
          "NMS redirect outside the allowlist: success_url", None,
          (s, dict(hd)))
    s, _, j = answer(ngx.post("/f2m/strict", {
        "comments": "x", "subject": "S", "realname": "R", "from_name": "F",
        "replyto": "r@example.org"}, JSON))
    check(s == 200, "the alias names are never 'unknown' under "
          "extra_fields: reject", 200, (s, j))
    s, _, j = answer(ngx.post("/f2m/strict", {"comments": "x", "other": "y"},
                              JSON))
    check(s == 422 and j.get("errors") == {"other": "unknown"},
          "... while another extra field still is", 422, (s, j))


def attachments(ngx, cfg):
    cases = (("invoice.hta", b"<script>alert(1)</script>\n",
              "invoice.hta.txt"),
             ("statement.html", b"<html><body>hi</body></html>\n",
              "statement.html.txt"),
             ("readme.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>\n",
              "readme.svg.txt"),
             ("payment.pdf.bat", PDF, "payment.pdf.bat.pdf"),
             ("notes.TXT", b"plain text\n", "notes.TXT"),
             ("scan.png", PNG, "scan.png"),
             ("noext", PDF, "noext.pdf"))
    for sent, data, want in cases:
        s, _, j = post_formdata(ngx, "files", {"name": "Ada"},
                                [("doc", sent, "application/pdf", data)])
        m = spooled(cfg, j.get("id") if isinstance(j, dict) else None)
        got = [p.get_filename() for p in m.iter_attachments()] if m else None
        check(s == 200 and got == [want], "attachment %r is named %r" %
              (sent, want), [want], (s, got))


def languages(ngx):
    # Error pages (422) of the shipped templates and the built-in pages
    # (413) in German, Spanish and Portuguese, by Accept-Language.
    texts = {}
    for lang, al in (("de", "de-AT,de;q=0.9,en;q=0.5"),
                     ("es", "es-MX, es;q=0.8, en;q=0.2"),
                     ("pt", "pt-BR,pt;q=0.9"),
                     ("en", "en-GB")):
        s, hd, b = ngx.post("/f2m/plain", {"name": "", "email": "x",
                                           "message": "m"},
                            {"Accept-Language": al})
        check(s == 422 and hd.get("Content-Language") == lang and
              ('lang="%s"' % lang).encode() in b, "%s error page" % lang,
              lang, (s, hd.get("Content-Language"), b[:200]))
        texts[lang] = b
        s, hd, b = ngx.post("/f2m/plain", "name=" + "x" * (MAX_BODY + 1),
                            {"Accept-Language": al})
        check(s == 413 and hd.get("Content-Language") == lang and
              ('lang="%s"' % lang).encode() in b, "%s built-in 413 page" %
              lang, lang, (s, hd.get("Content-Language"), b[:200]))
        texts[lang + "413"] = b
    for lang, phrase in (("de", "Bitte füllen Sie dieses Feld aus."),
                         ("es", "este campo es obligatorio."),
                         ("pt", "este campo é obrigatório."),
                         ("de413", "Das Formular ist zu groß."),
                         ("es413", "El formulario es demasiado grande."),
                         ("pt413", "O formulário é demasiado grande.")):
        check(phrase.encode() in texts[lang], "%s: %r" % (lang, phrase),
              phrase, texts[lang][:600])
    check(len({texts[k] for k in ("de", "es", "pt", "en")}) == 4 and
          len({texts[k + "413"] for k in ("de", "es", "pt", "en")}) == 4,
          "each language has its own text")
    s, hd, b = ngx.post("/f2m/plain", {"name": "", "email": "x",
                                       "message": "m"},
                        {"Accept-Language": "de;q=0.2, es;q=0.9, *;q=0.1"})
    check(hd.get("Content-Language") == "es", "the highest q wins", "es",
          hd.get("Content-Language"))
    s, hd, b = ngx.post("/f2m/plain", {"name": "", "email": "x",
                                       "message": "m"},
                        {"Accept-Language": "de;q=0, ja"})
    check(hd.get("Content-Language") == "en", "q=0 and unknown languages: "
          "English", "en", hd.get("Content-Language"))
    s, hd, b = ngx.post("/f2m/plain", {"name": "Ada", "email":
                                       "a@example.org", "message": "m"},
                        {"Accept-Language": "nl", "Origin": ORIGIN})
    check(s == 200 and hd.get("Content-Language") == "nl" and
          b'href="https://site.test' in b, "Dutch thank-you page with a "
          "way back to the site", None, (s, b[:400]))
    # The way back is the page the form was sent from when it is on an
    # allowed origin, never a visitor's URL the config does not vouch for.
    post = {"name": "Ada", "email": "a@example.org", "message": "m"}
    for referer, want in (
            ("https://site.test/contact.html?x=1",
             b'href="https://site.test/contact.html?x=1"'),
            ("https://site.test.evil.test/phish", b'href="https://site.test/"'),
            ("javascript:alert(1)", b'href="https://site.test/"'),
            ('https://site.test/"><script>', b'href="https://site.test/"')):
        s, hd, b = ngx.post("/f2m/plain", post, {"Origin": ORIGIN,
                                                  "Referer": referer})
        check(s == 200 and want in b and b"evil" not in b and
              b"javascript" not in b and b"<script>" not in b,
              "thank-you page: way back for Referer %r" % referer, want,
              (s, b[-300:]))
    s, hd, b = ngx.post("/f2m/fsnext", {"name": "Ada"},
                        {"Accept-Language": "it"})
    check(s == 200 and hd.get("Content-Language") == "it" and
          b'href="https://site.test/contact/"' in b and "Torna al sito"
          .encode() in b, "Italian thank-you page: site_url as the way back",
          None, (s, b[-400:]))


def main():
    with h.Workdir() as wd:
        cfg, pki = config(wd)
        path = os.path.join(wd.sub("f2m"), "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        ngx = h.Nginx(wd.sub("nginx"), pki, f2m.socket)
        ngx.start()
        try:
            formdata(ngx, cfg)
            json_bodies(ngx, cfg)
            formspree(ngx, cfg)
            migration(ngx, cfg)
            attachments(ngx, cfg)
            languages(ngx)
        finally:
            ngx.stop()
            f2m.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
