"""The example pages (examples/*.html) in a real browser: headless Chromium
driven by Selenium fills in and submits each page through nginx over HTTPS;
each post becomes a DKIM-signed mail in the Postfix Maildir.

  contact.html  plain form: the thank-you page; the mail's Message-ID is
                the reference the page shows
  ajax.html     fetch() of new FormData(form) (multipart/form-data on a
                form without uploads) with Accept: application/json: an invalid address
                gets an inline error, a valid post the inline success
                message, the page never reloads; with JavaScript off the
                same page posts as a plain form and gets the thank-you page
  altcha.html   the ALTCHA widget (npm "altcha", fetched by
                scripts/fetch-altcha and served from the same site as
                /assets/altcha.js): tick, wait until verified, submit
  upload.html   multipart/form-data with a small PDF: the thank-you page,
                the PDF attached to the mail byte for byte

Needs /usr/bin/chromium, /usr/bin/chromedriver and python3-selenium (Debian
chromium, chromium-driver, python3-selenium); without them it prints SKIP
and exits 77. The ALTCHA bundle needs npm on first use (cached under
build/altcha/ afterwards).

On a failure the workdir is kept and the screenshot of the page in hand is
printed. F2M_SCREENSHOT_DIR=DIR copies every page's screenshot there (test
artifacts; never committed).
"""
import email.header
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FETCH_ALTCHA = os.path.join(h.REPO, "scripts", "fetch-altcha")
EXAMPLES = os.path.join(h.REPO, "examples")
PAGES = ("contact.html", "ajax.html", "altcha.html", "upload.html")

# FIELD-NOTES "Other real parts": without the background-networking flags
# Chromium keeps trying hosts this machine cannot reach.
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--ignore-certificate-errors",
                "--disable-dev-shm-usage", "--window-size=1000,1300"]

PAGE_TIMEOUT = 15      # a page load or a form answer
SOLVE_TIMEOUT = 30     # the ALTCHA widget's proof of work
MAIL_TIMEOUT = 20      # post accepted -> mail in the Maildir
HOST = "www.example.test"


def skip(why):
    print("SKIP: %s" % why, flush=True)
    sys.exit(77)


def need_browser():
    for p in (CHROMIUM, CHROMEDRIVER):
        if not os.access(p, os.X_OK):
            skip("%s not found (Debian: chromium chromium-driver)" % p)
    try:
        import selenium  # noqa: F401
        from selenium import webdriver  # noqa: F401
    except ImportError:
        skip("python3-selenium not installed (run with /usr/bin/python3)")


