<?php
// Prints what PHP sees, as JSON, for the end-to-end tests.
$keys = ['REMOTE_ADDR', 'REMOTE_PORT', 'REALIP_REMOTE_ADDR', 'HTTPS',
    'REQUEST_SCHEME', 'SERVER_PORT', 'HTTP_HOST', 'SCRIPT_NAME',
    'REQUEST_URI', 'PHP_SELF', 'DOCUMENT_URI', 'SCRIPT_FILENAME',
    'HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_URI', 'HTTP_PROXY',
    'HTTP_CF_CONNECTING_IP', 'HTTP_FORWARDED'];
$out = [];
foreach ($keys as $k)
    $out[$k] = $_SERVER[$k] ?? null;
$out['script'] = __FILE__;
$body = file_get_contents('php://input');
$out['body_len'] = strlen($body);
$out['body_md5'] = md5($body);
header('Content-Type: application/json');
echo json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
