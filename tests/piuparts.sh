#!/bin/sh
# make check-piuparts (Debian 12, as root): piuparts on the built .deb in a
# bookworm chroot made from the Debian archive.  Two tests, both must pass:
#   install/purge      the .deb installed (its dependencies from the
#                      mirror), removed, purged: nothing left, nothing
#                      changed, no processes, no broken symlinks, the
#                      logrotate file quiet once the package is removed,
#                      adequate (libraries, symbols) clean;
#   install/upgrade    the previous build installed with apt-get, upgraded
#                      to this .deb, purged.
# "The previous build" is this .deb under a lower version ($ver~prev1,
# made with dpkg-deb -R as tests/systemd/run makes its "upgrade"), or an
# older .deb named by FCN_PREV_DEB.  It reaches the chroot as a local apt
# repository (--bindmount + --extra-repo), which is what makes piuparts
# run its upgrade test: it tests upgrades from whatever apt knows.
# The base tarball (debootstrap by piuparts itself) is cached under
# /var/tmp/fcgi-normalizer-piuparts; rm -rf that directory to start over.
# The whole piuparts log goes to build/piuparts.log.
set -eu
cd "$(dirname "$0")/.."
SUITE=bookworm
MIRROR=${FCN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${FCN_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
CACHE=/var/tmp/fcgi-normalizer-piuparts
BASE=$CACHE/$SUITE-$(printf '%s %s merged-usr' "$SUITE" "$MIRROR" | md5sum |
    cut -c1-12).tgz
LOG=build/piuparts.log
ver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
DEB=${FCN_DEB:-build/fcgi-normalizer_${ver}_$(dpkg --print-architecture).deb}
PREV=${FCN_PREV_DEB:-}
t0=$(date +%s)
WORK=""

die() { echo "check-piuparts: $*" >&2; exit 1; }

need() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		    missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "== installing on the host:$missing"
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
	    install -y -qq --no-install-recommends $missing >/dev/null 2>&1
}

# The chroot as a real bookworm machine has it: the point release, its
# updates and security suites, main only.
piuparts_common() {
	piuparts -d "$SUITE" -m "$MIRROR main" \
	    --extra-repo="deb $MIRROR $SUITE-updates main" \
	    --extra-repo="deb $SECURITY $SUITE-security main" \
	    --merged-usr -t "$WORK" "$@"
}

# The cached base tarball: built once (debootstrap, about 30 s), then
# reused; each run still apt-get updates and dist-upgrades the chroot, and
# a tarball older than 30 days is made again (point releases pile up).
fresh() { [ -s "$BASE" ] && [ -z "$(find "$BASE" -mtime +30)" ]; }
base_tgz() {
	fresh && return 0
	mkdir -p "$CACHE"
	# Two runs at once: the second waits for the first one's tarball.
	exec 9> "$CACHE/.lock"
	flock 9
	if ! fresh; then
		echo "== debootstrap $SUITE into $BASE (cached for later runs)"
		# piuparts needs a package to start; it only sets up the
		# chroot, saves it (-s) and runs no test.
		piuparts_common -s "$BASE.tmp" --no-install-purge-test \
		    --no-upgrade-test "$DEB" > "$CACHE/base.log" 2>&1 || {
			tail -30 "$CACHE/base.log"
			rm -f "$BASE.tmp"
			die "making the base tarball failed (log: $CACHE/base.log)"
		}
		mv "$BASE.tmp" "$BASE"
	fi
	exec 9>&-
}

# The previous build in a local apt repository that the chroot sees at
# the same path.
prev_repo() {
	repo=$WORK/repo
	mkdir -p "$repo"
	if [ -n "$PREV" ]; then
		cp "$PREV" "$repo/"
	else
		dpkg-deb -R "$DEB" "$WORK/prev"
		sed -i "s/^Version: .*/Version: $ver~prev1/" "$WORK/prev/DEBIAN/control"
		dpkg-deb -b "$WORK/prev" "$repo/fcgi-normalizer_${ver}~prev1.deb" \
		    >/dev/null
		rm -rf "$WORK/prev"
	fi
	prever=$(dpkg-deb -f "$repo"/*.deb Version)
	dpkg --compare-versions "$prever" lt "$ver" ||
	    die "previous build $prever is not older than $ver"
	(cd "$repo" && dpkg-scanpackages -m . /dev/null > Packages 2>/dev/null)
	# apt reads file: repositories as _apt.
	chmod 755 "$WORK" "$repo"
	chmod 644 "$repo"/*
}

# A piuparts killed (SIGTERM: no cleanup of its own) leaves its chroot
# mounted: unmount, deepest first; if that fails, keep the tree.
cleanup() {
	[ -n "$WORK" ] || return 0
	grep " $WORK/" /proc/mounts | awk '{ print $2 }' | sort -r |
	    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
	if grep -q " $WORK/" /proc/mounts; then
		echo "check-piuparts: $WORK still has mounts, left as is" >&2
	else
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || die "run as root"
[ -f "$DEB" ] || die "$DEB missing: make deb"
need piuparts adequate debsums dpkg-dev
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
base_tgz
echo "== base tarball ready ($(($(date +%s) - t0)) s)"
prev_repo
echo "== piuparts: install/purge of $ver, upgrade from $prever (log: $LOG)"
rc=0
piuparts_common -b "$BASE" --fail-if-inadequate --bindmount="$repo" \
    --extra-repo="deb [trusted=yes] file://$repo ./" \
    "$DEB" > "$LOG" 2>&1 || rc=$?
# The verdicts, each error or warning with the lines it lists (the files
# left, the adequate tags), without piuparts' timestamps.
awk '/^[0-9]+m[0-9.]+s / {
	more = /ERROR: |Warning: /
	if (!/(PASS|FAIL|SKIP|WARN): |ERROR: |Warning: |Can.t test upgrade|Running adequate/)
		next
	sub(/^[^ ]* /, "")
	if (!seen[$0]++)
		print
	next
}
more && /^  / { print }' "$LOG"
if [ $rc != 0 ] || ! grep -q 'PASS: All tests' "$LOG" ||
    ! grep -q 'PASS: Installation, upgrade and purging tests' "$LOG"; then
	echo "-- the end of $LOG:"
	tail -40 "$LOG"
	die "FAIL (exit $rc, $(($(date +%s) - t0)) s)"
fi
echo "check-piuparts: OK ($(($(date +%s) - t0)) s)"
