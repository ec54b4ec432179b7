<?php
/*
 * A scripted FastCGI client for protocol-edge cases that no web server
 * sends on demand.  Usage: php fcgi-script.php TARGET STEP...
 *   begin:ID[:keep]        BEGIN_REQUEST (RESPONDER)
 *   params:ID:N=V,N=V      one PARAMS record, then the empty PARAMS
 *   pall:ID[:N=V,...]      the pairs in PARAMS, without the empty PARAMS
 *   phalf:ID:1|2[:N=V,...] half of the pairs, cut inside SCRIPT_NAME's
 *                          value: 1 the first part, 2 the rest
 *   pend:ID                the empty PARAMS
 *   recsize:N              from now on, content in records of <= N bytes
 *   bigparams:ID:BYTES     PARAMS records holding BYTES of one param, sent
 *                          without waiting (a client still writing)
 *   stdin:ID[:TEXT]        a STDIN record (empty without TEXT)
 *   abort:ID               ABORT_REQUEST
 *   values                 GET_VALUES; prints "values N=V ..." from the
 *                          GET_VALUES_RESULT
 *   wait:ID                read records until END_REQUEST of ID (at
 *                          once if it came already)
 *   eof                    read until the daemon closes
 *   shutwr                 half-close: shutdown(SHUT_WR), keep reading
 *   close                  close the connection and stop
 *   rawfile:PATH           the bytes of PATH as they are (a PROXY header)
 * (both print "WHAT at HH:MM:SS.UUUUUU", strace -tt's clock)
 *   tic / toc              toc prints "toc MS": the time since tic
 *   sleep:MS
 * Prints one line per event: "end ID status=... bytes=N first=..." (and
 * with BODY=1 in the environment "body ID " and the body on one line),
 * "eof", "reset", "write error: ...".  SCRIPT_FILENAME comes from $DOC.
 */
$target = $argv[1];
$s = @stream_socket_client($target, $en, $es, 3);
if (!$s) {
	echo "connect failed: $es\n";
	exit(1);
}
stream_set_timeout($s, 5);
$out = [];		/* STDOUT per request id */
$ended = [];		/* ids whose END_REQUEST came */

$recsize = 65535;

/* Records of type for id holding $c, at most $recsize bytes each. */
function rec($type, $id, $c)
{
	global $recsize;

	if ($c === "")
		return pack("CCnnCC", 1, $type, $id, 0, 0, 0);
	$r = "";
	foreach (str_split($c, $recsize) as $piece)
		$r .= pack("CCnnCC", 1, $type, $id, strlen($piece), 0, 0) .
		    $piece;
	return $r;
}

/* The pairs a params step sends: the defaults, then N=V,... overrides. */
function kv($doc, $spec)
{
	$kv = ["SCRIPT_FILENAME" => "$doc/dump.php",
	    "REQUEST_METHOD" => "GET", "REMOTE_ADDR" => "127.0.0.1",
	    "SCRIPT_NAME" => "/dump.php"];
	foreach (array_filter(explode(",", $spec)) as $p) {
		[$k, $v] = explode("=", $p, 2);
		$kv[$k] = $v;
	}
	return $kv;
}

function pairs($kv)
{
	$p = "";
	foreach ($kv as $k => $v) {
		$p .= (strlen($k) < 128 ? chr(strlen($k)) :
		    pack("N", strlen($k) | 0x80000000));
		$p .= (strlen($v) < 128 ? chr(strlen($v)) :
		    pack("N", strlen($v) | 0x80000000));
		$p .= $k . $v;
	}
	return $p;
}

function send($s, $bytes)
{
	$r = @fwrite($s, $bytes);
	if ($r === false || $r < strlen($bytes)) {
		$e = error_get_last();
		echo "write error: " . ($e ? $e["message"] : "short") . "\n";
		return false;
	}
	return true;
}

/* One record, or null on EOF / reset. */
function read_rec($s)
{
	$h = "";
	while (strlen($h) < 8) {
		$d = @fread($s, 8 - strlen($h));
		if ($d === false || $d === "")
			return null;
		$h .= $d;
	}
	$u = unpack("Cv/Ct/nid/nlen/Cpad/Cr", $h);
	$n = $u["len"] + $u["pad"];
	$c = "";
	while (strlen($c) < $n) {
		$d = @fread($s, $n - strlen($c));
		if ($d === false || $d === "")
			return null;
		$c .= $d;
	}
	return [$u["t"], $u["id"], substr($c, 0, $u["len"])];
}

/* The time of day as strace -tt prints it, to time the daemon by. */
function clock()
{
	$t = microtime(true);

	return date("H:i:s", (int)$t) . sprintf(".%06d",
	    (int)(($t - (int)$t) * 1000000));
}

