#!/bin/sh
# packaging/kubernetes/check.sh: the offline checks of the Kubernetes example
# (Debian 12, root to install what is missing; no cluster, no network).
#
#   1. yamllint: YAML syntax, duplicate keys (PyYAML would take the last
#      one silently), indentation, lines of 80 columns.
#   2. validate.py: every field against the API types of python3-kubernetes
#      (unknown fields, types, required fields), then the references
#      between the objects (labels, volumes, ConfigMap keys, named ports).
#   3. kubectl kustomize, when a kubectl is installed: kustomization.yaml
#      renders, and the rendered objects pass validate.py too.  With
#      $KUBECONFIG set, also "kubectl apply --dry-run=server -k".
#   4. The configs inside the ConfigMaps, each read by its own program:
#      fcgi-normalizer -t ($FCN_BIN, default build/fcgi-normalizer of this
#      tree), nginx -t, php-fpm8.2 -t (on the image's pool layering), php -l.
# Prints "kubernetes: N passed, N failed"; exits non-zero on any failure.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
. "$TOP/packaging/container/lib.sh"
BIN=${FCN_BIN:-$TOP/build/fcgi-normalizer}
case $BIN in
/*) ;;
*) BIN=$(pwd)/$BIN ;;	# the checks below run in $HERE
esac
# Debian's python, whatever python3 comes first in PATH: the modules below
# are Debian packages.
PY=/usr/bin/python3

T=$(mktemp -d /tmp/fcn-k8s-check.XXXXXX)
trap 'rm -rf "$T"' EXIT



need yamllint python3-yaml python3-kubernetes nginx-light php8.2-fpm \
    php8.2-cli
cd "$HERE"
MANIFESTS="configmap-fcgi-normalizer.yaml configmap-web.yaml deployment.yaml"

echo "== yamllint"
if yamllint -f parsable -d '{extends: default, rules: {line-length:
    {max: 80}, document-start: disable}}' $MANIFESTS kustomization.yaml \
    > "$T/yamllint" 2>&1; then
	pass "yamllint: $MANIFESTS kustomization.yaml"
else
	cat "$T/yamllint"
	fail "yamllint"
fi

echo "== validate.py (API types of python3-kubernetes)"
if $PY validate.py $MANIFESTS > "$T/validate" 2>&1; then
	pass "$(tail -n 1 "$T/validate")"
else
	cat "$T/validate"
	fail "validate.py"
fi

echo "== kubectl"
if command -v kubectl >/dev/null 2>&1; then
	if kubectl kustomize . > "$T/rendered.yaml" 2> "$T/kustomize.err" &&
	    $PY validate.py "$T/rendered.yaml" > "$T/validate2" 2>&1; then
		pass "kubectl kustomize renders; $(tail -n 1 "$T/validate2")"
	else
		cat "$T/kustomize.err" "$T/validate2" 2>/dev/null
		fail "kubectl kustomize"
	fi
	if [ -n "${KUBECONFIG:-}" ]; then
		if kubectl apply --dry-run=server -k . > "$T/dry" 2>&1; then
			pass "kubectl apply --dry-run=server:" \
			    "$(tr '\n' ' ' < "$T/dry")"
		else
			cat "$T/dry"
			fail "kubectl apply --dry-run=server"
		fi
	else
		echo "skipped: kubectl apply --dry-run=server (no \$KUBECONFIG)"
	fi
else
	echo "skipped: kubectl kustomize (no kubectl; Debian's is in" \
	    "kubernetes-client)"
fi

echo "== the configs in the ConfigMaps"
# Every key of every ConfigMap, as a file named after it.
$PY - "$T/cm" $MANIFESTS <<'EOF'
import os, sys, yaml
out = sys.argv[1]
for f in sys.argv[2:]:
    for d in yaml.safe_load_all(open(f)):
        if d and d.get("kind") == "ConfigMap":
            base = os.path.join(out, d["metadata"]["name"])
            os.makedirs(base, exist_ok=True)
            for k, v in d.get("data", {}).items():
                open(os.path.join(base, k), "w").write(v)
EOF
cm=$T/cm/php-app-fcgi-normalizer
# As the volume lays them out, /etc/fcgi-normalizer moved to $T/etc.
mkdir -p "$T/etc/apps.d"
sed "s|\"/etc/fcgi-normalizer/apps.d\"|\"$T/etc/apps.d\"|" \
    "$cm/fcgi-normalizer.conf" > "$T/etc/fcgi-normalizer.conf"
cp "$cm/app.conf" "$T/etc/apps.d/app.conf"
chmod 644 "$T/etc/fcgi-normalizer.conf" "$T/etc/apps.d/app.conf"
if [ ! -x "$BIN" ]; then
	fail "fcgi-normalizer -t: no $BIN (make, or set FCN_BIN)"
elif out=$("$BIN" -t -c "$T/etc/fcgi-normalizer.conf" 2>&1); then
	pass "fcgi-normalizer -t on the ConfigMap: $out"
else
	printf '%s\n' "$out"
	fail "fcgi-normalizer -t on the ConfigMap"
fi

web=$T/cm/php-app-web
if out=$(nginx -t -q -c "$web/nginx.conf" 2>&1); then
	pass "nginx -t on nginx.conf${out:+: $out}"
else
	printf '%s\n' "$out"
	fail "nginx -t on nginx.conf"
fi

# The official php:8.2-fpm image's layering: www.conf (a dynamic pool as
# www-data), zz-docker.conf (listen = 9000), then our file.
cat > "$T/php-fpm.conf" <<EOF
[global]
error_log = /proc/self/fd/2
daemonize = no
[www]
user = www-data
group = www-data
listen = 127.0.0.1:9000
pm = dynamic
pm.max_children = 5
pm.start_servers = 2
pm.min_spare_servers = 1
pm.max_spare_servers = 3
[www]
listen = 9000
EOF
cat "$web/zzz-fcgi-normalizer.conf" >> "$T/php-fpm.conf"
if out=$(php-fpm8.2 -t -y "$T/php-fpm.conf" 2>&1); then
	pass "php-fpm8.2 -t with zzz-fcgi-normalizer.conf"
else
	printf '%s\n' "$out"
	fail "php-fpm8.2 -t with zzz-fcgi-normalizer.conf"
fi
if out=$(php8.2 -l "$web/index.php" 2>&1); then
	pass "php -l index.php"
else
	printf '%s\n' "$out"
	fail "php -l index.php"
fi

echo "kubernetes: $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
