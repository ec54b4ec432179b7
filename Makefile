# fcgi-normalizer: one non-recursive Makefile (STYLE S19).
#   make            build build/fcgi-normalizer
#   make check      install missing Debian packages, build, run every test
#   make check SAN=1  the same under ASan+UBSan
#   make fuzz       libFuzzer targets for a bounded time (FUZZ_SECONDS)

CC		?= cc
BUILD		?= build
SAN		?=
FUZZ_SECONDS	?= 20

WARN	= -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes \
	  -Wmissing-declarations -Wshadow -Wpointer-arith -Wsign-compare \
	  -Wcast-qual -Wformat=2
PKGS	= libconfig libevent libsystemd libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# Project flags stay apart from the user's CFLAGS/LDFLAGS so that Debian's
# hardening flags pass through untouched.
FINAL_CFLAGS	= -std=c11 -D_GNU_SOURCE -I. $(WARN) -MMD -MP $(PKG_CFLAGS)
FINAL_LDFLAGS	=
ifeq ($(SAN),1)
FINAL_CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer \
		   -fno-sanitize-recover=undefined
FINAL_LDFLAGS	+= -fsanitize=address,undefined
BUILD		:= build/san
endif
ifneq ($(WERROR),)
FINAL_CFLAGS	+= -Werror
endif
CFLAGS		?= -O2 -g
FINAL_CFLAGS	+= $(CFLAGS) $(CPPFLAGS)
FINAL_LDFLAGS	+= $(LDFLAGS)

PROTO_SRC	= proto/params.c proto/addr.c proto/cidr.c proto/fwd.c \
		  proto/scgi.c proto/proxyproto.c \
		  proto/normalize.c proto/fcgi.c proto/balance.c proto/peertab.c \
		  proto/ranges.c proto/cert.c
CONFIG_SRC	= config/config.c config/cfgfile.c config/cfgkey.c \
		  config/cfgapp.c config/cfgcidr.c
DAEMON_SRC	= daemon/main.c daemon/master.c daemon/server.c daemon/conn.c daemon/log.c \
		  daemon/side.c daemon/upstream.c daemon/conn_fcgi.c \
		  daemon/conn_scgi.c daemon/request.c daemon/explain.c \
		  daemon/listener.c daemon/status.c daemon/gen.c
RANGES_SRC	= daemon/ranges/ranges.c
UNIT_SRC	= tests/unit/main.c tests/unit/util.c tests/unit/test_params.c \
		  tests/unit/test_addr.c tests/unit/test_cidr.c \
		  tests/unit/test_fwd.c tests/unit/test_normalize.c \
		  tests/unit/test_fcgi.c tests/unit/test_config.c \
		  tests/unit/test_scgi.c tests/unit/test_proxyproto.c \
		  tests/unit/test_balance.c tests/unit/test_peertab.c \
		  tests/unit/test_status.c tests/unit/test_ranges.c \
		  tests/unit/test_cert.c

PROTO_OBJ	= $(PROTO_SRC:%.c=$(BUILD)/%.o)
CONFIG_OBJ	= $(CONFIG_SRC:%.c=$(BUILD)/%.o)
DAEMON_OBJ	= $(DAEMON_SRC:%.c=$(BUILD)/%.o)
UNIT_OBJ	= $(UNIT_SRC:%.c=$(BUILD)/%.o)
RANGES_OBJ	= $(RANGES_SRC:%.c=$(BUILD)/%.o)

BIN		= $(BUILD)/fcgi-normalizer
RANGES_BIN	= $(BUILD)/fcgi-normalizer-ranges
LIBPROTO	= $(BUILD)/libfcnproto.a
LIBCONFIG	= $(BUILD)/libfcnconfig.a
UNIT_BIN	= $(BUILD)/unit-tests

.PHONY: all check unit arch e2e deps fuzz fuzz-smoke bench demo clean install \
	uninstall deb check-package check-systemd check-piuparts soak replay

# make install: PREFIX/DESTDIR as usual; the config lives in /etc (the
# compiled-in default path) whatever the prefix.
PREFIX		?= /usr/local
SYSCONFDIR	?= /etc
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/fcgi-normalizer
UNITDIR		?= $(PREFIX)/lib/systemd/system
LIBEXECDIR	?= $(PREFIX)/libexec
DATADIR		?= $(PREFIX)/share/fcgi-normalizer
ETCDIR		= $(DESTDIR)$(SYSCONFDIR)/fcgi-normalizer

all: $(BIN) $(RANGES_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FINAL_CFLAGS) -c -o $@ $<

$(LIBPROTO): $(PROTO_OBJ)
	$(AR) rcs $@ $^

$(LIBCONFIG): $(CONFIG_OBJ)
	$(AR) rcs $@ $^

