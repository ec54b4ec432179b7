#!/bin/bash
# packaging/kubernetes/pod-test.sh [DEB]   (Debian 12, root; no cluster)
#
# Runs the php-app pod of deployment.yaml as closely as this machine can
# without Kubernetes or registry images: the ConfigMaps' files laid out as
# the kubelet mounts them (..data symlinks), the "sockets" emptyDir as the
# kubelet makes it with fsGroup 33 (group 33, setgid, 0777), and
#   - fcgi-normalizer: our image (built from DEB by build.sh under a unique
#     tag, or $FCN_IMAGE) under podman with the container's securityContext
#     (uid 10001, group 33 primary and supplementary, read-only root, no
#     capabilities, no network);
#   - nginx and php-fpm: Debian's nginx-light and php8.2-fpm standing in for
#     the nginx and php:8.2-fpm images, with the ConfigMap's nginx.conf and
#     pool file, as uid 65534 and 33 in group 33, in a private mount
#     namespace (the pod's paths: /run/fcgi-normalizer, /var/www/html, /tmp)
#     and a private network namespace (loopback, plus 10.244.1.5 for an
#     ingress controller pod and 192.0.2.1 for an outsider).
# Then HTTP through nginx, the probes' commands and the metrics endpoint.
# Prints "pod: N passed, N failed"; removes everything it made.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$TOP/packaging/container/lib.sh"
RUNTIME=${FCN_OCI_RUNTIME:-runc}
PY=/usr/bin/python3
CTR=fcn-pod-test-$$
IMAGE=${FCN_IMAGE:-}
OWN_IMAGE=""
NS_PID=""

T=$(mktemp -d /tmp/fcn-pod-test.XXXXXX)
chmod 755 "$T"
oci_conf "$T"

