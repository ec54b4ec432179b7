<?php
// stats.php RESULTS: medians per (test, config) and the ratios table.
$rows = [];
foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $l) {
	[$test, $cfg, $rps, $p50, $p99, $cpu] = explode(' ', $l);
	$rows[$test][$cfg][] = [(float)$rps, (float)$p50, (float)$p99, (float)$cpu];
}
function med($a) { sort($a); $n = count($a); return $n ? ($n % 2 ? $a[intdiv($n, 2)] : ($a[$n / 2 - 1] + $a[$n / 2]) / 2) : 0; }
printf("%-14s %-15s %10s %9s %9s %12s %9s %9s %9s\n", "test", "config", "req/s", "p50 ms", "p99 ms",
    "cpu ms/1k", "vs direct", "vs haproxy", "cpu/hap");
foreach ($rows as $test => $cfgs) {
	$m = [];
	foreach ($cfgs as $cfg => $runs)
		for ($i = 0; $i < 4; $i++)
			$m[$cfg][$i] = med(array_column($runs, $i));
	$direct = $m['direct'][0] ?? ($m['direct-keep'][0] ?? 0);
	foreach ($m as $cfg => $v) {
		$d = str_ends_with($cfg, '-keep') ? ($m['direct-keep'][0] ?? $direct) : $direct;
		$h = $m[str_ends_with($cfg, '-keep') ? 'haproxy-keep' : 'haproxy'][0] ?? 0;
		$hc = $m[str_ends_with($cfg, '-keep') ? 'haproxy-keep' : 'haproxy'][3] ?? 0;
		$norm = !str_starts_with($cfg, 'haproxy') && !str_starts_with($cfg, 'direct');
		printf("%-14s %-15s %10.0f %9.3f %9.3f %12s %9s %9s %9s\n", $test, $cfg, $v[0], $v[1], $v[2],
		    $v[3] > 0 ? sprintf("%.1f", $v[3]) : "-",
		    $d ? sprintf("%.2f", $v[0] / $d) : "-",
		    $h && $norm ? sprintf("%.2f", $v[0] / $h) : "-",
		    $hc > 0 && $norm && $v[3] > 0 ? sprintf("%.2f", $v[3] / $hc) : "-");
	}
}
