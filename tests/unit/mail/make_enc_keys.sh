#!/bin/sh
# Makes the key files of test_enc_key (and of the encryption integration
# test) in DIR: X.509 certificates with openssl, OpenPGP keys with gpg in
# a throw-away home.  Prints nothing on success.
set -eu
d=$1
cd "$d"
cert() {	# NAME DAYS KEYARGS EXTS...
	n=$1 days=$2 ka=$3
	shift 3
	# shellcheck disable=SC2086
	openssl req -x509 -newkey $ka -nodes -keyout "$n.key" -out "$n.pem" \
		-days "$days" -subj "/CN=$n/emailAddress=$n@example.org" "$@" \
		2>/dev/null
}
cert good 365 rsa:2048 -addext keyUsage=keyEncipherment,digitalSignature \
	-addext extendedKeyUsage=emailProtection
cert good2 365 rsa:2048 -addext keyUsage=keyEncipherment
cert nokeyusage 365 rsa:2048
cert soon 10 rsa:2048 -addext keyUsage=keyEncipherment
cert signonly 365 rsa:2048 -addext keyUsage=digitalSignature
cert clientauth 365 rsa:2048 -addext keyUsage=keyEncipherment \
	-addext extendedKeyUsage=clientAuth
cert small 365 rsa:1024 -addext keyUsage=keyEncipherment
cert ecgood 365 "ec -pkeyopt ec_paramgen_curve:prime256v1" \
	-addext keyUsage=keyAgreement
cert ecsign 365 "ec -pkeyopt ec_paramgen_curve:prime256v1" \
	-addext keyUsage=digitalSignature
# Expired (and not yet valid): openssl req cannot date in the past.
mkdir -p ca/newcerts
: > ca/index.txt
echo 01 > ca/serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = d
[d]
dir = ./ca
database = ./ca/index.txt
new_certs_dir = ./ca/newcerts
serial = ./ca/serial
default_md = sha256
policy = p
x509_extensions = ext
unique_subject = no
[p]
commonName = supplied
[ext]
keyUsage = keyEncipherment
CNF
openssl req -new -newkey rsa:2048 -nodes -keyout old.key -out old.csr \
	-subj /CN=old 2>/dev/null
openssl ca -batch -config ca.cnf -selfsign -keyfile old.key -in old.csr \
	-out expired.pem -startdate 20200101000000Z -enddate 20200201000000Z \
	2>/dev/null
openssl ca -batch -config ca.cnf -selfsign -keyfile old.key -in old.csr \
	-out future.pem -startdate 20900101000000Z -enddate 20910101000000Z \
	2>/dev/null
head -c 300 good.pem > truncated.pem
cp good.key private.pem
cat good.pem good.key > withkey.pem
printf 'this is not a certificate\n' > garbage.pem
: > empty.pem
mkdir -p adir
ln -sf "$d/good.pem" link.pem
ln -sf "$d/garbage.pem" badlink.pem
# p12 files for gpgsm --import: gpgsm 2.2 reads only the old PBE
# (SHA1-3DES), not OpenSSL 3.0's PBES2 default.
openssl pkcs12 -export -in good.pem -inkey good.key -passout pass: \
	-certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 \
	-out good.p12 2>/dev/null
openssl pkcs12 -export -in good2.pem -inkey good2.key -passout pass: \
	-certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1 \
	-out good2.p12 2>/dev/null

# OpenPGP: a primary that signs and a cv25519 subkey that encrypts.
g=$d/gpg
mkdir -p -m 700 "$g"
gpg() { command gpg --batch --homedir "$g" --passphrase '' \
	--pinentry-mode loopback "$@" 2>/dev/null; }
fpr() { gpg --with-colons --list-keys "$1" | awk -F: '/^fpr/{print $10; exit}'; }
subfpr() { gpg --with-colons --list-keys "$1" |
	awk -F: '/^sub/{s=1; next} s && /^fpr/{print $10; exit}'; }
pgp() {	# NAME SUBKEY-EXPIRY (none: no encryption subkey) [FAKETIME [PRIMARY-EXPIRY]]
	n=$1 sx=$2 ft=${3:-} px=${4:-0}
	set --
	[ -n "$ft" ] && set -- --faked-system-time "$ft"
	gpg "$@" --quick-gen-key "$n <$n@example.org>" ed25519 sign "$px"
	if [ "$sx" != none ]; then
		gpg "$@" --quick-add-key "$(fpr "$n@example.org")" cv25519 encr "$sx"
		subfpr "$n@example.org" > "$n.subfpr"
	fi
	gpg --armor --export "$n@example.org" > "$n.asc"
}
pgp pgpgood 0
pgp pgpgood2 0
pgp pgpsoon 10d
pgp pgpsignonly none
pgp pgpexpired 1d 20200101T000000!
pgp pgpallexpired 1d 20200101T000000! 2d
gpg --armor --export-secret-keys pgpgood@example.org > pgpsecret.asc
head -c 200 pgpgood.asc > pgptrunc.asc
printf -- '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nbm90IGEga2V5\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n' > pgpgarbage.asc
gpg --export pgpgood@example.org > pgpbinary.gpg
cat pgpgood.asc pgpgood2.asc > pgptwo.asc
gpgconf --homedir "$g" --kill gpg-agent 2>/dev/null || true
