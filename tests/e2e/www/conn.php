<?php
// Which FastCGI connection served this request, and which php-fpm pool:
// the socket inodes this worker holds (the listener's is the same in every
// worker, the connection's is its own), for the upstream-pool cases.
$s = [];
foreach (scandir('/proc/self/fd') as $f) {
    $l = @readlink("/proc/self/fd/$f");
    if ($l !== false && strncmp($l, 'socket:[', 8) == 0)
        $s[] = substr($l, 8, -1);
}
sort($s);
if (isset($_GET['s']))
    usleep((int)($_GET['s'] * 1000000));
echo getenv('POOL') ?: '-', ' ', getmypid(), ' ', implode(',', $s), "\n";
