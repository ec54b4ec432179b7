# A test CA and certificates made with the openssl CLI in $T/pki
# (SPEC §4.10 cases).  Sourced by the cases that need it; pki_make is
# idempotent.  Files: ca.pem, server.pem/.key (CN=localhost, for
# 127.0.0.1), alice.pem/.key (valid: CN=alice, O=Example, emailAddress,
# serial 0x0A1B2C), old.pem/.key (expired in 2020), rogue.pem/.key
# (signed by another CA).
pki_make() {
	local d=$T/pki
	[ -f "$d/alice.pem" ] && return 0
	mkdir -p "$d/db" && cd "$d" || return 1
	: > db/index.txt
	echo 1000 > db/serial
	cat > ca.cnf <<CNF
[ ca ]
default_ca = test
[ test ]
dir = $d
database = $d/db/index.txt
serial = $d/db/serial
new_certs_dir = $d/db
certificate = $d/ca.pem
private_key = $d/ca.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
organizationName = optional
emailAddress = optional
CNF
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem \
	    -days 3650 -subj '/O=Example/CN=Test CA' 2>/dev/null &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue-ca.key \
	    -out rogue-ca.pem -days 3650 -subj '/CN=Rogue CA' 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
	    -subj '/CN=localhost' 2>/dev/null &&
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > san.ext &&
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
	    -set_serial 2 -days 3650 -extfile san.ext -out server.pem \
	    2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout alice.key -out alice.csr \
	    -subj '/O=Example/CN=alice/emailAddress=alice@example.com' \
	    2>/dev/null &&
	openssl x509 -req -in alice.csr -CA ca.pem -CAkey ca.key \
	    -set_serial 0x0A1B2C -days 3650 -out alice.pem 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout old.key -out old.csr \
	    -subj '/O=Example/CN=old' 2>/dev/null &&
	openssl ca -batch -config ca.cnf -in old.csr -out old.pem \
	    -startdate 20200101000000Z -enddate 20200201000000Z -notext \
	    2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.csr \
	    -subj '/CN=mallory' 2>/dev/null &&
	openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key \
	    -set_serial 7 -days 3650 -out rogue.pem 2>/dev/null
	local rc=$?
	cd - >/dev/null
	return $rc
}
