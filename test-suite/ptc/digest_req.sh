#!/bin/sh
# digest_req.sh PROXY URL USER PASS REALM NC... - Digest by hand: a nonce
# from the 407 to a first request, then one request per NC with that nonce
# (qop=auth, cnonce c0ffee).  Prints each status, then the stale= of the
# last 407 seen.  DIGEST_ALG=SHA-256 in the environment: SHA-256 hashes
# and algorithm=SHA-256 (else MD5, with no algorithm=).
proxy=$1 url=$2 user=$3 pass=$4 realm=$5
shift 5
if [ "${DIGEST_ALG:-MD5}" = SHA-256 ]; then
	md5() { printf '%s' "$1" | sha256sum | cut -c1-64; }
	alg=", algorithm=SHA-256"
else
	md5() { printf '%s' "$1" | md5sum | cut -c1-32; }
	alg=
fi
n=$(curl -s -i -x "http://$proxy" "$url" |
    sed -n 's/^Proxy-Authenticate: Digest .*nonce="\([0-9a-f]*\)".*/\1/p' |
    head -1)
path=/${url#http://*/}
ha1=$(md5 "$user:$realm:$pass")
ha2=$(md5 "GET:$path")
out=${TMPDIR:-/tmp}/digest_req.$$
stale=none
codes=
for nc in "$@"; do
	r=$(md5 "$ha1:$n:$nc:c0ffee:auth:$ha2")
	code=$(curl -s -i -o "$out" -w '%{http_code}' -x "http://$proxy" \
	    -H "Proxy-Authorization: Digest username=\"$user\", realm=\"$realm\", nonce=\"$n\", uri=\"$path\", cnonce=\"c0ffee\", nc=$nc, qop=auth$alg, response=\"$r\"" \
	    "$url")
	codes="$codes$code "
	if [ "$code" = 407 ]; then
		stale=$(grep -o 'stale=[a-z]*' "$out" | head -1)
	fi
done
rm -f "$out"
echo "$codes$stale"
