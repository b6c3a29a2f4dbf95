'use strict';
/*
 * The nodemailer peer of scripts/bench: what a typical Node.js contact-form
 * handler does, behind nginx proxy_pass.  Validates the same fields
 * minimally, builds the same mail (From the site, Reply-To the visitor,
 * text and HTML alternatives), signs it with DKIM (rsa-sha256, the same
 * key as form2mail's RSA signature) and sends it over SMTPS (465) with
 * AUTH, peer verified, before it answers.
 *
 * Default: a transport per request (createTransport, sendMail, close),
 * i.e. one connection and login per post, as most scripts do.  With
 * "pool": true in the config: one pooled transport (nodemailer's
 * pool: true, maxConnections 5 by default) reused by every request.
 *
 *   node server.js CONFIG.json
 */
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const nodemailer = require('nodemailer');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const MAX_BODY = 1048576;

const transportOptions = {
  host: cfg.host,
  port: cfg.port,
  secure: true,
  auth: { user: cfg.username, pass: cfg.password },
  tls: { ca: fs.readFileSync(cfg.ca_file), servername: cfg.host },
  name: cfg.hostname,
  dkim: {
    domainName: cfg.dkim_domain,
    keySelector: cfg.dkim_selector,
    privateKey: fs.readFileSync(cfg.dkim_key_file, 'utf8'),
  },
};
const pooled = cfg.pool
  ? nodemailer.createTransport(Object.assign({ pool: true,
      maxConnections: cfg.pool_connections || 5 }, transportOptions))
  : null;

function answer(res, status, body) {
  const s = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}

const esc = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;',
  '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

async function handle(req, res, raw) {
  const p = new URLSearchParams(raw);
  const name = (p.get('name') || '').trim();
  const email = (p.get('email') || '').trim();
  let message = p.get('message') || '';
  const errors = {};
  if (name === '' || [...name].length > 200 || /[\x00-\x1f\x7f]/.test(name))
    errors.name = 'invalid';
  if (email.length > 254 || !EMAIL.test(email))
    errors.email = 'invalid';
  if (message === '' || [...message].length > 10000)
    errors.message = 'invalid';
  if (Object.keys(errors).length > 0)
    return answer(res, 422, { ok: false, errors });

  const ip = req.headers['x-real-ip'] || req.socket.remoteAddress;
  const id = crypto.randomBytes(12).toString('hex');
  const date = new Date().toUTCString();
  message = message.replace(/\r\n?/g, '\n');
  const text = 'New submission to form contact\n\n' +
    `Name: ${name}\nEmail: ${email}\nMessage:\n${message}\n\n` +
    `--\nSubmission: ${id}\nDate: ${date}\nClient IP: ${ip}\n`;
  const html = '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">' +
    '<title>New submission to form contact</title></head>\n<body>\n' +
    '<h1>New submission to form contact</h1>\n<table>\n' +
    `<tr><th>Name</th><td>${esc(name)}</td></tr>\n` +
    `<tr><th>Email</th><td>${esc(email)}</td></tr>\n` +
    '<tr><th>Message</th><td style="white-space:pre-wrap">' +
    `${esc(message)}</td></tr>\n</table>\n` +
    `<p>--<br>\nSubmission: ${id}<br>\nDate: ${esc(date)}<br>\n` +
    `Client IP: ${esc(ip)}</p>\n</body>\n</html>\n`;
  const mail = {
    from: { name: cfg.from_name, address: cfg.from },
    to: cfg.recipients.map(([address, n]) => ({ name: n, address })),
    replyTo: { name, address: email },
    subject: 'Contact: ' + name,
    text,
    html,
    headers: { 'Auto-Submitted': 'auto-generated',
      'X-Originating-IP': `[${ip}]` },
    envelope: { from: cfg.envelope_from,
      to: cfg.recipients.map(([address]) => address) },
  };
  const t = pooled || nodemailer.createTransport(transportOptions);
  try {
    await t.sendMail(mail);
  } catch (e) {
    console.error('server.js: ' + e.message);
    return answer(res, 500, { ok: false });
  } finally {
    if (!pooled)
      t.close();
  }
  return answer(res, 200, { ok: true, id });
}

http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.setHeader('Allow', 'POST');
    return answer(res, 405, { ok: false });
  }
  const chunks = [];
  let len = 0;
  req.on('data', (c) => {
    len += c.length;
    if (len > MAX_BODY) {
      answer(res, 413, { ok: false });
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (len <= MAX_BODY)
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
  });
}).listen(cfg.listen_port, '127.0.0.1', () => {
  console.error(`server.js: listening on 127.0.0.1:${cfg.listen_port}` +
    (pooled ? ' (pooled transport)' : ''));
});
