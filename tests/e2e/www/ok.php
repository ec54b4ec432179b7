<?php
// The smallest page, for request counts: exactly "ok\n".
echo "ok\n";
