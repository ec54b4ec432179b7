<?php
// What real PHP code reads behind the daemon (SPEC §4.9): Symfony
// HttpFoundation from Debian with its own proxy trust, the common
// "client IP" idiom, Debian's wordpress wp-config HTTPS idiom, and every
// forwarded param still visible.
require '/usr/share/php/Symfony/Component/HttpFoundation/autoload.php';
use Symfony\Component\HttpFoundation\Request;

// Symfony's documented load-balancer recipe (trusted_proxies:
// REMOTE_ADDR); Laravel's TrustProxies with $proxies = '*' does the same.
if (($_GET['trust'] ?? 'remote_addr') === 'remote_addr')
    Request::setTrustedProxies(['REMOTE_ADDR'],
        Request::HEADER_X_FORWARDED_FOR | Request::HEADER_X_FORWARDED_HOST |
        Request::HEADER_X_FORWARDED_PORT | Request::HEADER_X_FORWARDED_PROTO);
$r = Request::createFromGlobals();

// The idiom found in countless apps: first of these wins.
$idiom = $_SERVER['HTTP_CLIENT_IP'] ?? $_SERVER['HTTP_X_FORWARDED_FOR'] ??
    $_SERVER['HTTP_X_REAL_IP'] ?? $_SERVER['REMOTE_ADDR'];
// /usr/share/doc/wordpress/examples/config-default.php (Debian).
$wp_https = (isset($_SERVER['HTTP_X_FORWARDED_PROTO']) &&
    $_SERVER['HTTP_X_FORWARDED_PROTO'] === 'https') ||
    (($_SERVER['HTTPS'] ?? '') === 'on');

$fwd = [];
foreach ($_SERVER as $k => $v)
    if (preg_match('/^(HTTP_(FORWARDED|X_FORWARDED_|X_REAL_IP|CLIENT_IP|' .
        'X_CLIENT_IP|X_CLUSTER_CLIENT_IP|TRUE_CLIENT_IP|CF_|FASTLY_|' .
        'FRONT_END_HTTPS|X_URL_SCHEME|X_ORIGINAL_URL|X_REWRITE_URL)|' .
        'PROXY_PROTOCOL_)/', $k))
        $fwd[] = $k;
sort($fwd);

header('Content-Type: application/json');
echo json_encode([
    'client_ip' => $r->getClientIp(),
    'secure' => $r->isSecure() ? 'yes' : 'no',
    'uri' => $r->getUri(),
    'idiom_ip' => $idiom,
    'wp_https' => $wp_https ? 'yes' : 'no',
    'fwd' => implode(',', $fwd),
    'REMOTE_ADDR' => $_SERVER['REMOTE_ADDR'] ?? null,
    'HTTPS' => $_SERVER['HTTPS'] ?? null,
    'HTTP_HOST' => $_SERVER['HTTP_HOST'] ?? null,
    'SERVER_PORT' => $_SERVER['SERVER_PORT'] ?? null,
    'SERVER_NAME' => $_SERVER['SERVER_NAME'] ?? null,
    'SCRIPT_NAME' => $_SERVER['SCRIPT_NAME'] ?? null,
    'PROXY_PROTOCOL_UNIQUE_ID' => $_SERVER['PROXY_PROTOCOL_UNIQUE_ID'] ?? null,
], JSON_UNESCAPED_SLASHES), "\n";
