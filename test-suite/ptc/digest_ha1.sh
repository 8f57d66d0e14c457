#!/bin/sh
# digest_ha1.sh sha256sum|md5sum [USER [HASHED-AS]] - a digest auth helper
# of Squid's protocol: asked "user":"realm", it answers OK ha1="..." for
# USER (alice by default; password "secret") with HA1 =
# HASH(user:realm:password) (RFC 7616), the user written as HASHED-AS
# there (USER by default: the bytes a client hashed may differ from the
# name the helper is asked, with utf8 on), ERR for anyone else.
want=${2:-alice}
as=${3:-$want}
while read -r l; do
	u=$(echo "$l" | sed -n 's/^"\([^"]*\)":"\([^"]*\)".*/\1/p')
	r=$(echo "$l" | sed -n 's/^"\([^"]*\)":"\([^"]*\)".*/\2/p')
	if [ "$u" = "$want" ]; then
		echo "OK ha1=\"$(printf '%s' "$as:$r:secret" | $1 | cut -d' ' -f1)\""
	else
		echo ERR
	fi
done
