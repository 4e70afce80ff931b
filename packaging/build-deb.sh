#!/usr/bin/env bash
# Builds confd's Debian package with dpkg-deb alone (no debhelper, no dpkg-dev):
#
#   packaging/build-deb.sh BINARY VERSION OUTDIR   ->  OUTDIR/confd_VERSION_ARCH.deb
#
# `make deb` runs it on the binary of `make build`. The package holds
#   /usr/bin/confd                          the daemon
#   /etc/confd/confd.toml                   a conffile: confd.example.toml, its examples commented
#                                           out, with recording_dir and api_token_file set below
#   /lib/systemd/system/confd.service       the hardened unit (packaging/confd.service)
#   /usr/share/doc/confd/                   README, copyright (LICENSE + THIRD-PARTY),
#                                           examples/low-port.conf (a drop-in for ports < 1024)
# and its maintainer scripts (packaging/debian/) make the confd system user, /var/lib/confd and
# the random API token file /etc/confd/api-token at install, and delete what purge may.
set -euo pipefail
if [[ $# -ne 3 ]]; then
	echo "usage: $0 BINARY VERSION OUTDIR" >&2
	exit 2
fi
bin=$1 version=$2 outdir=$3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
arch=$(dpkg --print-architecture)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/confd
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/etc/confd" "$root/lib/systemd/system" \
	"$root/usr/share/doc/confd/examples"
install -m 0755 "$bin" "$root/usr/bin/confd"
install -m 0644 "$here/confd.service" "$root/lib/systemd/system/confd.service"
install -m 0644 "$here/low-port.conf" "$root/usr/share/doc/confd/examples/low-port.conf"
install -m 0644 "$top/README.md" "$root/usr/share/doc/confd/README.md"
install -m 0644 "$top/confd.example.toml" "$root/usr/share/doc/confd/examples/confd.example.toml"
cat "$top/LICENSE" - "$top/THIRD-PARTY.md" >"$root/usr/share/doc/confd/copyright" <<<""
chmod 0644 "$root/usr/share/doc/confd/copyright"

# The packaged config: the example's top-level settings as they are, its rooms, numbers and
# other tables commented out (they are examples), recordings and the token file under the
# package's paths.
{
	cat <<-'HEAD'
	# /etc/confd/confd.toml: confd's configuration, read by confd.service
	# (confd -config /etc/confd/confd.toml). A conffile: your changes are kept on upgrades.
	# Every setting is explained in /usr/share/doc/confd/examples/confd.example.toml and README.md.
	# After a change: systemctl restart confd (calls in progress get the drain time below).
	#
	# The API token is the first line of /etc/confd/api-token (random, made at install; replace
	# it at will). The moderator view is http://THIS-HOST:8080/#moderate?token=TOKEN.
	HEAD
	awk '
		NR <= 2 { next }                                  # the example file header
		/^# recording_dir =/ { print "recording_dir = \"/var/lib/confd/recordings\"   # the mix of each recorded room (Ogg/Opus)"; next }
		/^# api_token_file =/ { print "api_token_file = \"/etc/confd/api-token\"      # first line: the bearer token for /api/*"; skip = 1; next }
		skip && /^#  / { next }                           # the continuation of that comment
		{ skip = 0 }
		/^\[/ { tables = 1 }
		tables && !/^#/ && !/^[[:space:]]*$/ { print "# " $0; next }
		{ print }
	' "$top/confd.example.toml"
} >"$root/etc/confd/confd.toml"
chmod 0644 "$root/etc/confd/confd.toml"
echo /etc/confd/confd.toml >"$root/DEBIAN/conffiles"

for s in postinst prerm postrm; do
	install -m 0755 "$here/debian/$s" "$root/DEBIAN/$s"
done

# The newest glibc symbol version the binary needs (dpkg-shlibdeps would say this; it is in
# dpkg-dev, which a build machine need not have).
glibc=2.34
if command -v objdump >/dev/null; then
	glibc=$(objdump -T "$bin" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
fi
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOC
Package: confd
Version: $version
Architecture: $arch
Maintainer: confd maintainers <confd@localhost>
Installed-Size: $size
Depends: libc6 (>= $glibc), libopus0 (>= 1.1), libspeexdsp1 (>= 1.2), adduser
Section: net
Priority: optional
Description: conference bridge for SIP phones and WebRTC browsers
 confd puts SIP phones (G.711, G.722 and Opus over RTP) and WebRTC browsers
 (Opus over DTLS-SRTP) into the same rooms: every participant hears everyone
 else minus itself, shaped by a routing matrix (gains, mute, deaf, coach and
 monitor roles). It serves a web page, WHIP and WHEP, SIP over WebSocket, a
 JSON control API with event streams and webhooks, and Prometheus metrics.
EOC

mkdir -p "$outdir"
out="$outdir/confd_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out" >/dev/null
echo "$out"
