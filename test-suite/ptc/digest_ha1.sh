#!/bin/sh
# digest_ha1.sh sha256sum|md5sum - a digest auth helper of Squid's
# protocol: asked "user":"realm", it answers OK ha1="..." for alice
# (password "secret") with HA1 = HASH(user:realm:password) (RFC 7616),
# ERR for anyone else.
while read -r l; do
	u=$(echo "$l" | sed -n 's/^"\([^"]*\)":"\([^"]*\)".*/\1/p')
	r=$(echo "$l" | sed -n 's/^"\([^"]*\)":"\([^"]*\)".*/\2/p')
	if [ "$u" = alice ]; then
		echo "OK ha1=\"$(printf '%s' "alice:$r:secret" | $1 | cut -d' ' -f1)\""
	else
		echo ERR
	fi
done
