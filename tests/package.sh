#!/bin/sh
# make deb / make check-package (Debian 12, as root for "test").
#   build: dpkg-buildpackage -b from a copy of the tree, .deb in build/
#   test:  lintian, dpkg -i, -t of every shipped config and example, the
#          installed daemon between a real nginx and php-fpm, dpkg -r/-P
set -eu
cd "$(dirname "$0")/.."
ver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version 2>/dev/null ||
    echo 0.1.0)
deb=build/fcgi-normalizer_${ver}_$(dpkg --print-architecture).deb

need() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		    missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $missing >/dev/null
}

build() {
	need debhelper dpkg-dev fakeroot pkgconf
	rm -rf build/pkg
	mkdir -p build/pkg/src
	git ls-files -z 2>/dev/null | xargs -0 -I{} cp --parents {} build/pkg/src/ ||
	    tar --exclude=./build -cf - . | tar -C build/pkg/src -xf -
	cp -r packaging/debian build/pkg/src/debian
	(cd build/pkg/src && dpkg-buildpackage -us -uc -b >../build.log 2>&1) || {
		tail -30 build/pkg/build.log
		exit 1
	}
	cp build/pkg/fcgi-normalizer_*.deb build/
	echo "package: $(ls build/fcgi-normalizer_*.deb)"
}

fail() { echo "check-package: FAIL: $*"; exit 1; }

test_pkg() {
	need lintian nginx-light php8.2-fpm php8.2-cli curl
	echo "== lintian"
	lintian --fail-on error "$deb" || fail "lintian errors"
	echo "== dpkg -i"
	dpkg -i "$deb" >/dev/null
	dpkg -c "$deb" | awk '{ print $1, $6 }'
	echo "== fcgi-normalizer -t on the shipped config and every example"
	/usr/sbin/fcgi-normalizer -t || fail "shipped config"
	tmp=$(mktemp -d)
	for ex in /usr/share/doc/fcgi-normalizer/examples/*.conf; do
		mkdir -p "$tmp/apps.d"
		rm -f "$tmp/apps.d"/*
		cp "$ex" "$tmp/apps.d/"
		printf 'apps_dir = "%s/apps.d";\n' "$tmp" > "$tmp/main.conf"
		printf '%s: ' "$(basename "$ex")"
		/usr/sbin/fcgi-normalizer -t -c "$tmp/main.conf" ||
		    fail "example $ex"
	done
	rm -rf "$tmp"
	echo "== provider ranges (SPEC §3.4): tool, snapshots, seeded copies, timer"
	[ -x /usr/sbin/fcgi-normalizer-ranges ] || fail "no fcgi-normalizer-ranges"
	man -w fcgi-normalizer-ranges >/dev/null 2>&1 ||
	    [ -e /usr/share/man/man8/fcgi-normalizer-ranges.8.gz ] ||
	    fail "no fcgi-normalizer-ranges(8)"
	for p in cloudflare cloudfront cloudfront-origin-facing fastly google-lb; do
		snap=/usr/share/fcgi-normalizer/ranges/$p.txt
		[ -f "$snap" ] || fail "no snapshot $snap"
		head -n 5 "$snap" | grep -q "^# provider: $p\$" ||
		    fail "$snap: no provider line"
		for k in source fetched entries sha256; do
			head -n 5 "$snap" | grep -q "^# $k: ." ||
			    fail "$snap: no $k line"
		done
		cmp -s "$snap" "/var/lib/fcgi-normalizer/ranges/$p.txt" ||
		    fail "/var/lib/fcgi-normalizer/ranges/$p.txt not seeded"
	done
	# A fresher copy is kept on reconfigure; a missing one is seeded again.
	sed -i 's/^# fetched: .*/# fetched: 2099-01-01T00:00:00Z/' \
	    /var/lib/fcgi-normalizer/ranges/fastly.txt
	rm /var/lib/fcgi-normalizer/ranges/google-lb.txt
	dpkg-reconfigure fcgi-normalizer >/dev/null 2>&1 ||
	    dpkg --configure -a >/dev/null 2>&1 || true
	grep -q '^# fetched: 2099-01-01' /var/lib/fcgi-normalizer/ranges/fastly.txt ||
	    fail "reconfigure replaced a fresher ranges copy"
	cp /usr/share/fcgi-normalizer/ranges/fastly.txt \
	    /var/lib/fcgi-normalizer/ranges/fastly.txt
	[ -f /var/lib/fcgi-normalizer/ranges/google-lb.txt ] ||
	    fail "reconfigure did not seed a missing ranges copy"
	for u in fcgi-normalizer-ranges.timer fcgi-normalizer-ranges.service; do
		[ -f "/lib/systemd/system/$u" ] || fail "no $u"
	done
	out=$(systemd-analyze verify /lib/systemd/system/fcgi-normalizer-ranges.timer \
	    /lib/systemd/system/fcgi-normalizer-ranges.service 2>&1) ||
	    fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify: $out"
	st=$(systemctl is-enabled fcgi-normalizer-ranges.timer 2>/dev/null || true)
	[ "$st" = disabled ] || fail "fcgi-normalizer-ranges.timer is '$st', not disabled"
	echo "ranges: tool, man page, 5 snapshots seeded, timer verified and $st"
	echo "== the installed daemon between nginx and php-fpm"
	bash tests/package-e2e.sh || fail "installed daemon end to end"
	echo "== dpkg -r, then dpkg -P"
	dpkg -r fcgi-normalizer >/dev/null
	[ ! -e /usr/sbin/fcgi-normalizer ] || fail "binary left after remove"
	[ -e /etc/fcgi-normalizer/fcgi-normalizer.conf ] ||
	    fail "conffile gone after remove (Debian keeps it until purge)"
	dpkg -P fcgi-normalizer >/dev/null
	for f in /etc/fcgi-normalizer /usr/share/doc/fcgi-normalizer \
	    /usr/share/man/man8/fcgi-normalizer.8.gz \
	    /lib/systemd/system/fcgi-normalizer.service \
	    /lib/systemd/system/fcgi-normalizer-ranges.timer \
	    /usr/sbin/fcgi-normalizer-ranges /usr/share/fcgi-normalizer \
	    /var/lib/fcgi-normalizer; do
		[ ! -e "$f" ] || fail "$f left after purge"
	done
	echo "check-package: OK"
}

case "${1:-}" in
build) build;;
test) test_pkg;;
*) echo "usage: $0 build|test" >&2; exit 2;;
esac
