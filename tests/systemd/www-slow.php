<?php
/* A request still in flight while the service stops. */
sleep((int)($_GET['s'] ?? 3));
echo "slept\n";
