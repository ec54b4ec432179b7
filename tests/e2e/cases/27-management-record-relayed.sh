# FCGI_GET_VALUES (request id 0) is relayed to php-fpm unchanged and its
# GET_VALUES_RESULT comes back.
start_daemon 'trusted_proxies = [ "127.0.0.1" ];'
# GET_VALUES { FCGI_MPXS_CONNS = "" }: 8-byte header + 17 bytes + 7 padding
r=$(raw_send 0109000000110700"0f00"$(printf FCGI_MPXS_CONNS | od -An -tx1 | tr -d ' \n')00000000000000)
case "$r" in 010a0000*) ;; *) fail "no GET_VALUES_RESULT: $r";; esac
good_request
