# mod_push_redirect: the commands of the README.
#
#   make          build build/mod_push_redirect.so (cargo + cc)
#   make demo     deps + build, then an Apache with the module on https://localhost:8443
#   make test     deps + both builds, then lint, Rust tests and the integration suite
#   make install  install the module with apxs (and the Debian .load/.conf)
#
# and, in the blocks at the end: deb, demo-django (packaging, README "Install");
# tools, bench (BENCHMARKS.md); fuzz, stress, asan (RELIABILITY.md).
#
# Each target that needs Debian packages first installs the missing ones of
# its sets (below) with apt-get when run as root, and says which are missing
# otherwise: `make deps-demo`, `make deps-test`, ... do only that.

CARGO  ?= cargo
PYTHON ?= /usr/bin/python3

# ------------------------------------------------------- Debian packages
#
# By purpose, each set in one place. README.md ("Requirements") lists the same
# sets, word for word; tests/test_readme.py compares them. Installed with
# --no-install-recommends, so a set names everything its purpose uses.
#
#   make               BUILD_PACKAGES (and Rust from rustup: cargo, rustc >= 1.80)
#   make demo          BUILD_PACKAGES DEMO_PACKAGES
#   make demo-django   ... and DJANGO_PACKAGES
#   make test          BUILD_PACKAGES DEMO_PACKAGES DJANGO_PACKAGES TEST_PACKAGES
#                      (and the rustfmt and clippy components of the toolchain)
#   make bench         BUILD_PACKAGES DEMO_PACKAGES BENCH_PACKAGES
#   make stress, asan  the sets of make test (nothing more)
#   make fuzz          BUILD_PACKAGES FUZZ_PACKAGES
#
# ca-certificates: cargo fetches the crates over HTTPS.
# build-essential: dpkg-buildpackage (make deb) insists on it.
# ssl-cert: the snakeoil certificate of Debian's default-ssl site, which the
# README's minimal virtual host is tested on. The browser (chromium and its
# driver; fonts-liberation, a Recommends of chromium): the Early Hints browser
# test and bench. valgrind: the bench's instruction counts (make test runs a
# short bench). redis-server, memcached: the shared-cache tests. haproxy: the
# proxy in front of Apache in the behind-a-proxy tests (their own child
# process and config; Debian's service, which has no listener, is left alone).
BUILD_PACKAGES  := make gcc libc6-dev apache2-dev ca-certificates
DEMO_PACKAGES   := apache2 nghttp2-client openssl curl python3
DJANGO_PACKAGES := python3-django gunicorn
TEST_PACKAGES   := python3-pytest build-essential debhelper dpkg-dev fakeroot lintian ssl-cert chromium chromium-driver fonts-liberation valgrind redis-server memcached haproxy
BENCH_PACKAGES  := valgrind chromium chromium-driver fonts-liberation
FUZZ_PACKAGES   := g++

# apt_install: install what is missing of the packages in $(1).
define apt_install
	@missing=""; \
	for pkg in $(sort $(1)); do \
	    dpkg-query -W -f='$${Status}\n' $$pkg 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "missing Debian packages:$$missing (run this as root, or apt-get install them)" >&2; exit 1; \
	    fi; \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing </dev/null; \
	fi
endef

