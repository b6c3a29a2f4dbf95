<?php
/*
 * The PHPMailer peer of scripts/bench: what a typical contact-form script
 * does, with Debian's PHPMailer (libphp-phpmailer).  Validates the same
 * fields minimally, builds the same mail (From the site, Reply-To the
 * visitor, text and HTML alternatives), signs it with DKIM (rsa-sha256,
 * the same key as form2mail's RSA signature) and sends it synchronously
 * over SMTPS (465) with AUTH, peer verified: one connection and login per
 * post, as such scripts do.  Answers JSON like form2mail.
 *
 * The settings come from the PHP file named by the FastCGI parameter
 * BENCH_CONFIG (scripts/bench writes it), the way such scripts keep a
 * config.php beside them.
 */
declare(strict_types=1);

use PHPMailer\PHPMailer\PHPMailer;
use PHPMailer\PHPMailer\Exception;

require '/usr/share/php/libphp-phpmailer/autoload.php';

$cfg = require $_SERVER['BENCH_CONFIG'];

header('Content-Type: application/json');

/* Code points, or -1 for invalid UTF-8 (no mbstring needed). */
function cp_len(string $s): int
{
    $n = preg_match_all('/./us', $s);
    return $n === false ? -1 : $n;
}

function answer(int $status, array $body): void
{
    http_response_code($status);
    echo json_encode($body), "\n";
    exit;
}

if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
    header('Allow: POST');
    answer(405, ['ok' => false]);
}

$name = trim((string)($_POST['name'] ?? ''));
$email = trim((string)($_POST['email'] ?? ''));
$message = (string)($_POST['message'] ?? '');
$errors = [];
$n = cp_len($name);
if ($n < 1 || $n > 200 || preg_match('/[\x00-\x1f\x7f]/', $name)) {
    $errors['name'] = 'invalid';
}
if (filter_var($email, FILTER_VALIDATE_EMAIL) === false) {
    $errors['email'] = 'invalid';
}
$n = cp_len($message);
if ($n < 1 || $n > 10000) {
    $errors['message'] = 'invalid';
}
if ($errors) {
    answer(422, ['ok' => false, 'errors' => $errors]);
}

$ip = $_SERVER['REMOTE_ADDR'] ?? '';
$id = bin2hex(random_bytes(12));
$date = date('r');
$message = str_replace(["\r\n", "\r"], "\n", $message);
$text = "New submission to form contact\n\n"
    . "Name: $name\nEmail: $email\nMessage:\n$message\n\n"
    . "--\nSubmission: $id\nDate: $date\nClient IP: $ip\n";
$h = fn(string $s): string => htmlspecialchars($s, ENT_QUOTES, 'UTF-8');
$html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
    . "<title>New submission to form contact</title></head>\n<body>\n"
    . "<h1>New submission to form contact</h1>\n<table>\n"
    . "<tr><th>Name</th><td>{$h($name)}</td></tr>\n"
    . "<tr><th>Email</th><td>{$h($email)}</td></tr>\n"
    . "<tr><th>Message</th><td style=\"white-space:pre-wrap\">"
    . "{$h($message)}</td></tr>\n</table>\n"
    . "<p>--<br>\nSubmission: $id<br>\nDate: {$h($date)}<br>\n"
    . "Client IP: {$h($ip)}</p>\n</body>\n</html>\n";

$mail = new PHPMailer(true);
try {
    $mail->isSMTP();
    $mail->Host = $cfg['host'];
    $mail->Port = $cfg['port'];
    $mail->SMTPSecure = PHPMailer::ENCRYPTION_SMTPS;
    $mail->SMTPAuth = true;
    $mail->Username = $cfg['username'];
    $mail->Password = $cfg['password'];
    $mail->SMTPOptions = ['ssl' => [
        'cafile' => $cfg['ca_file'],
        'verify_peer' => true,
        'verify_peer_name' => true,
        'peer_name' => $cfg['host'],
    ]];
    $mail->Hostname = $cfg['hostname'];
    $mail->Helo = $cfg['hostname'];
    $mail->CharSet = PHPMailer::CHARSET_UTF8;
    $mail->setFrom($cfg['from'], $cfg['from_name']);
    $mail->Sender = $cfg['envelope_from'];
    foreach ($cfg['recipients'] as $addr => $rname) {
        $mail->addAddress($addr, $rname);
    }
    $mail->addReplyTo($email, $name);
    $mail->Subject = 'Contact: ' . $name;
    $mail->isHTML(true);
    $mail->Body = $html;
    $mail->AltBody = $text;
    $mail->addCustomHeader('Auto-Submitted', 'auto-generated');
    $mail->addCustomHeader('X-Originating-IP', "[$ip]");
    $mail->DKIM_domain = $cfg['dkim_domain'];
    $mail->DKIM_selector = $cfg['dkim_selector'];
    $mail->DKIM_private = $cfg['dkim_key_file'];
    $mail->DKIM_identity = $mail->From;
    $mail->send();
} catch (Exception $e) {
    error_log('form.php: ' . $mail->ErrorInfo);
    answer(500, ['ok' => false]);
}
answer(200, ['ok' => true, 'id' => $id]);
