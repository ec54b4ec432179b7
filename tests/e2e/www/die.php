<?php
// A worker that dies (php-fpm's child killed: the OOM killer, a
// segfault); each run adds a line to die.runs beside it.  ?early=1: at
// once, its input unread and nothing answered; else once it has read its
// input and sent its first output.
file_put_contents(__DIR__ . '/die.runs', "run\n", FILE_APPEND);
if (empty($_GET['early'])) {
    file_get_contents('php://input');
    echo "partial\n";
    while (ob_get_level() > 0)
        ob_end_flush();
    flush();
}
posix_kill(posix_getpid(), 9);
sleep(5);
