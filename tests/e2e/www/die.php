<?php
// A worker that dies mid-answer (php-fpm's child killed: the OOM killer,
// a segfault): its first output out, then SIGKILL of itself.
file_get_contents('php://input');
echo "partial\n";
while (ob_get_level() > 0)
    ob_end_flush();
flush();
posix_kill(posix_getpid(), 9);
sleep(5);
