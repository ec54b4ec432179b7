<?php
/* What the app sees, one line: REMOTE_ADDR HTTPS. */
header('Content-Type: text/plain');
echo $_SERVER['REMOTE_ADDR'], ' ', $_SERVER['HTTPS'] ?? 'off', "\n";
