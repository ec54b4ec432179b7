# The edge serves /matomo/ from the origin's / with X-Forwarded-Uri.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];
	uri_header = "HTTP_X_FORWARDED_URI";'
RESP=$(curl -s --interface 127.0.0.2 "http://127.0.0.1:$EDGE/matomo/dump.php?a=1")
expect SCRIPT_NAME /matomo/dump.php
expect REQUEST_URI '/matomo/dump.php?a=1'
expect PHP_SELF /matomo/dump.php
expect DOCUMENT_URI /matomo/dump.php
expect HTTP_X_FORWARDED_URI null
expect script "$T/www/dump.php"
expect REMOTE_ADDR 127.0.0.2
