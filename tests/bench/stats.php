<?php
// stats.php RESULTS: medians per (test, config) and the ratios table.
// A line: test config req/s p50 p99 cpu-ms-per-1k round.  Ratios pair
// each round with the same round's reference (the box drifts between
// rounds: a ratio of two medians from different rounds mixes that in);
// the table shows their median and, in brackets, their range.
$rows = [];
foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $l) {
	$f = explode(' ', $l);
	[$test, $cfg] = $f;
	$rows[$test][$cfg][(int)($f[6] ?? count($rows[$test][$cfg] ?? []))] =
	    [(float)$f[2], (float)$f[3], (float)$f[4], (float)$f[5]];
}
function med($a) {
	sort($a);
	$n = count($a);
	return $n ? ($n % 2 ? $a[intdiv($n, 2)] : ($a[$n / 2 - 1] + $a[$n / 2]) / 2) : 0;
}
// Per round, x's column i over ref's: "median [min-max]", or "-".
function paired($x, $ref, $i) {
	$r = [];
	foreach ($x as $round => $v)
		if (isset($ref[$round]) && $ref[$round][$i] > 0 && $v[$i] > 0)
			$r[] = $v[$i] / $ref[$round][$i];
	if (!$r)
		return "-";
	return count($r) > 1 ? sprintf("%.2f [%.2f-%.2f]", med($r), min($r), max($r)) :
	    sprintf("%.2f", $r[0]);
}
// Per round, x's req/s times its cpu/1k: the CPU cores it kept busy.
function cores($x) {
	$r = [];
	foreach ($x as $v)
		$r[] = $v[0] * $v[3] / 1e6;
	return med($r);
}
// Per round, x's p50 minus ref's, in µs: "median [min-max]".
function delta($x, $ref) {
	$r = [];
	foreach ($x as $round => $v)
		if (isset($ref[$round]))
			$r[] = ($v[1] - $ref[$round][1]) * 1000;
	return $r ? sprintf("%+.0f [%+.0f..%+.0f]", med($r), min($r), max($r)) : "-";
}
$order = ['direct', 'direct-keep', 'norm-unix', 'norm-tcp', 'norm-keep',
    'norm-pool', 'norm-pool-tcp', 'norm-pool-keep', 'norm-w2-pool',
    'norm-w2-pool-keep', 'haproxy', 'haproxy-keep'];
printf("%-13s %-17s %7s %7s %7s %7s %5s  %-17s %-19s %-17s %-17s\n", "test",
    "config", "req/s", "p50 ms", "p99 ms", "cpu/1k", "cores", "vs direct",
    "p50 vs direct, us", "vs haproxy", "cpu/hap");
foreach ($rows as $test => $cfgs) {
	$rank = fn($c) => ($i = array_search($c, $order)) === false ? 99 : $i;
	uksort($cfgs, fn($a, $b) => $rank($a) <=> $rank($b));
	foreach ($cfgs as $cfg => $runs) {
		$keep = str_ends_with($cfg, '-keep');
		$d = $cfgs[$keep && isset($cfgs['direct-keep']) ? 'direct-keep' : 'direct'] ?? [];
		$h = $cfgs[$keep ? 'haproxy-keep' : 'haproxy'] ?? [];
		$norm = !str_starts_with($cfg, 'haproxy') && !str_starts_with($cfg, 'direct');
		$cpu = med(array_column($runs, 3));
		printf("%-13s %-17s %7.0f %7.3f %7.3f %7s %5s  %-17s %-19s %-17s %-17s\n",
		    $test, $cfg, med(array_column($runs, 0)),
		    med(array_column($runs, 1)), med(array_column($runs, 2)),
		    $cpu > 0 ? sprintf("%.1f", $cpu) : "-",
		    $cpu > 0 ? sprintf("%.2f", cores($runs)) : "-",
		    paired($runs, $d, 0), str_starts_with($cfg, 'direct') ? "-" : delta($runs, $d),
		    $norm ? paired($runs, $h, 0) : "-",
		    $norm ? paired($runs, $h, 3) : "-");
	}
}
// SPEC §8: workers = 2 against the null upstream, >= 1.8x the req/s of
// workers = 1 (the same apps in a daemon of its own); paired by round.
foreach ($rows as $test => $cfgs)
	foreach (['norm-w2-pool' => 'norm-pool',
	    'norm-w2-pool-keep' => 'norm-pool-keep'] as $w2 => $w1)
		if (isset($cfgs[$w2], $cfgs[$w1]))
			printf("%s: workers = 2 / workers = 1: req/s %s, " .
			    "cpu/1k %s (%s / %s; SPEC §8: req/s >= 1.8)\n",
			    $test, paired($cfgs[$w2], $cfgs[$w1], 0),
			    paired($cfgs[$w2], $cfgs[$w1], 3), $w2, $w1);