def minimal_pdf():
    """A small, well-formed one-page PDF (xref offsets computed)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] "
            b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            None,
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    text = b"BT /F1 18 Tf 20 45 Td (form2mail test) Tj ET"
    objs[3] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text)
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, o)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, xref))
    return out


def multipart_committed():
    """The commits whose message names multipart/form-data or uploads
    (for the report when the upload form cannot be configured)."""
    try:
        p = subprocess.run(["git", "-C", h.REPO, "log", "--oneline", "-i",
                            "--grep", "multipart/form-data", "--grep",
                            "upload"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=10)
        return [l for l in p.stdout.splitlines() if l.strip()]
    except (OSError, subprocess.SubprocessError):
        return []


# --------------------------------------------------------------------------
# servers

def form(name, origin, **extra):
    f = h.contact_form(recipients=["Web <web@example.test>"],
                       subject="Example %s: {{name}}" % name,
                       allowed_origins=[origin],
                       allow_missing_origin=None)
    return h.merge(f, extra)


def make_config(d, mta, pki, keys, origin, with_upload=True):
    cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
    cfg["limits"]["max_body"] = 1048576
    cfg["forms"] = {
        "contact": form("contact", origin),
        "ajax": form("ajax", origin),
        "altcha": form("altcha", origin, challenge={
            "type": "altcha", "max_number": 20000}),
    }
    # without_upload: a build that does not know "uploads" yet still gets
    # the form, so the page's post shows what that build answers
    cfg["forms"]["upload"] = form("upload", origin)
    if with_upload:
        cfg["forms"]["upload"]["uploads"] = {
            "allowed_types": ["application/pdf", "image/png"],
            "max_file_size": 262144, "max_files": 1, "max_total": 262144}
    return cfg


def docroot(wd):
    """examples/*.html and /assets/altcha.js (+ its licence)."""
    www = wd.sub("www")
    for p in PAGES:
        shutil.copy(os.path.join(EXAMPLES, p), os.path.join(www, p))
        os.chmod(os.path.join(www, p), 0o644)
    shutil.copy(os.path.join(EXAMPLES, "contact.html"),
                os.path.join(www, "index.html"))
    os.chmod(os.path.join(www, "index.html"), 0o644)
    assets = wd.sub("www", "assets")
    t0 = time.monotonic()
    try:
        p = subprocess.run([FETCH_ALTCHA, os.path.join(assets, "altcha.js")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=180)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired:
        out, rc = "timed out after 180 s", -1
    check(rc == 0, "scripts/fetch-altcha puts the widget bundle in place",
          0, (rc, out[-800:]))
    print("fetch-altcha: %.1f s" % (time.monotonic() - t0), flush=True)
    return www


# --------------------------------------------------------------------------
# the browser

class Browser:
    """Headless Chromium through chromedriver; quit() stops both, by pid."""

    def __init__(self, wd):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for f in CHROME_FLAGS:
            opts.add_argument(f)
        opts.add_argument("--user-data-dir=" + wd.sub("chrome-profile"))
        opts.accept_insecure_certs = True
        from selenium.webdriver.remote.remote_connection import \
            RemoteConnection
        # every WebDriver command is capped (the default is 120 s)
        RemoteConnection.set_timeout(PAGE_TIMEOUT + SOLVE_TIMEOUT)
        self.log = wd.file("chromedriver.log")
        for attempt in (1, 2):  # a first start can lose a race with /tmp
            self.service = Service(executable_path=CHROMEDRIVER,
                                   log_path=self.log)
            try:
                self.driver = webdriver.Chrome(service=self.service,
                                               options=opts)
                break
            except Exception as e:
                self._stop_service()
                if attempt == 2:
                    raise h.HarnessError("Chromium did not start: %s\n%s"
                                         % (e, h.tail(self.log, 20)))
                print("browser: start failed, once more: %s" % e,
                      flush=True)
        self.driver.set_page_load_timeout(PAGE_TIMEOUT)
        self.driver.set_script_timeout(PAGE_TIMEOUT)

    def _stop_service(self):
        proc = getattr(self.service, "process", None)
        pid = getattr(proc, "pid", None)
        kids = h.children_of(pid) if pid else []
        if pid:
            h.stop_pid(pid, signal.SIGTERM, 5, popen=proc)
        for k in kids:          # Chromium, should chromedriver leave it
            h.stop_pid(k, signal.SIGTERM, 5)

    def quit(self):
        proc = getattr(self.service, "process", None)
        pid = getattr(proc, "pid", None)
        kids = h.children_of(pid) if pid else []
        try:
            self.driver.quit()
        except Exception as e:  # keep stopping
            print("browser: quit: %s" % e, file=sys.stderr)
        if pid:
            h.stop_pid(pid, signal.SIGTERM, 5, popen=proc)
        for k in kids:
            h.stop_pid(k, signal.SIGTERM, 5)


def find(driver, css):
    from selenium.webdriver.common.by import By
    return driver.find_element(By.CSS_SELECTOR, css)


def try_(fn):
    """fn() or None when the page is in between (navigation, stale node)."""
    try:
        return fn()
    except Exception:
        return None


def wait(pred, timeout, what):
    return h.wait_until(lambda: try_(pred), timeout, interval=0.05, what=what)


def fill(driver, name, email, message):
    for css, v in (("#name", name), ("#email", email), ("#message", message)):
        el = find(driver, css)
        el.clear()
        el.send_keys(v)


def submit(driver):
    find(driver, "form button[type=submit]").click()


def answer_page(driver):
    """The h1 of form2mail's answer page once it has loaded, else None."""
    if "/f2m/" not in driver.current_url or driver.execute_script(
            "return document.readyState") != "complete":
        return None
    return find(driver, "h1").text or None


def thank_you_ref(driver, what):
    """Wait for form2mail's answer page; when it is the thank-you page,
    return its reference (the submission id), else None."""
    try:
        h1 = wait(lambda: answer_page(driver), PAGE_TIMEOUT,
                  "%s: form2mail's answer page" % what)
    except h.HarnessError as e:
        h1 = str(e)[:200]
    if not check(h1 == "Thank you", "%s: the thank-you page" % what,
                 "Thank you", (h1, driver.current_url,
                               try_(lambda: find(driver, "body").text[:300]))):
        return None
    m = re.search(r"Reference:\s*(\S+)", find(driver, "body").text)
    check(m is not None, "%s: the thank-you page shows a reference" % what)
    return m.group(1) if m else None


class Page:
    """One page's run: a screenshot at the end (kept on failure)."""

    def __init__(self, br, wd, name, base):
        self.br, self.wd, self.name = br, wd, name
        self.driver = br.driver
        self.base = base
        self.shot = None

    def __enter__(self):
        self.fails = len(FAILS)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, et, ev, tb):
        if et is not None:
            check(False, "%s: %s: %s" % (self.name, et.__name__, ev))
        self.shot = self.wd.file("screen-%s.png" % self.name)
        try:
            self.driver.save_screenshot(self.shot)
        except Exception as e:
            self.shot = None
            print("%s: no screenshot: %s" % (self.name, e), flush=True)
        if len(FAILS) > self.fails and self.shot:
            print("%s: screenshot %s" % (self.name, self.shot), flush=True)
        print("%s: %.1f s" % (self.name, time.monotonic() - self.t0),
              flush=True)
        return True     # the next page still runs

    def open(self, path):
        self.driver.get(self.base + path)
        wait(lambda: find(self.driver, "form"), PAGE_TIMEOUT,
             "%s: %s loaded" % (self.name, path))


# --------------------------------------------------------------------------
# the pages

def page_contact(br, wd, base, sent):
    with Page(br, wd, "contact", base) as pg:
        pg.open("/contact.html")
        fill(pg.driver, "Zoë Plain", "zoe@example.org",
             "Bonjour,\nplain form, second line.")
        submit(pg.driver)
        ref = thank_you_ref(pg.driver, "contact")
        if ref:
            sent.append(("contact", "Zoë Plain", ref, None))


def page_ajax(br, wd, base, sent):
    d = br.driver
    with Page(br, wd, "ajax", base) as pg:
        pg.open("/ajax.html")
        d.execute_script("window.__f2mStay = 'same page';")
        # What the page hands to fetch(): FormData as users copy it.
        d.execute_script(
            "window.__f2mBodies = []; var f = window.fetch;"
            "window.fetch = function (u, o) {"
            "  window.__f2mBodies.push(o && o.body ?"
            "    Object.prototype.toString.call(o.body) : null);"
            "  return f.apply(this, arguments); };")
        url = d.current_url
        # the browser accepts a@b; form2mail wants a dotted domain: 422
        fill(d, "Bea Ajax", "bea@example", "AJAX post.")
        submit(d)
        try:
            wait(lambda: find(d, "#email-error").text.strip(), PAGE_TIMEOUT,
                 "inline error under the e-mail field")
            PASSED[0] += 1
        except h.HarnessError as e:
            check(False, "ajax: inline error for an invalid address", None,
                  (str(e)[:200], try_(lambda: find(d, "#form-error").text)))
        d.save_screenshot(wd.file("screen-ajax-error.png"))
        check(find(d, "#email").get_attribute("aria-invalid") == "true",
              "ajax: the invalid field is marked aria-invalid")
        check(find(d, "#name-error").text == "", "ajax: no error under a "
              "valid field", "", find(d, "#name-error").text)
        check(find(d, "#form-status").text == "", "ajax: no success message "
              "after a 422", "", find(d, "#form-status").text)
        email = find(d, "#email")
        email.clear()
        email.send_keys("bea@example.org")
        submit(d)
        try:
            wait(lambda: "Thank you" in find(d, "#form-status").text,
                 PAGE_TIMEOUT, "inline success message")
            PASSED[0] += 1
        except h.HarnessError as e:
            check(False, "ajax: inline success message", "Thank you",
                  (str(e)[:200], try_(lambda: find(d, "#form-error").text)))
        check(d.execute_script("return window.__f2mStay") == "same page" and
              d.current_url == url, "ajax: no navigation, no reload", url,
              d.current_url)
        check(find(d, "#email-error").text == "" and
              find(d, "#email").get_attribute("aria-invalid") is None,
              "ajax: the error is gone after the accepted post")
        check(find(d, "#name").get_attribute("value") == "",
              "ajax: the form is cleared after success")
        bodies = d.execute_script("return window.__f2mBodies")
        check(bodies == ["[object FormData]"] * 2, "ajax: both posts sent "
              "new FormData(form) (multipart/form-data)", None, bodies)
        sent.append(("ajax", "Bea Ajax", None, None))

    # the same page without JavaScript: a plain form post
    with Page(br, wd, "ajax-nojs", base) as pg:
        d.execute_cdp_cmd("Emulation.setScriptExecutionDisabled",
                          {"value": True})
        try:
            pg.open("/ajax.html")
            fill(d, "Cleo Nojs", "cleo@example.org", "No script here.")
            submit(d)
            ref = thank_you_ref(d, "ajax without JavaScript")
            if ref:
                sent.append(("ajax", "Cleo Nojs", ref, None))
        finally:
            d.execute_cdp_cmd("Emulation.setScriptExecutionDisabled",
                              {"value": False})


def widget_state(d):
    """data-state of the ALTCHA widget's root, wherever it renders."""
    return d.execute_script("""
        var w = document.querySelector('altcha-widget');
        if (!w) return null;
        var r = w.shadowRoot || w;
        var el = r.querySelector('[data-state]');
        return el ? el.getAttribute('data-state') : null;""")


def page_altcha(br, wd, base, sent):
    d = br.driver
    with Page(br, wd, "altcha", base) as pg:
        pg.open("/altcha.html")
        defined = wait(lambda: d.execute_script(
            "return !!customElements.get('altcha-widget')"), PAGE_TIMEOUT,
            "the altcha-widget element defined by /assets/altcha.js")
        check(defined, "altcha: /assets/altcha.js defines altcha-widget")
        fill(d, "Dana Altcha", "dana@example.org", "Proof of work done.")
        # a person clicks the box or its label "I'm not a robot" (the
        # check mark drawn over the input takes a click on the box itself)
        label = wait(lambda: d.execute_script("""
            var w = document.querySelector('altcha-widget');
            var r = w.shadowRoot || w;
            var box = r.querySelector('input[type=checkbox]');
            return box && r.querySelector('label[for="' + box.id + '"]');"""),
            PAGE_TIMEOUT, "the widget's checkbox and its label")
        t0 = time.monotonic()
        label.click()
        try:
            wait(lambda: widget_state(d) == "verified", SOLVE_TIMEOUT,
                 "the widget to be verified")
            PASSED[0] += 1
        except h.HarnessError:
            check(False, "altcha: the widget verifies", "verified",
                  widget_state(d))
        print("altcha: solved in %.1f s" % (time.monotonic() - t0),
              flush=True)
        d.save_screenshot(wd.file("screen-altcha-verified.png"))
        payload = d.execute_script(
            "var i = document.querySelector('form').elements.namedItem"
            "('altcha'); return i ? i.value : null;")
        check(bool(payload), "altcha: the form holds the payload field "
              "'altcha'", "base64 JSON", payload)
        others = d.execute_script("""
            return performance.getEntriesByType('resource')
                .map(function (e) { return e.name; })
                .filter(function (u) {
                    return u.indexOf(location.origin + '/') !== 0; });""")
        check(others == [], "altcha: every resource comes from the site "
              "itself (no CDN)", [], others)
        submit(d)
        ref = thank_you_ref(d, "altcha")
        if ref:
            sent.append(("altcha", "Dana Altcha", ref, None))


def page_upload(br, wd, base, sent, pdf, upload_ok):
    d = br.driver
    with Page(br, wd, "upload", base) as pg:
        pg.open("/upload.html")
        fill(d, "Eve Upload", "eve@example.org", "Here is the document.")
        find(d, "#attachment").send_keys(pdf)
        submit(d)
        ref = thank_you_ref(d, "upload" if upload_ok else
                            "upload (form without \"uploads\")")
        if not ref:
            return
        with open(pdf, "rb") as f:
            sent.append(("upload", "Eve Upload", ref,
                         (os.path.basename(pdf), f.read())))


# --------------------------------------------------------------------------
# the mail

def subject_of(raw):
    v = h.header(raw, "Subject") or ""
    return str(email.header.make_header(email.header.decode_header(v)))


def check_mail(mta, keys, sent):
    want = {"Example %s: %s" % (f, n): (f, n, ref, att)
            for f, n, ref, att in sent}
    box = {}

    def arrived():
        for _, raw in mta.messages():
            s = subject_of(raw)
            if s in want:
                box[s] = raw
        return len(box) == len(want)
    try:
        h.wait_until(arrived, MAIL_TIMEOUT, interval=0.1,
                     what="%d mails" % len(want), diag=mta._diag)
    except h.HarnessError:
        pass
    for subj, (fid, name, ref, att) in sorted(want.items()):
        raw = box.get(subj)
        if not check(raw is not None, "%s (%s): the mail arrived" % (
                fid, name), subj, sorted(subject_of(r) for _, r in
                                         mta.messages())):
            continue
        errs = []
        res = h.verify_dkim(raw, keys.txt, errs)
        algs = sorted(a for (_, _, _, a, ok) in res if ok)
        check(algs == ["ed25519-sha256", "rsa-sha256"], "%s (%s): both DKIM "
              "signatures verify" % (fid, name),
              ["ed25519-sha256", "rsa-sha256"], (res, errs))
        if ref:
            mid = "<%s@%s>" % (ref, HOST.partition(".")[2])  # From's domain
            check(h.header(raw, "Message-ID") == mid, "%s (%s): Message-ID "
                  "is the page's reference" % (fid, name), mid,
                  h.header(raw, "Message-ID"))
        m = h.parse_message(raw)
        body = m.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        check(name in text, "%s: the body holds the name" % fid, name, text)
        if att is not None:
            fname, data = att
            parts = [p for p in m.iter_attachments()
                     if p.get_filename() == fname]
            got = parts[0].get_payload(decode=True) if parts else None
            check(parts and got == data, "upload: %s attached byte for byte"
                  % fname, (fname, len(data)),
                  [(p.get_filename(), p.get_content_type(),
                    len(p.get_payload(decode=True) or b""))
                   for p in m.iter_attachments()])
            check(parts and parts[0].get_content_type() == "application/pdf",
                  "upload: attached as application/pdf", "application/pdf",
                  parts[0].get_content_type() if parts else None)


# --------------------------------------------------------------------------

def main():
    need_browser()
    t_start = time.monotonic()
    shots = []
    wd = h.Workdir(prefix="f2m-browser-")
    try:
        run(wd, shots)
    except Exception as e:
        check(False, "unexpected %s: %s" % (type(e).__name__, e))
    finally:
        keep_dir = os.environ.get("F2M_SCREENSHOT_DIR")
        if keep_dir:
            os.makedirs(keep_dir, exist_ok=True)
            for s in shots:
                if s and os.path.exists(s):
                    shutil.copy(s, keep_dir)
        if FAILS:
            wd.keep = True
        wd.cleanup()
    print("total: %.1f s" % (time.monotonic() - t_start))
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def run(wd, shots):
    pki = h.make_pki(wd.sub("pki"))
    keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
    www = docroot(wd)
    pdf = h.write_file(wd.file("example.pdf"), minimal_pdf())
    mta = h.Mta(wd.sub("mta"), pki)
    mta.start()
    f2m = ngx = br = None
    try:
        d = wd.sub("f2m")
        path = os.path.join(d, "form2mail.json")
        sock = os.path.join(d, "f2m.sock")
        # nginx first: the page origin (its port) goes into the config
        ngx = h.Nginx(wd.sub("nginx"), pki, sock, docroot=www)
        ngx.start()
        origin = "https://localhost:%d" % ngx.port
        cfg = make_config(d, mta, pki, keys, origin)
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        chk = f2m.cli("check")
        upload_ok = True
        if chk.returncode != 0 and "uploads" in chk.stderr + chk.stdout:
            commits = multipart_committed()
            check(False, "upload: this form2mail does not take the "
                  "\"uploads\" form key (multipart support not in this "
                  "build; commits naming multipart/form-data or upload: "
                  "%s)" % (
                      "; ".join(commits) or "no commit"), "check exit 0",
                  (chk.returncode, (chk.stderr or chk.stdout)[-400:]))
            upload_ok = False
            cfg = make_config(d, mta, pki, keys, origin, with_upload=False)
            h.write_config(path, cfg)
        f2m.start()
        s, hd, body = ngx.get("/assets/altcha.js")
        check(s == 200 and "javascript" in hd.get("Content-Type", ""),
              "nginx serves /assets/altcha.js as JavaScript", 200,
              (s, hd.get("Content-Type")))
        t0 = time.monotonic()
        br = Browser(wd)
        print("browser start: %.1f s" % (time.monotonic() - t0), flush=True)
        sent = []
        base = ngx.base_url
        for fn in (page_contact, page_ajax, page_altcha):
            fn(br, wd, base, sent)
        page_upload(br, wd, base, sent, pdf, upload_ok)
        shots.extend(wd.file("screen-%s.png" % n) for n in
                     ("contact", "ajax-error", "ajax", "ajax-nojs",
                      "altcha-verified", "altcha", "upload"))
        check_mail(mta, keys, sent)
    finally:
        if br is not None:
            br.quit()
        if ngx is not None:
            ngx.stop()
        if f2m is not None:
            f2m.stop()
            log = f2m.log()
            check("AddressSanitizer" not in log and "runtime error" not in
                  log, "no sanitizer report in the service log", None,
                  log[-2000:])
        mta.stop()


if __name__ == "__main__":
    sys.exit(main())
