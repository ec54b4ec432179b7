# SPEC §4.9 through real nginx + php-fpm and Debian's Symfony
# HttpFoundation trusting REMOTE_ADDR (its load-balancer recipe; Laravel's
# $proxies = '*' is the same): the app gets one answer.  The trusted LB
# here is curl on 127.0.0.1; the client's own X-Forwarded-For entry
# (6.6.6.6) is forged.
LB_HDRS=(-H 'Host: public.example' -H 'X-Forwarded-For: 6.6.6.6, 203.0.113.7'
    -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Port: 8443'
    -H 'Client-IP: 6.6.6.7' -H 'X-Real-IP: 6.6.6.8')
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s "${LB_HDRS[@]}" "http://127.0.0.1:$ORIGIN/sf.php")
expect REMOTE_ADDR 203.0.113.7
expect client_ip 203.0.113.7
expect secure yes
expect uri https://public.example:8443/sf.php/
expect HTTP_HOST public.example:8443
expect SERVER_PORT 8443
expect SERVER_NAME public.example
expect idiom_ip 203.0.113.7
expect wp_https yes
expect fwd ''
# The same request with forwarded_after = "keep" (the behaviour before
# SPEC §4.9): Symfony trusts the client and takes the forged hop.
start_daemon 'trusted_proxies = [ "127.0.0.1" ]; forwarded_after = "keep";'
RESP=$(curl -s "${LB_HDRS[@]}" "http://127.0.0.1:$ORIGIN/sf.php")
expect REMOTE_ADDR 203.0.113.7
expect client_ip 6.6.6.6
expect idiom_ip 6.6.6.7
# Symfony without any proxy trust reads the rewritten params only.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
RESP=$(curl -s "${LB_HDRS[@]}" "http://127.0.0.1:$ORIGIN/sf.php?trust=none")
expect client_ip 203.0.113.7
expect secure yes
expect uri 'https://public.example:8443/sf.php/?trust=none'
good_request
