<?php
// What PHP sees of the client certificate (SPEC §4.10), as JSON: every
// SSL_CLIENT_* param, and the names of any certificate header left.
$out = ['REMOTE_ADDR' => $_SERVER['REMOTE_ADDR'] ?? null, 'left' => []];
foreach ($_SERVER as $k => $v) {
	if (strncmp($k, 'SSL_CLIENT_', 11) === 0)
		$out[$k] = $v;
	elseif (preg_match('/^(HTTP_(X_)?SSL_CLIENT|HTTP_X_CLIENT_CERT|' .
	    'HTTP_X_FORWARDED_CLIENT_CERT|HTTP_X_AMZN_MTLS|PROXY_PROTOCOL_SSL)/',
	    $k))
		$out['left'][] = $k;
}
$out['left'] = implode(',', $out['left']);
header('Content-Type: application/json');
echo json_encode($out, JSON_UNESCAPED_SLASHES), "\n";
