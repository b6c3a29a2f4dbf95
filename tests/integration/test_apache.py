"""Apache 2.4 with mod_proxy_fcgi and the shipped config/apache snippet,
over HTTPS, in front of `form2mail serve`: a post is accepted (HTTPS=on
reaches form2mail), a browser post gets its 303, an invalid one 422.
Then form2mail as plain CGI under mod_cgid (config/apache/form2mail-cgi.conf):
the post is spooled, answered, and delivered by the same run into a real
Postfix; a message left over is sent by `queue run --once`."""
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
        p = start_apache(ad, port, pki, 'Include "%s/form2mail.conf"' % ad,
                         "LoadModule proxy_module %s/mod_proxy.so\n"
                         "LoadModule proxy_fcgi_module %s/mod_proxy_fcgi.so"
                         % (MODS, MODS))
        try:
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
            stop_apache(p)
            f2m.stop()
        cgi(wd, pki, keys)
    print("%d passed, %d failed" % (PASSED[0], len(FAILS)))
    return 1 if FAILS else 0


def stop_apache(p):
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def start_apache(ad, port, pki, body, mods):
    """apache2 in the foreground, HTTPS on 127.0.0.1:port, body inside the
    virtual host, mods: extra LoadModule lines."""
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
LoadModule ssl_module {m}/mod_ssl.so
LoadModule env_module {m}/mod_env.so
LoadModule alias_module {m}/mod_alias.so
{mods}
DocumentRoot "{ad}"
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile "{cert}"
  SSLCertificateKeyFile "{key}"
  {body}
</VirtualHost>
""".format(ad=ad, port=port, m=MODS, cert=pki.cert, key=pki.key, body=body,
           mods=mods)
    h.write_file(os.path.join(ad, "httpd.conf"), conf)
    env = dict(os.environ, APACHE_RUN_DIR=ad, APACHE_LOCK_DIR=ad,
               APACHE_LOG_DIR=ad)
    p = subprocess.Popen(["apache2", "-f", os.path.join(ad, "httpd.conf"),
                          "-DFOREGROUND"], env=env, start_new_session=True,
                         stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(ad, "stderr"), "wb"))
    h.wait_until(lambda: h.tcp_listening(port) or p.poll() is not None, 10,
                 what="apache")
    if p.poll() is not None:
        with open(os.path.join(ad, "stderr")) as f:
            raise h.HarnessError("apache exited: " + f.read())
    return p


def cgi(wd, pki, keys):
    mta = h.Mta(wd.sub("mta"), pki)
    mta.start()
    d = wd.sub("cgi")
    os.chown(d, 65534, 65534)       # the CGI user makes its spool here
    cfg = h.default_config(d, mta=mta, pki=pki, dkim=keys)
    for f in (cfg["smtp"]["password_file"], keys.rsa_key, keys.ed_key):
        os.chown(f, 65534, 65534)   # under CGI the CGI user reads them
    path = os.path.join(d, "form2mail.json")
    h.write_config(path, cfg)
    port = h.free_port()
    ad = wd.sub("apache-cgi")
    with open(os.path.join(h.REPO, "config", "apache",
                           "form2mail-cgi.conf")) as f:
        snippet = f.read().replace("/usr/sbin/form2mail", h.f2m_bin()) \
            .replace("/etc/form2mail/form2mail.json", path)
    h.write_file(os.path.join(ad, "form2mail-cgi.conf"), snippet)
    p = start_apache(ad, port, pki, 'Include "%s/form2mail-cgi.conf"' % ad,
                     "LoadModule cgid_module %s/mod_cgid.so\n"
                     'ScriptSock "%s/cgid.sock"' % (MODS, ad))
    try:
        c = http.client.HTTPSConnection("localhost", port, timeout=20,
                                        context=pki.client_context())
        c.request("POST", "/f2m/contact", urllib.parse.urlencode({
            "name": "Ada", "email": "ada@example.org", "message": "via CGI"}),
            {"Content-Type": "application/x-www-form-urlencoded",
             "Accept": "application/json"})
        r = c.getresponse()
        s, b = r.status, r.read()
        c.close()
        j = json.loads(b) if s == 200 else {}
        check(s == 200 and j.get("ok"), "CGI post accepted", 200, (s, b[:300]))
        mid = "<%s@example.test>" % j.get("id")
        try:
            mta.wait_messages(2, timeout=20)
        except h.HarnessError:
            pass
        check(mta.by_message_id().get(mid) == 2, "the same CGI run delivered "
              "it", 2, mta.by_message_id())
        res = h.verify_dkim(mta.copies(mid)[0][1], keys.txt) \
            if mta.copies(mid) else []
        check(len(res) == 2 and all(x[4] for x in res), "DKIM-signed under "
              "CGI too", None, res)
        # a message left in the queue: `queue run --once` sends it
        mta.stop()
        c = http.client.HTTPSConnection("localhost", port, timeout=20,
                                        context=pki.client_context())
        c.request("POST", "/f2m/contact", urllib.parse.urlencode({
            "name": "Bo", "email": "bo@example.org", "message": "later"}),
            {"Content-Type": "application/x-www-form-urlencoded",
             "Accept": "application/json"})
        r = c.getresponse()
        s2, b2 = r.status, r.read()
        c.close()
        check(s2 == 200, "CGI post accepted with the MTA down", 200, s2)
        mta.start()
        subprocess.run([h.f2m_bin(), "queue", "retry", "-c", path],
                       capture_output=True, timeout=30)
        q = subprocess.run([h.f2m_bin(), "queue", "run", "--once", "-c", path],
                           capture_output=True, text=True, timeout=60)
        mid2 = "<%s@example.test>" % json.loads(b2).get("id")
        try:
            mta.wait_messages(4, timeout=20)
        except h.HarnessError:
            pass
        check(q.returncode == 0 and mta.by_message_id().get(mid2) == 2,
              "queue run --once delivers what CGI left", 2,
              (q.returncode, q.stderr[-300:], mta.by_message_id()))
    finally:
        stop_apache(p)
        mta.stop()


if __name__ == "__main__":
    sys.exit(main())
