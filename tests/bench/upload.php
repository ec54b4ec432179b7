<?php
// Reads the whole request body and answers its length.
$n = 0;
$in = fopen('php://input', 'r');
while (!feof($in))
	$n += strlen(fread($in, 65536));
echo $n, "\n";
