#!/bin/sh
# packaging/container/build.sh [DEB [IMAGE]]
#
# An OCI image of fcgi-normalizer made from the Debian archive and our .deb,
# with no registry image: mmdebstrap --variant=minbase bookworm with the
# package, its dependencies and cgi-fcgi (for the health check) installed,
# an unprivileged user, the container's default config; then podman import
# with the image's metadata.  Needs root (mmdebstrap's root mode, podman's
# own storage) and the Debian archive.
#
#   DEB     the package to install; default: "make deb" in this tree, then
#           build/fcgi-normalizer_VERSION_ARCH.deb
#   IMAGE   the tag; default $FCN_IMAGE or localhost/fcgi-normalizer:VERSION
#
# $FCN_DEBIAN_MIRROR and $FCN_DEBIAN_SECURITY pick other archive mirrors.
# The image: see packaging/container/README.md.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$TOP/packaging/container/lib.sh"
MIRROR=${FCN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY=${FCN_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
SUITE=bookworm
# A fixed, numeric uid: Kubernetes' runAsNonRoot can only check a numeric
# USER, and a pod's runAsUser names the same number.
UID_FCN=10001

die() { echo "build.sh: $*" >&2; exit 1; }


[ "$(id -u)" = 0 ] || die "run as root (mmdebstrap root mode, podman)"
need mmdebstrap podman runc

deb=${1:-}
if [ -z "$deb" ]; then
	echo "== make deb"
	make -C "$TOP" --no-print-directory deb
	ver=$(dpkg-parsechangelog -l "$TOP/packaging/debian/changelog" \
	    -S Version)
	deb=$TOP/build/fcgi-normalizer_${ver}_$(dpkg --print-architecture).deb
fi
[ -f "$deb" ] || die "no package $deb"
ver=$(dpkg-deb -f "$deb" Version)
image=${2:-${FCN_IMAGE:-localhost/fcgi-normalizer:$ver}}

t0=$(date +%s)
T=$(mktemp -d /tmp/fcn-image.XXXXXX)
trap 'rm -rf "$T"' EXIT
# apt outside the chroot hands the .deb's path to dpkg inside it; the
# file-mirror-automount hook makes the same path exist in there.
chmod 755 "$T"
cp "$deb" "$T/fcgi-normalizer.deb"
chmod 644 "$T/fcgi-normalizer.deb"
oci_conf "$T"

# What the customize hooks copy in (they run with mmdebstrap's environment).
export FCN_CTX="$HERE" FCN_UID="$UID_FCN"

echo "== mmdebstrap $SUITE (minbase) with $(basename "$deb") and libfcgi-bin"
# Documentation, man pages and translations are left out as in Debian's
# slim images (copyright files and our own examples stay); the exclusions
# stay in /etc/dpkg/dpkg.cfg.d for whatever is installed later.
mmdebstrap --variant=minbase --mode=root --format=tar \
    --include="$T/fcgi-normalizer.deb" --include=libfcgi-bin \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    --skip=cleanup/run \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-include=/usr/share/doc/fcgi-normalizer/*' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='chroot "$1" groupadd --system --gid "$FCN_UID" \
	fcgi-normalizer' \
    --customize-hook='chroot "$1" useradd --system --uid "$FCN_UID" \
	--gid "$FCN_UID" --home-dir /nonexistent --no-create-home \
	--shell /usr/sbin/nologin fcgi-normalizer' \
    --customize-hook='install -m 644 "$FCN_CTX/fcgi-normalizer.conf" \
	"$1/etc/fcgi-normalizer/fcgi-normalizer.conf"' \
    --customize-hook='install -m 644 "$FCN_CTX/apps.d/default.conf" \
	"$1/etc/fcgi-normalizer/apps.d/default.conf"' \
    --customize-hook='install -m 755 "$FCN_CTX/fcgi-normalizer-health" \
	"$1/usr/local/bin/fcgi-normalizer-health"' \
    --customize-hook='install -d -m 2775 -o "$FCN_UID" -g "$FCN_UID" \
	"$1/run/fcgi-normalizer"' \
    --customize-hook='rm -f "$1"/var/log/*.log "$1"/var/log/apt/* \
	"$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old' \
    "$SUITE" "$T/root.tar" \
    "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main" \
    "deb $SECURITY $SUITE-security main" > "$T/mmdebstrap.log" 2>&1 || {
	tail -30 "$T/mmdebstrap.log"
	die "mmdebstrap failed"
}

echo "== podman import $image"
# USER numeric (see UID_FCN).  The daemon always runs in the foreground;
# CMD names the config so that a missing mount fails loudly instead of
# falling back to the built-in default.  SIGQUIT is the graceful stop
# (SPEC §6: in-flight requests finish, up to 30 s), as the systemd unit.
# podman import takes no HEALTHCHECK (and OCI images have none): the
# check is a command, given at run time (--health-cmd, a Kubernetes exec
# probe).
podman import --quiet \
    --message "fcgi-normalizer $ver from $(basename "$deb")" \
    --change "USER $UID_FCN:$UID_FCN" \
    --change 'WORKDIR /' \
    --change 'ENTRYPOINT ["/usr/sbin/fcgi-normalizer"]' \
    --change 'CMD ["-c", "/etc/fcgi-normalizer/fcgi-normalizer.conf"]' \
    --change 'STOPSIGNAL SIGQUIT' \
    --change "LABEL org.opencontainers.image.title=fcgi-normalizer" \
    --change "LABEL org.opencontainers.image.version=$ver" \
    --change "LABEL io.fcgi-normalizer.health-cmd=fcgi-normalizer-health" \
    "$T/root.tar" "$image" >/dev/null
size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image: $image, $((size / 1000000)) MB, built in $(($(date +%s) - t0)) s"
