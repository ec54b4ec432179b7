<?php
// Writes to the FastCGI STDERR stream (error_log with fastcgi.logging).
error_log("hello from php stderr");
echo "ok\n";
