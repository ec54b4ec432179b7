# Shared by packaging/container/{build,test}.sh and
# packaging/kubernetes/{check,pod-test}.sh: host packages, podman on
# these machines, and the pass/fail tally.  Sourced (POSIX sh).

# need PKG...: install the Debian packages that are missing on the host.
need() {
	_missing=""
	for _p in "$@"; do
		dpkg-query -W -f='${Status}' "$_p" 2>/dev/null |
		    grep -q "ok installed" || _missing="$_missing $_p"
	done
	[ -z "$_missing" ] && return 0
	echo "== installing on the host:$_missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $_missing >/dev/null
}

# oci_conf DIR: podman's default ulimits and crun do not work on these
# machines (ENVIRONMENT.md); DIR/containers.conf replaces containers.conf
# for our calls only.
oci_conf() {
	printf '[containers]\ndefault_ulimits = []\n' > "$1/containers.conf"
	CONTAINERS_CONF=$1/containers.conf
	export CONTAINERS_CONF
}
pod() { podman --runtime "${RUNTIME:-runc}" "$@"; }

PASSES=0
FAILS=0
pass() { PASSES=$((PASSES + 1)); echo "ok: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
check() {	# check NAME COMMAND...
	_name=$1
	shift
	if "$@"; then pass "$_name"; else fail "$_name"; fi
}
# wait_for PATH: up to 10 s.
wait_for() {
	for _i in $(seq 1 200); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