cleanup() {
	pod rm -f -t 0 "$CTR" >/dev/null 2>&1 || true
	# The namespace's init; nginx and php-fpm die with their namespace.
	[ -n "$NS_PID" ] && kill -KILL "$NS_PID" 2>/dev/null || true
	[ -n "$OWN_IMAGE" ] && pod rmi -f "$OWN_IMAGE" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT


need podman runc nginx-light php8.2-fpm curl python3-yaml libfcgi-bin

if [ -z "$IMAGE" ]; then
	ver=$(dpkg-parsechangelog -l "$TOP/packaging/debian/changelog" \
	    -S Version)
	arch=$(dpkg --print-architecture)
	deb=${1:-$TOP/build/fcgi-normalizer_${ver}_$arch.deb}
	IMAGE=localhost/fcgi-normalizer-podtest:$$
	OWN_IMAGE=$IMAGE
	sh "$TOP/packaging/container/build.sh" "$deb" "$IMAGE"
fi

# The ConfigMaps' keys, and the volumes as the kubelet lays them out.
$PY - "$T/cm" "$HERE"/configmap-*.yaml <<'EOF'
import os, sys, yaml
for f in sys.argv[2:]:
    for d in yaml.safe_load_all(open(f)):
        if d and d.get("kind") == "ConfigMap":
            base = os.path.join(sys.argv[1], d["metadata"]["name"])
            os.makedirs(base, exist_ok=True)
            for k, v in d.get("data", {}).items():
                open(os.path.join(base, k), "w").write(v)
EOF
vol=$T/vol/fcgi-normalizer-config
mkdir -p "$vol/..2026_01_01_00_00_00.000000000/apps.d"
cp "$T/cm/php-app-fcgi-normalizer/fcgi-normalizer.conf" \
    "$vol/..2026_01_01_00_00_00.000000000/"
cp "$T/cm/php-app-fcgi-normalizer/app.conf" \
    "$vol/..2026_01_01_00_00_00.000000000/apps.d/"
ln -s ..2026_01_01_00_00_00.000000000 "$vol/..data"
ln -s ..data/fcgi-normalizer.conf "$vol/fcgi-normalizer.conf"
ln -s ..data/apps.d "$vol/apps.d"
chmod -R a+rX "$T/vol"
chgrp -R 33 "$T/vol"
mkdir "$T/sockets" "$T/www" "$T/tmp"
chgrp 33 "$T/sockets"
chmod 2777 "$T/sockets"
cp "$T/cm/php-app-web/index.php" "$T/www/"
chmod 755 "$T/www" && chmod 644 "$T/www/index.php"

echo "== fcgi-normalizer container ($IMAGE)"
pod run -d --name "$CTR" --network=none --read-only --cap-drop=all \
    --security-opt=no-new-privileges --user 10001:33 --group-add 33 \
    --log-driver=k8s-file \
    -v "$T/sockets:/run/fcgi-normalizer" \
    -v "$vol:/etc/fcgi-normalizer:ro" \
    "$IMAGE" -c /etc/fcgi-normalizer/fcgi-normalizer.conf >/dev/null
if ! wait_for "$T/sockets/app.sock"; then
	pod logs "$CTR" 2>&1 | tail
	echo "pod: $PASSES passed, 1 failed"
	exit 1
fi
sock=$(stat -c '%G %a' "$T/sockets/app.sock")
check "the daemon's socket is group 33 (www-data), 0660: $sock" \
    [ "$sock" = "www-data 660" ]

echo "== nginx and php-fpm in the pod's namespaces"
# php-fpm's global part is the official image's; the pool is www.conf's,
# zz-docker.conf's listen, then the ConfigMap's file.
cat > "$T/php-fpm.conf" <<EOF
[global]
error_log = /tmp/php-fpm.log
daemonize = no
[www]
listen = 9000
pm = dynamic
pm.max_children = 5
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
EOF
cat "$T/cm/php-app-web/zzz-fcgi-normalizer.conf" >> "$T/php-fpm.conf"
# The pod's paths exist only in its mount namespace: $T is seen as /mnt
# there, /tmp, /run and /var are fresh tmpfs, the host's are untouched.
cat > "$T/pod.sh" <<'EOF'
set -e
mount --make-rprivate /
mount --bind "$1" /mnt
for d in /tmp /run /var; do
	mount -t tmpfs -o mode=1777 tmpfs "$d"
done
chmod 755 /run /var
mkdir -p /run/fcgi-normalizer /var/www/html /var/log/nginx
mount --bind /mnt/sockets /run/fcgi-normalizer
mount --bind /mnt/www /var/www/html
ip link set lo up
ip addr add 10.244.1.5/32 dev lo
ip addr add 192.0.2.1/32 dev lo
setpriv --reuid=33 --regid=33 --clear-groups \
    php-fpm8.2 -y /mnt/php-fpm.conf -F >/dev/null 2>&1 &
# The kubelet's runtime hands a container stdio it may reopen
# (/dev/stdout): so does this file.
touch /mnt/nginx.out
chown 65534 /mnt/nginx.out
setpriv --reuid=65534 --regid=33 --clear-groups \
    nginx -c /mnt/cm/php-app-web/nginx.conf -g 'daemon off;' \
    >/mnt/nginx.out 2>&1 &
exec sleep 3600
EOF
# --pid --kill-child: killing unshare ends the namespace's init, and with
# it php-fpm and nginx.
unshare --mount --net --pid --fork --kill-child sh "$T/pod.sh" "$T" &
NS_PID=$!
disown "$NS_PID"	# no "Killed" notice from the cleanup
in_pod() { nsenter -t "$(pgrep -P "$NS_PID" | head -n 1)" -m -n "$@"; }
wait_for "$T/sockets/php-fpm.sock" || { fail "php-fpm did not start"; }
# nginx's own 404 (not a request of the daemon's figures).
for _ in $(seq 1 100); do
	in_pod curl -s -o /dev/null http://127.0.0.1:9145/ 2>/dev/null && break
	sleep 0.05
done
sock=$(stat -c '%U %G %a' "$T/sockets/php-fpm.sock" 2>/dev/null || true)
check "php-fpm's socket: $sock" [ "$sock" = "www-data www-data 660" ]

echo "== requests"
out=$(in_pod curl -s --interface 10.244.1.5 \
    -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Proto: https' \
    http://127.0.0.1:8080/ 2>&1 | tr '\n' ' ') || true
check "from the ingress pod 10.244.1.5: $out" \
    [ "${out#REMOTE_ADDR=203.0.113.7 HTTPS=on }" != "$out" ]
out=$(in_pod curl -s --interface 192.0.2.1 \
    -H 'X-Forwarded-For: 203.0.113.7' http://127.0.0.1:8080/ 2>&1 |
    tr '\n' ' ') || true
check "from an outsider 192.0.2.1: $out" \
    [ "${out#REMOTE_ADDR=192.0.2.1 HTTPS= }" != "$out" ]

echo "== probes and metrics"
out=$(pod exec "$CTR" fcgi-normalizer-health \
    /run/fcgi-normalizer/app.sock 2>&1) && rc=0 || rc=$?
check "readinessProbe command: rc=$rc $out" [ $rc = 0 ]
out=$(pod exec "$CTR" fcgi-normalizer-health -l \
    /run/fcgi-normalizer/app.sock 2>&1) && rc=0 || rc=$?
check "livenessProbe command: rc=$rc $out" [ $rc = 0 ]
out=$(in_pod curl -s -w '%{http_code} %{content_type}\n' \
    --interface 10.244.1.5 http://127.0.0.1:9145/metrics 2>&1) || true
code=$(printf '%s\n' "$out" | tail -n 1)
check "metrics from Prometheus' pod network: $code" \
    [ "$code" = "200 text/plain; version=0.0.4; charset=utf-8" ]
line=$(printf '%s\n' "$out" | grep '^fcgi_normalizer_requests_total' || true)
check "metrics: $line" \
    [ "$line" = 'fcgi_normalizer_requests_total{app="php-app"} 2' ]
if command -v promtool >/dev/null 2>&1; then
	printf '%s\n' "$out" | sed '$d' > "$T/metrics"
	check "promtool check metrics on /metrics" \
	    sh -c "promtool check metrics < '$T/metrics'"
fi
code=$(in_pod curl -s -o /dev/null -w '%{http_code}' --interface 192.0.2.1 \
    http://127.0.0.1:9145/metrics 2>&1) || true
check "metrics from an outsider: $code" [ "$code" = 403 ]

echo "== SIGHUP as README.md says (kubectl exec ... kill -HUP 1)"
pod exec "$CTR" sh -c 'kill -HUP 1'
sleep 0.3
pod logs "$CTR" > "$T/log" 2>&1
check "reloaded" grep -q 'info app=- reloaded' "$T/log"
sed 's/^/  log: /' "$T/log"

echo "pod: $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