$doc = getenv("DOC") ?: "/nonexistent";
foreach (array_slice($argv, 2) as $step) {
	$a = explode(":", $step, 3);
	switch ($a[0]) {
	case "begin":
		$flags = ($a[2] ?? "") === "keep" ? 1 : 0;
		unset($ended[(int)$a[1]]);	/* the id is used again */
		/* Never split: a BEGIN_REQUEST body is 8 bytes in one record. */
		send($s, pack("CCnnCC", 1, 1, (int)$a[1], 8, 0, 0) .
		    pack("nCx5", 1, $flags));
		break;
	case "params":
		$kv = kv($doc, $a[2] ?? "");
		send($s, rec(4, (int)$a[1], pairs($kv)) . rec(4, (int)$a[1], ""));
		break;
	case "pall":
		send($s, rec(4, (int)$a[1], pairs(kv($doc, $a[2] ?? ""))));
		break;
	case "phalf":
		[$part, $spec] = array_pad(explode(":", $a[2] ?? "1", 2), 2, "");
		$p = pairs(kv($doc, $spec));
		/* Inside the value of SCRIPT_NAME: one pair in two records. */
		$cut = strpos($p, "SCRIPT_NAME") + 13;
		send($s, rec(4, (int)$a[1], $part == "1" ? substr($p, 0, $cut) :
		    substr($p, $cut)));
		break;
	case "pend":
		send($s, rec(4, (int)$a[1], ""));
		break;
	case "tic":
		$tic = microtime(true);
		break;
	case "toc":
		printf("toc %.1f\n", (microtime(true) - $tic) * 1000);
		break;
	case "recsize":
		$recsize = max(1, (int)$a[1]);
		break;
	case "shutwr":
		stream_socket_shutdown($s, STREAM_SHUT_WR);
		echo "shutwr at " . clock() . "\n";
		break;
	case "close":
		fclose($s);
		echo "close at " . clock() . "\n";
		exit(0);
	case "bigparams":
		$p = pairs(["X_BIG" => str_repeat("a", (int)$a[2])]);
		$buf = "";
		foreach (str_split($p, 65000) as $chunk)
			$buf .= rec(4, (int)$a[1], $chunk);
		send($s, $buf);
		break;
	case "stdin":
		send($s, rec(5, (int)$a[1], $a[2] ?? ""));
		break;
	case "abort":
		send($s, rec(2, (int)$a[1], ""));
		break;
	case "values":
		send($s, rec(9, 0, pairs(["FCGI_MAX_CONNS" => "",
		    "FCGI_MAX_REQS" => "", "FCGI_MPXS_CONNS" => ""])));
		$r = read_rec($s);
		if ($r === null || $r[0] != 10) {
			echo "no values\n";
			break;
		}
		$c = $r[2];
		$v = [];
		for ($i = 0; $i < strlen($c); ) {
			$nl = ord($c[$i++]);
			$vl = ord($c[$i++]);
			$v[] = substr($c, $i, $nl) . "=" . substr($c, $i + $nl, $vl);
			$i += $nl + $vl;
		}
		echo "values " . implode(" ", $v) . "\n";
		break;
	case "wait":
		if (isset($ended[(int)$a[1]]))
			break;	/* it came while waiting for another */
		for (;;) {
			$r = read_rec($s);
			if ($r === null) {
				$m = stream_get_meta_data($s);
				echo $m["timed_out"] ? "timeout\n" : "eof\n";
				break;
			}
			[$t, $id, $c] = $r;
			if ($t == 6)
				$out[$id] = ($out[$id] ?? "") . $c;
			if ($t == 3) {
				$o = $out[$id] ?? "";
				preg_match('/^Status: (\d+)/m', $o, $m);
				$j = json_decode(substr($o, strpos($o,
				    "\r\n\r\n") + 4), true);
				printf("end %d status=%s bytes=%d script=%s\n",
				    $id, $m[1] ?? "200", strlen($o),
				    $j["SCRIPT_NAME"] ?? "-");
				if (getenv("BODY"))
					printf("body %d %s\n", $id, trim(substr(
					    $o, strpos($o, "\r\n\r\n") + 4)));
				unset($out[$id]);
				$ended[$id] = 1;
				if ($id == (int)$a[1])
					break;
			}
		}
		break;
	case "eof":
		$d = @stream_get_contents($s);
		$m = stream_get_meta_data($s);
		if ($m["timed_out"])
			echo "timeout\n";
		else
			echo $d === false ? "reset\n" : "eof\n";
		break;
	case "rawfile":
		send($s, file_get_contents($a[1]));
		break;
	case "sleep":
		usleep((int)$a[1] * 1000);
		break;
	}
}
