"""Apache 2.4 with mod_proxy_fcgi and the shipped config/apache snippet,
over HTTPS, in front of `form2mail serve`: a post is accepted (HTTPS=on
reaches form2mail), a browser post gets its 303, an invalid one 422."""
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import FAILS, PASSED, check  # noqa: E402

MODS = "/usr/lib/apache2/modules"


def main():
    if not shutil.which("apache2") or not os.path.exists(
            os.path.join(MODS, "mod_proxy_fcgi.so")):
        print("SKIP: apache2 with mod_proxy_fcgi is not installed")
        return 77
    with h.Workdir() as wd:
        pki = h.make_pki(wd.sub("pki"))
        keys = h.make_dkim_keys(wd.sub("dkim"), "example.test")
        cfg = h.default_config(wd.sub("f2m"), pki=pki, dkim=keys)
        h.write_secret(cfg["smtp"]["password_file"], "unused\n")
        cfg["smtp"]["url"] = "smtps://localhost:%d" % h.free_port()
        cfg["forms"]["contact"]["success_url"] = "https://example.test/thanks"
        path = os.path.join(wd.sub("f2m"), "form2mail.json")
        h.write_config(path, cfg)
        f2m = h.Form2mail(path)
        f2m.start()
        port = h.free_port()
        ad = wd.sub("apache")
        with open(os.path.join(h.REPO, "config", "apache", "form2mail.conf")) as f:
            snippet = f.read().replace("/run/form2mail/form2mail.sock",
                                       f2m.socket)
        h.write_file(os.path.join(ad, "form2mail.conf"), snippet)
        conf = """ServerRoot "{ad}"
PidFile "{ad}/httpd.pid"
ErrorLog "{ad}/error.log"
LogLevel warn
Listen 127.0.0.1:{port}
ServerName localhost
User nobody
Group nogroup
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule proxy_module {m}/mod_proxy.so
LoadModule proxy_fcgi_module {m}/mod_proxy_fcgi.so
LoadModule ssl_module {m}/mod_ssl.so
LoadModule headers_module {m}/mod_headers.so
DocumentRoot "{ad}"
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile "{cert}"
  SSLCertificateKeyFile "{key}"
  Include "{ad}/form2mail.conf"
</VirtualHost>
""".format(ad=ad, port=port, m=MODS, cert=pki.cert, key=pki.key)
        h.write_file(os.path.join(ad, "httpd.conf"), conf)
        env = dict(os.environ, APACHE_RUN_DIR=ad, APACHE_LOCK_DIR=ad,
                   APACHE_LOG_DIR=ad)
        p = subprocess.Popen(["apache2", "-f", os.path.join(ad, "httpd.conf"),
                              "-DFOREGROUND"], env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL,
                             stderr=open(os.path.join(ad, "stderr"), "wb"))
        try:
            h.wait_until(lambda: h.tcp_listening(port) or p.poll() is not None,
                         10, what="apache")
            if p.poll() is not None:
                with open(os.path.join(ad, "stderr")) as f:
                    raise h.HarnessError("apache exited: " + f.read())

            def post(fields, json_=True):
                c = http.client.HTTPSConnection("localhost", port, timeout=10,
                                                context=pki.client_context())
                hd = {"Content-Type": "application/x-www-form-urlencoded"}
                if json_:
                    hd["Accept"] = "application/json"
                c.request("POST", "/f2m/contact",
                          urllib.parse.urlencode(fields), hd)
                r = c.getresponse()
                out = (r.status, dict(r.getheaders()), r.read())
                c.close()
                return out
            good = {"name": "Ada", "email": "ada@example.org",
                    "message": "via Apache"}
            s, hd, b = post(good)
            check(s == 200 and json.loads(b).get("ok"), "accepted through "
                  "Apache (HTTPS=on reached form2mail)", 200, (s, b[:200]))
            s, hd, b = post(dict(good, message="browser"), json_=False)
            check(s == 303 and hd.get("Location") == "https://example.test/"
                  "thanks", "browser post: 303 to success_url", 303,
                  (s, hd.get("Location")))
            s, hd, b = post({"name": ""})
            check(s == 422, "invalid post: 422", 422, (s, b[:200]))
        finally:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            f2m.stop()
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
