# h2o 2.2 file.custom-handler with fastcgi.connect in front of the daemon.
fe_daemon
for s in fcn php; do
	start_h2o "h2o-$s" "$T/$s.sock" || fail "h2o-$s did not start"
	eval "PORT_$s=\$SRV_PORT"
done
fe_checks "$PORT_fcn" "$PORT_php" 300 20 10
fe_srv_errors h2o-fcn
stop_srv h2o-fcn h2o-php