$(BIN): $(DAEMON_OBJ) $(LIBCONFIG) $(LIBPROTO)
	$(CC) $(FINAL_CFLAGS) -o $@ $(DAEMON_OBJ) $(LIBCONFIG) $(LIBPROTO) \
	    $(FINAL_LDFLAGS) $(PKG_LIBS)

# fcgi-normalizer-ranges (SPEC §3.4) is the only program that fetches from
# the network: libcurl and json-c are its flags alone, never the daemon's
# (the daemon links libcrypto only to parse client certificates, §4.10).
# -isystem: their headers are not ours to keep warning-free.
RANGES_PKGS	= libcurl json-c libcrypto
RANGES_CFLAGS	:= $(patsubst -I%,-isystem %,$(shell pkg-config --cflags \
		   $(RANGES_PKGS) 2>/dev/null))
RANGES_LIBS	:= $(shell pkg-config --libs $(RANGES_PKGS) 2>/dev/null)

$(RANGES_OBJ): FINAL_CFLAGS += $(RANGES_CFLAGS)

$(RANGES_BIN): $(RANGES_OBJ) $(LIBPROTO)
	$(CC) $(FINAL_CFLAGS) -o $@ $(RANGES_OBJ) $(LIBPROTO) \
	    $(FINAL_LDFLAGS) $(RANGES_LIBS)

# The unit binary links the daemon objects it tests (daemon/status.o renders
# from plain structs; it needs no event loop).
UNIT_DAEMON_OBJ	= $(BUILD)/daemon/status.o

$(UNIT_BIN): $(UNIT_OBJ) $(UNIT_DAEMON_OBJ) $(LIBCONFIG) $(LIBPROTO)
	$(CC) $(FINAL_CFLAGS) -o $@ $(UNIT_OBJ) $(UNIT_DAEMON_OBJ) \
	    $(LIBCONFIG) $(LIBPROTO) \
	    $(FINAL_LDFLAGS) $(PKG_LIBS) -lcunit

# Installs what a fresh Debian 12 machine lacks (root only), then builds
# again so the pkg-config flags are picked up.
deps:
	@sh tests/deps.sh

unit: $(UNIT_BIN) $(BIN)
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    FCN_BIN=$(BIN) $(UNIT_BIN)

# Calls go down only (SPEC §7): nm on the daemon objects against the order
# in tests/arch/rooms.
arch: $(BIN)
	sh tests/arch/run $(BUILD)

# A small ASan quarantine: freed memory is held there, and case 26 checks
# that relaying 160 MiB leaves the daemon's peak RSS small.
e2e: $(BIN) $(RANGES_BIN)
	@if [ -x tests/e2e/run ]; then FCN_BIN=$(BIN) \
	    ASAN_OPTIONS=quarantine_size_mb=4:detect_leaks=1 tests/e2e/run; \
	else echo "e2e: no cases yet"; fi

# 30 s of the whole-connection fuzzer from its seeds (issue N).
check: deps
	$(MAKE) --no-print-directory unit arch e2e SAN=$(SAN)
	$(MAKE) --no-print-directory fuzz-conn-smoke

FUZZ_TARGETS	= fcgi fwd normalize scgi proxyproto cert_xfcc cert_pem conn
FUZZ_BASE	= -std=c11 -D_GNU_SOURCE -I. -g
FUZZ_CFLAGS	= $(FUZZ_BASE) -O1 -fsanitize=fuzzer,address,undefined
fuzz: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p build/fuzz/corpus-$$t; \
	    build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
	        -print_final_stats=1 -artifact_prefix=build/fuzz/ \
	        build/fuzz/corpus-$$t tests/fuzz/corpus/$$t \
	        >build/fuzz/$$t.log 2>&1; rc=$$?; \
	    echo "fuzz_$$t: $(FUZZ_SECONDS)s, `grep -o \
	        'number_of_executed_units: [0-9]*' build/fuzz/$$t.log | \
	        grep -o '[0-9]*$$'` executions, exit $$rc"; \
	    if [ $$rc != 0 ]; then grep -A30 ERROR build/fuzz/$$t.log; \
	        exit 1; fi; \
	done

fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=5

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(PROTO_SRC)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) -o $@ $< $(PROTO_SRC) -lcrypto

# fuzz_conn drives a whole front connection of the daemon itself: every
# daemon/ source but main.c, proto/ and config/, all compiled with the fuzz
# flags, linked with the daemon's libraries (tests/fuzz/README.md).
FUZZ_CONN_SRC	= tests/fuzz/fuzz_conn.c tests/fuzz/fpm_script.c tests/fuzz/vclock.c \
		  $(filter-out daemon/main.c,$(DAEMON_SRC)) $(PROTO_SRC) \
		  $(CONFIG_SRC)
