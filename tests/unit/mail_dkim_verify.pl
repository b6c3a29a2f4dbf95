#!/usr/bin/perl
# Verify every DKIM-Signature of one message with Mail::DKIM (Debian's
# libmail-dkim-perl), keys from the DNS server at 127.0.0.1:PORT only.
#
# usage: mail_dkim_verify.pl PORT MESSAGE
#
# Prints one line per signature, in header order:
#     signature N: RESULT a=ALG d=DOMAIN s=SELECTOR (DETAIL)
# RESULT is Mail::DKIM's own: pass, fail, invalid, temperror, none...
# (Mail::DKIM 1.20230212 knows no Ed25519: it reports such a signature
# "invalid" with "unsupported algorithm ed25519-sha256".)  Then
#     message: RESULT (DETAIL)
# the verifier's verdict over all signatures.  Exit status 0 when it ran
# (the verdicts are for the caller to judge), 2 on usage or I/O errors.
use strict;
use warnings;

use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;
use Net::DNS::Resolver;

@ARGV == 2 && $ARGV[0] =~ /^\d+$/ or die "usage: $0 PORT MESSAGE\n";
my ($port, $path) = @ARGV;

my $res = Net::DNS::Resolver->new(
    nameservers => ['127.0.0.1'], port => $port, recurse => 1,
    tcp_timeout => 5, udp_timeout => 5, retry => 1, searchlist => [],
    defnames => 0, dnsrch => 0);
Mail::DKIM::DNS::resolver($res);

open(my $fh, '<:raw', $path) or do { print STDERR "$path: $!\n"; exit 2 };
my $dkim = Mail::DKIM::Verifier->new();
while (read($fh, my $chunk, 65536)) {
    $dkim->PRINT($chunk);
}
close($fh);
$dkim->CLOSE();

my $i = 0;
for my $sig ($dkim->signatures) {
    printf("signature %d: %s a=%s d=%s s=%s%s\n", $i++, $sig->result,
        $sig->algorithm // '?', $sig->domain // '?', $sig->selector // '?',
        detail($sig->result, $sig->result_detail));
}
printf("message: %s%s\n", $dkim->result,
    detail($dkim->result, $dkim->result_detail));
exit 0;

# " (why)" from a result_detail such as "fail (message has been altered)".
sub detail {
    my ($result, $d) = @_;
    return '' if !defined($d) || $d eq $result;
    $d =~ s/^\Q$result\E \((.*)\)$/$1/;
    return " ($d)";
}
