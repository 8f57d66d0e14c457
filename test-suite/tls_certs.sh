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
#	expired.pem expired.key	as server.pem, but valid only in January 2020
#	future.pem future.key	as server.pem, but valid only from 2099 on
#	client.pem client.key	a client certificate by the CA
#	otherca.pem		another CA, trusted by nobody
#	stranger.pem stranger.key  a client certificate by otherca
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
# `openssl x509 -days` cannot backdate: `openssl ca` takes both dates.
printf '%s\n' '[ca]' 'default_ca = d' '[d]' 'database = index.txt' \
    'new_certs_dir = .' 'serial = serial' 'default_md = sha256' \
    'policy = p' 'unique_subject = no' '[p]' 'commonName = supplied' \
    > ca.cnf
: > index.txt
echo 10 > serial
dated() {	# name notBefore notAfter
	key "$1.key"
	openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=localhost" \
	    2>/dev/null
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key \
	    -in "$1.csr" -out "$1.pem" -startdate "$2" -enddate "$3" \
	    -extfile leaf.ext -notext 2>/dev/null
}
dated expired 20200101000000Z 20200201000000Z
dated future 20990101000000Z 21000101000000Z
printf '%s\n' "basicConstraints=CA:FALSE" "extendedKeyUsage=clientAuth" \
    > client.ext
key client.key
openssl req -new -key client.key -out client.csr -subj "/CN=test client" \
    2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -set_serial 3 \
    -days 30 -extfile client.ext -out client.pem 2>/dev/null
key otherca.key
openssl req -x509 -new -key otherca.key -out otherca.pem -days 30 \
    -subj "/CN=another CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
key stranger.key
openssl req -new -key stranger.key -out stranger.csr \
    -subj "/CN=stranger" 2>/dev/null
openssl x509 -req -in stranger.csr -CA otherca.pem -CAkey otherca.key \
    -set_serial 4 -days 30 -extfile client.ext -out stranger.pem 2>/dev/null
rm -f ./*.csr leaf.ext client.ext ca.cnf index.txt* serial* ./[0-9A-F]*.pem