FUZZ_CONN_DEPS	= $(FUZZ_CONN_SRC) tests/fuzz/fuzz_conn.h \
		  $(wildcard daemon/*.h proto/*.h config/*.h)
build/fuzz/fuzz_conn: $(FUZZ_CONN_DEPS)
	@mkdir -p build/fuzz
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $(FUZZ_CONN_SRC) $(PKG_LIBS)

# The same harness without sanitizers, for depth only: 10-15 times the
# inputs a second (no shadow memory, no quarantine, a third of the
# features to keep).  Its invariants are the harness's own; what it keeps
# is replayed under build/fuzz/fuzz_conn, with ASan and UBSan, by
# tests/fuzz/depth.sh.
build/fuzz/fuzz_conn_fast: $(FUZZ_CONN_DEPS)
	@mkdir -p build/fuzz
	clang $(FUZZ_BASE) -O2 -fsanitize=fuzzer $(PKG_CFLAGS) -o $@ \
	    $(FUZZ_CONN_SRC) $(PKG_LIBS)

# make check, after e2e: 30 s of fuzz_conn from its seeds into a corpus
# of its own that is thrown away; a crash or a broken invariant (a stall,
# a request lost without a log line, a leak) fails it and is kept as
# build/fuzz/conn-crash-*.
.PHONY: fuzz-conn-smoke
fuzz-conn-smoke: build/fuzz/fuzz_conn
	@d=`mktemp -d /tmp/fuzz-conn-smoke.XXXXXX`; \
	build/fuzz/fuzz_conn -max_total_time=30 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/conn- $$d tests/fuzz/corpus/conn \
	    >build/fuzz/conn-smoke.log 2>&1; rc=$$?; rm -rf $$d; \
	n=`grep -o 'number_of_executed_units: [0-9]*' \
	    build/fuzz/conn-smoke.log | grep -o '[0-9]*$$'`; \
	echo "fuzz_conn: 30s, $$n executions, exit $$rc"; \
	if [ $$rc != 0 ]; then grep -B1 -A30 '==fuzz_conn==\|ERROR' \
	    build/fuzz/conn-smoke.log; exit 1; fi

bench: deps
	$(MAKE) --no-print-directory all
	@FCN_BIN=$(BIN) DEBIAN_FRONTEND=noninteractive sh -c \
	    'command -v wrk >/dev/null && command -v haproxy >/dev/null || \
	    apt-get install -y -qq wrk haproxy >/dev/null'
	@FCN_BIN=$(BIN) bash tests/bench/run

# make soak (issue N): SOAK_REQUESTS (default 10,000,000) through nginx,
# the daemon's pool and two php-fpm servers under reloads, php-fpm
# restarts and a blackholed upstream; ~35 min at 10 M on 2 cores.  Not in
# make check.
soak: deps
	$(MAKE) --no-print-directory all
	@DEBIAN_FRONTEND=noninteractive sh -c 'command -v wrk >/dev/null || \
	    apt-get install -y -qq wrk >/dev/null'
	@FCN_BIN=$(BIN) bash tests/soak/run

# make replay (issue N): the daemon's RSS over REPLAY_ROUNDS (default
# 1,000) replays of a corpus of malformed connections; fails past +256
# KiB after the warm-up.  make check runs 200 rounds.
replay: $(BIN)
	@FCN_BIN=$(BIN) bash tests/replay/run

demo: deps
	$(MAKE) --no-print-directory all
	@FCN_BIN=$(BIN) bash tests/demo.sh

install: $(BIN) $(RANGES_BIN)
	install -D -m 755 $(BIN) $(DESTDIR)$(SBINDIR)/fcgi-normalizer
	install -D -m 755 $(RANGES_BIN) \
	    $(DESTDIR)$(SBINDIR)/fcgi-normalizer-ranges
	install -d -m 755 $(ETCDIR)/apps.d
	@# Never overwrite a configuration someone already edited.
	[ -e $(ETCDIR)/fcgi-normalizer.conf ] || install -m 644 \
	    packaging/etc/fcgi-normalizer.conf $(ETCDIR)/fcgi-normalizer.conf
	[ -e $(ETCDIR)/apps.d/default.conf ] || install -m 644 \
	    packaging/etc/apps.d/default.conf $(ETCDIR)/apps.d/default.conf
	install -D -m 644 packaging/man/fcgi-normalizer.8 \
	    $(DESTDIR)$(MANDIR)/man8/fcgi-normalizer.8
	install -D -m 644 packaging/man/fcgi-normalizer.conf.5 \
	    $(DESTDIR)$(MANDIR)/man5/fcgi-normalizer.conf.5
	install -D -m 644 packaging/man/fcgi-normalizer-ranges.8 \
	    $(DESTDIR)$(MANDIR)/man8/fcgi-normalizer-ranges.8
	install -d -m 755 $(DESTDIR)$(DOCDIR)/examples/nginx
	install -m 644 packaging/examples/*.conf \
	    packaging/examples/*.yml \
	    packaging/systemd/fcgi-normalizer.socket $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 packaging/examples/nginx/*.conf \
	    $(DESTDIR)$(DOCDIR)/examples/nginx/
	install -d -m 755 $(DESTDIR)$(UNITDIR)
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	    packaging/systemd/fcgi-normalizer.service \
	    > $(DESTDIR)$(UNITDIR)/fcgi-normalizer.service
	chmod 644 $(DESTDIR)$(UNITDIR)/fcgi-normalizer.service
	sed 's|@SBINDIR@|$(SBINDIR)|g' \
	    packaging/systemd/fcgi-normalizer-ranges.service \
	    > $(DESTDIR)$(UNITDIR)/fcgi-normalizer-ranges.service
	install -m 644 packaging/systemd/fcgi-normalizer-ranges.timer \
	    $(DESTDIR)$(UNITDIR)/
	chmod 644 $(DESTDIR)$(UNITDIR)/fcgi-normalizer-ranges.service
	@# SPEC §3.4: the providers' lists as shipped; the package's postinst
	@# seeds /var/lib/fcgi-normalizer/ranges from them.
	install -d -m 755 $(DESTDIR)$(DATADIR)/ranges
	install -m 644 packaging/ranges/*.txt $(DESTDIR)$(DATADIR)/ranges/
	install -d -m 755 $(DESTDIR)$(LIBEXECDIR)/fcgi-normalizer
	sed 's|@SBINDIR@|$(SBINDIR)|g' packaging/libexec/reload \
	    > $(DESTDIR)$(LIBEXECDIR)/fcgi-normalizer/reload
	chmod 755 $(DESTDIR)$(LIBEXECDIR)/fcgi-normalizer/reload

# Configuration files are left in place, as Debian does on remove.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/fcgi-normalizer \
	    $(DESTDIR)$(SBINDIR)/fcgi-normalizer-ranges \
	    $(DESTDIR)$(MANDIR)/man8/fcgi-normalizer.8 \
	    $(DESTDIR)$(MANDIR)/man8/fcgi-normalizer-ranges.8 \
	    $(DESTDIR)$(MANDIR)/man5/fcgi-normalizer.conf.5 \
	    $(DESTDIR)$(UNITDIR)/fcgi-normalizer.service \
	    $(DESTDIR)$(UNITDIR)/fcgi-normalizer-ranges.service \
	    $(DESTDIR)$(UNITDIR)/fcgi-normalizer-ranges.timer
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(LIBEXECDIR)/fcgi-normalizer \
	    $(DESTDIR)$(DATADIR)

# make deb: a binary package built by dpkg-buildpackage from a copy of the
# tree with packaging/debian as debian/ (the layout keeps debian/ under
# packaging/).  The .deb lands in build/.
deb:
	sh tests/package.sh build

check-package: deb
	sh tests/package.sh test

# The .deb in a booted Debian 12 (systemd-nspawn -b, no network), driven
# as an admin would; the base tree is cached under /var/tmp.
check-systemd: deb
	bash tests/systemd/run

# piuparts on the .deb in a Debian 12 chroot from the archive: install/purge
# and an upgrade from the previous build; the base tarball is cached under
# /var/tmp.
check-piuparts: deb
	sh tests/piuparts.sh

# make image: an OCI image (podman) of the .deb on Debian's minbase, made
# from the archive with no registry image (packaging/container/README.md).
# check-image runs it with php-fpm and cgi-fcgi; check-kubernetes checks
# the Kubernetes example offline, check-pod runs its pod without a cluster.
DEB_FILE	:= build/fcgi-normalizer_$(shell dpkg-parsechangelog \
		   -l packaging/debian/changelog -S Version 2>/dev/null)_$(shell \
		   dpkg --print-architecture 2>/dev/null).deb
.PHONY: image check-image check-kubernetes check-pod
image: deb
	sh packaging/container/build.sh $(DEB_FILE)

check-image: deb
	bash packaging/container/test.sh $(DEB_FILE)

check-kubernetes: $(BIN)
	FCN_BIN=$(BIN) sh packaging/kubernetes/check.sh

check-pod: deb
	bash packaging/kubernetes/pod-test.sh $(DEB_FILE)

clean:
	rm -rf build

-include $(PROTO_OBJ:.o=.d) $(CONFIG_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) \
	$(UNIT_OBJ:.o=.d) $(RANGES_OBJ:.o=.d)
