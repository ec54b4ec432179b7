<?php
// Sleeps ?s= seconds (fractions allowed), then answers.
usleep((int)(1000000 * (float)($_GET['s'] ?? 1)));
echo "slept\n";
