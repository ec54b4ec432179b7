#!/bin/sh
# Install the Debian packages the build and the tests need, only those
# missing, so that `make check` works on a fresh Debian 12 machine as root.
# prometheus: its promtool validates the status page's exposition format.
# strace: e2e 73 counts the syscalls of a request.  python3: the fake
# provider of e2e 82 and the PROXY header of e2e 58.  iproute2: e2e 76.
# libcurl, json-c: fcgi-normalizer-ranges (SPEC §3.4) only; libssl: its
# libcrypto, also the daemon's for client certificates (SPEC §4.10).
set -e
pkgs="build-essential pkg-config clang libfcgi-dev libfcgi-bin libconfig-dev
libcunit1-dev libevent-dev libsystemd-dev nginx-light php8.2-fpm php8.2-cli curl
systemd haproxy php-symfony-http-foundation openssl apache2 lighttpd caddy h2o
prometheus strace libcurl4-openssl-dev libjson-c-dev libssl-dev python3 iproute2"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps the packaged nginx and php-fpm services from starting:
# the tests run their own instances on loopback.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $missing >/dev/null