# The Rust toolchain is the user's (rustup); these only check it.
define need_cargo
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust >= 1.80 with rustup (https://rustup.rs), then . \"\$$HOME/.cargo/env\"" >&2; exit 1; }
endef
define need_lint_tools
	@$(CARGO) fmt --version >/dev/null 2>&1 || { echo "cargo fmt not found: make test needs the rustfmt component (rustup component add rustfmt clippy)" >&2; exit 1; }
	@$(CARGO) clippy --version >/dev/null 2>&1 || { echo "cargo clippy not found: make test needs the clippy component (rustup component add rustfmt clippy)" >&2; exit 1; }
endef

BUILD       := build
MODULE      := $(BUILD)/mod_push_redirect.so
APXS_MODULE := $(BUILD)/apxs/mod_push_redirect.so

.PHONY: all build apxs deps deps-build deps-demo deps-django deps-test deps-bench deps-fuzz
.PHONY: demo test lint unit integration install header clean

# The targets of `test` run in the order written, even under make -j.
.NOTPARALLEL:

all: build

build:
	$(MAKE) -C apxs

apxs:
	$(MAKE) -C apxs apxs

deps-build:
	$(call apt_install,$(BUILD_PACKAGES))
	$(need_cargo)

deps-demo:
	$(call apt_install,$(BUILD_PACKAGES) $(DEMO_PACKAGES))
	$(need_cargo)

deps-django:
	$(call apt_install,$(BUILD_PACKAGES) $(DEMO_PACKAGES) $(DJANGO_PACKAGES))
	$(need_cargo)

deps-test:
	$(call apt_install,$(BUILD_PACKAGES) $(DEMO_PACKAGES) $(DJANGO_PACKAGES) $(TEST_PACKAGES))
	$(need_cargo)
	$(need_lint_tools)

# Everything make test needs.
deps: deps-test

deps-bench:
	$(call apt_install,$(BUILD_PACKAGES) $(DEMO_PACKAGES) $(BENCH_PACKAGES))
	$(need_cargo)

deps-fuzz:
	$(call apt_install,$(BUILD_PACKAGES) $(FUZZ_PACKAGES))
	$(need_cargo)

demo: deps-demo build
	demo/run.sh

test: deps-test build apxs lint unit integration

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	# The fuzz targets (their own crate) still build against the core.
	cd fuzz && $(CARGO) check --locked --bins

unit:
	$(CARGO) test --locked --workspace

integration:
	PUSH_REDIRECT_MODULE=$(abspath $(MODULE)) PUSH_REDIRECT_MODULE_APXS=$(abspath $(APXS_MODULE)) \
	    $(PYTHON) -m pytest -q -rs -p no:cacheprovider tests

install: build
	$(MAKE) -C apxs install

# Regenerates mod_push_redirect/include/push_redirect.h with cbindgen.
header:
	PUSH_REDIRECT_BLESS=1 $(CARGO) test --locked -p mod_push_redirect header_matches_cbindgen

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# ---------------------------------------------------------------- packaging
#
#   make deb          build/deb/libapache2-mod-push-redirect_<version>_<arch>.deb
#                     (dpkg-buildpackage on a copy of the tree in build/deb/src,
#                     so its output lands in build/deb/), then lintian
#   make demo-django  the Django example (examples/django) behind a throwaway Apache
#
# The package test (tests/test_package.py) installs that .deb into the system
# Apache, so `make test` builds it first.

DEB_DIR := $(BUILD)/deb

.PHONY: deb demo-django

deb: deps-test
	@changelog=$$(dpkg-parsechangelog -l debian/changelog -S Version | sed 's/-[^-]*$$//'); \
	crate=$$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1); \
	[ "$$changelog" = "$$crate" ] || { echo "debian/changelog says $$changelog, Cargo.toml says $$crate: add a changelog entry (dch -v $$crate-1)" >&2; exit 1; }
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/src
	tar -c --exclude=./build --exclude=./target --exclude=./.git --exclude=__pycache__ . | tar -x -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && CARGO_TARGET_DIR=$(abspath target)/deb dpkg-buildpackage -us -uc -b
	lintian --fail-on error --tag-display-limit 0 $(DEB_DIR)/*.changes
	@echo "package: $$(ls $(DEB_DIR)/libapache2-mod-push-redirect_*.deb)"

integration: deb

demo-django: deps-django build
	examples/django/run.sh

# ---------------------------------------------------------------- benchmarks
#
#   make tools    release build of tools/: push-follow (a push-taking HTTP/2
#                 client) and latency-proxy; the integration tests use them
#   make bench    the benchmarks of BENCHMARKS.md: one table, build/bench/
#                 (BENCH_SMOKE=1: a seconds-long run that only checks it works;
#                 BENCH_PUBLISH=1: also rewrite BENCHMARKS.md and docs/bench-rtt.svg)

.PHONY: tools bench bench-publish

tools:
	$(CARGO) build --release --locked -p push-redirect-tools

integration: tools

bench: deps-bench build tools
	PUSH_REDIRECT_MODULE=$(abspath $(MODULE)) BENCH_SMOKE=$(BENCH_SMOKE) BENCH_PUBLISH=$(BENCH_PUBLISH) \
	    $(PYTHON) bench/run.py

bench-publish:
	$(MAKE) bench BENCH_PUBLISH=1

# ------------------------------------------ fuzz, stress, asan (RELIABILITY.md)
#
#   make fuzz     the cargo-fuzz targets, FUZZ_SECONDS each (installs cargo-fuzz)
#   make stress   hostile suite, load with ~1M requests on three MPMs, graceful
#                 restarts, config hostility, ReDoS timings (~15 min on 2 cores)
#   make asan     the module built with AddressSanitizer (build/asan/), then the
#                 integration suite against it, Apache run with libasan preloaded
#                 (not the load test: ASan's quarantine makes RSS grow by design;
#                 not the apxs/install/demo tests, which use the normal build)

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := decide respond directives
FUZZ_WORK    := $(BUILD)/fuzz
STRESS_OUT   := $(BUILD)/stress
ASAN_DIR     := $(BUILD)/asan
ASAN_LIB     := $(abspath target/asan/x86_64-unknown-linux-gnu/release/libpush_redirect.a)
LIBASAN       = $(shell $$(apxs -q CC) -print-file-name=libasan.so)

.PHONY: fuzz stress asan asan-build

# New inputs go to build/fuzz/corpus/<target>; the committed seeds in
# fuzz/corpus/<target> are only read. A crash stops the run with its input
# in fuzz/artifacts/<target>/.
fuzz: deps-fuzz
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(abspath $(FUZZ_WORK))/corpus/$$t && \
	    RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O -s none $$t \
	        $(abspath $(FUZZ_WORK))/corpus/$$t corpus/$$t -- \
	        -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $$([ -f $$t.dict ] && echo -dict=$$t.dict) $$([ $$t = directives ] && echo -max_len=128) \
	        || exit 1; \
	done

stress: deps-test build
	@mkdir -p $(STRESS_OUT)
	$(CARGO) test --release --locked -p push_redirect_core --test redos -- --ignored --nocapture
	PUSH_REDIRECT_MODULE=$(abspath $(MODULE)) $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/test_hostile.py tests/test_config_hostility.py
	PUSH_REDIRECT_MODULE=$(abspath $(MODULE)) $(PYTHON) stress/load.py --json $(STRESS_OUT)/load.json

# Our Rust code instrumented (nightly flag, on the stable toolchain) without
# LTO (its bitcode would reach the C linker), the shim with gcc's ASan; the
# standard library is not instrumented. Apache itself is not: libasan is
# preloaded by a wrapper (stress/asan-apache2).
asan-build:
	CARGO_PROFILE_RELEASE_LTO=false RUSTC_BOOTSTRAP=1 \
	RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes" \
	    $(CARGO) build --release --locked -p mod_push_redirect \
	    --target x86_64-unknown-linux-gnu --target-dir target/asan
	@mkdir -p $(ASAN_DIR)/logs && chmod 1777 $(ASAN_DIR)/logs
	$$(apxs -q CC) -shared -fPIC -fsanitize=address -fno-omit-frame-pointer -g \
	    $$(apxs -q CFLAGS) $$(apxs -q EXTRA_CPPFLAGS) -Wall -Wextra -Werror \
	    -I$$(apxs -q INCLUDEDIR) -I$$(apxs -q APR_INCLUDEDIR) -Imod_push_redirect/include \
	    -o $(ASAN_DIR)/mod_push_redirect.so $(wildcard mod_push_redirect/*.c) $(ASAN_LIB) \
	    -Wl,--version-script=apxs/exports.map -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

asan: deps-test asan-build
	rm -f $(ASAN_DIR)/logs/asan.*
	ASAN_LIBRARY=$(LIBASAN) ASAN_LOG_DIR=$(abspath $(ASAN_DIR))/logs \
	APACHE2=$(abspath stress/asan-apache2) \
	PUSH_REDIRECT_MODULE=$(abspath $(ASAN_DIR))/mod_push_redirect.so \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests --ignore=tests/test_apxs.py \
	    --ignore=tests/test_install.py --ignore=tests/test_demo.py --ignore=tests/test_load.py
	$(PYTHON) stress/asan_reports.py $(ASAN_DIR)/logs
