#!/bin/sh
# make demo: the policy on sample requests (the daemon demo between a real
# nginx and php-fpm replaces this when the daemon lands).
set -eu
bin=${FCN_BIN:-build/fcgi-normalizer}
ex=packaging/examples
echo "== configuration test"
$bin -t -c $ex/matomo.conf
echo
echo "== a request through a trusted load balancer (stdin):"
sed 's/^/   /' $ex/matomo-request.txt
echo
echo "== what PHP would see, and why:"
$bin -c $ex/matomo.conf -e matomo < $ex/matomo-request.txt
echo
echo "== the same headers from an untrusted client:"
sed 's/^REMOTE_ADDR=.*/REMOTE_ADDR=198.51.100.66/' $ex/matomo-request.txt |
    $bin -c $ex/matomo.conf -e matomo
