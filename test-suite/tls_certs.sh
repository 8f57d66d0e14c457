#!/bin/sh
# tls_certs.sh DIR - a test CA and certificates, made fresh at test time
# (nothing committed that could expire), with the openssl command:
#
#	ca.pem ca.key		the test CA
#	server.pem server.key	localhost, 127.0.0.1, origin.test and
#			*.origin.test, by the CA
#	self.pem self.key	localhost, self-signed (trusted by nobody)
#	other.key		a key that matches no certificate
#	proxyca.pem proxyca.key	ssl_bump's CA: trusted by the clients only
#
# EC P-256 keys: fast to make.  Exits non-zero on any failure.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$1" 2>/dev/null; }
key ca.key
openssl req -x509 -new -key ca.key -out ca.pem -days 30 \
    -subj "/CN=cuttle test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:origin.test,DNS:*.origin.test" \
    "basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" > leaf.ext
key server.key
openssl req -new -key server.key -out server.csr -subj "/CN=localhost" \
    2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -set_serial 2 \
    -days 30 -extfile leaf.ext -out server.pem 2>/dev/null
key self.key
openssl req -x509 -new -key self.key -out self.pem -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost" 2>/dev/null
key other.key
key proxyca.key
openssl req -x509 -new -key proxyca.key -out proxyca.pem -days 30 \
    -subj "/CN=cuttle test proxy CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
chmod 600 proxyca.key
rm -f server.csr leaf.ext
