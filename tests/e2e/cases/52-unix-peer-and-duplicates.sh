# Two nginx setups the shared nginx does not have, in a second nginx:
# (1) nginx listening on a unix socket behind a local TLS terminator
# sends REMOTE_ADDR=unix:, trusted only with trusted_proxies "unix:"
# (SPEC §4.2); (2) a config that sets REMOTE_ADDR and SCRIPT_NAME twice:
# php-fpm reads the last occurrence, so trust is judged on it (§4.8).
DUPPORT=$(free_port)
{ nginx_head nginx-52 64; cat <<CONF; } > "$T/nginx-52.conf"
	server {
		listen unix:$T/front-52.sock;
		root $T/www;
		location ~ \.php\$ {
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
			fastcgi_pass unix:$T/fcn.sock;
		}
	}
	server {
		listen 127.0.0.1:$DUPPORT;
		root $T/www;
		location ~ \.php\$ {
			# A hard-coded "trusted" address first, the real peer last.
			fastcgi_param REMOTE_ADDR 127.0.0.1;
			fastcgi_param SCRIPT_NAME /first.php;
			include /etc/nginx/fastcgi_params;
			fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
			fastcgi_pass unix:$T/fcn.sock;
		}
	}
}
CONF
nginx -c "$T/nginx-52.conf" -p "$T/nginx" -e "$T/nginx-52-error.log" &
PIDS="$PIDS $!"
wait_for "$T/front-52.sock"
UNIX_HDRS=(-H 'Host: public.example' -H 'X-Forwarded-For: 198.51.100.9'
    -H 'X-Forwarded-Proto: https' -H 'Client-IP: 6.6.6.7')
start_daemon 'trusted_proxies = [ "unix:" ];'
RESP=$(curl -s --unix-socket "$T/front-52.sock" "${UNIX_HDRS[@]}" \
    http://localhost/sf.php)
expect REMOTE_ADDR 198.51.100.9
expect HTTPS on
expect client_ip 198.51.100.9
expect idiom_ip 198.51.100.9
expect fwd ''
# Without "unix:" the same peer is untrusted: nothing forwarded is used.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s --unix-socket "$T/front-52.sock" "${UNIX_HDRS[@]}" \
    http://localhost/sf.php)
expect REMOTE_ADDR unix:
expect HTTPS null
expect fwd ''
# REMOTE_ADDR twice: the untrusted 127.0.0.2 (last) is what php-fpm
# shows, so its X-Forwarded-For is not believed; SCRIPT_NAME is the last.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s --interface 127.0.0.2 -H 'X-Forwarded-For: 6.6.6.6' \
    "http://127.0.0.1:$DUPPORT/sf.php")
expect REMOTE_ADDR 127.0.0.2
expect client_ip 127.0.0.2
expect SCRIPT_NAME /sf.php
expect fwd ''
sleep 0.1
log_has 'untrusted peer sent HTTP_X_FORWARDED_FOR'
kill "$(cat "$T/nginx-52.pid")" 2>/dev/null
good_request
