# mod_push_redirect: the commands of the README.
#
#   make          build build/mod_push_redirect.so (cargo + cc)
#   make demo     deps + build, then an Apache with the module on https://localhost:8443
#   make test     deps + both builds, then lint, Rust tests and the integration suite
#   make install  install the module with apxs (and the Debian .load/.conf)
#
# `deps` apt-get installs what is missing when run as root on Debian.

CARGO  ?= cargo
PYTHON ?= /usr/bin/python3

# Debian packages the build, the demo and the tests use.
DEB_PACKAGES := gcc libc6-dev apache2 apache2-dev nghttp2-client openssl curl python3-django gunicorn python3-pytest

BUILD       := build
MODULE      := $(BUILD)/mod_push_redirect.so
APXS_MODULE := $(BUILD)/apxs/mod_push_redirect.so

.PHONY: all build apxs deps demo test lint unit integration install header clean

# The targets of `test` run in the order written, even under make -j.
.NOTPARALLEL:

all: build

build:
	$(MAKE) -C apxs

apxs:
	$(MAKE) -C apxs apxs

deps:
	@missing=""; \
	for pkg in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$pkg 2>/dev/null | grep -q '^install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "missing Debian packages:$$missing (run 'make deps' as root, or apt-get install them)" >&2; exit 1; \
	    fi; \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust >= 1.80 (rustup)" >&2; exit 1; }

demo: deps build
	demo/run.sh

test: deps build apxs lint unit integration

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

unit:
	$(CARGO) test --locked --workspace

integration:
	PUSH_REDIRECT_MODULE=$(abspath $(MODULE)) PUSH_REDIRECT_MODULE_APXS=$(abspath $(APXS_MODULE)) \
	    $(PYTHON) -m pytest -q -p no:cacheprovider tests

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

DEB_PACKAGES += debhelper dpkg-dev fakeroot lintian

DEB_DIR := $(BUILD)/deb

.PHONY: deb demo-django

deb: deps
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

demo-django: deps build
	examples/django/run.sh

# ------------------------------------------------------------- early hints
# tests/test_early_hints_browser.py drives Debian's Chromium through
# chromedriver, with the latency proxy of the tools crate in front of Apache.
DEB_PACKAGES += chromium chromium-driver

# ---------------------------------------------------------------- benchmarks
#
#   make tools    release build of tools/: push-follow (a push-taking HTTP/2
#                 client) and latency-proxy; the integration tests use them
#   make bench    the benchmarks of BENCHMARKS.md: one table, build/bench/
#                 (BENCH_SMOKE=1: a seconds-long run that only checks it works;
#                 BENCH_PUBLISH=1: also rewrite BENCHMARKS.md and docs/bench-rtt.svg)

.PHONY: tools bench bench-publish

DEB_PACKAGES += valgrind

tools:
	$(CARGO) build --release --locked -p push-redirect-tools

integration: tools

bench: deps build tools
	PUSH_REDIRECT_MODULE=$(abspath $(MODULE)) BENCH_SMOKE=$(BENCH_SMOKE) BENCH_PUBLISH=$(BENCH_PUBLISH) \
	    $(PYTHON) bench/run.py

bench-publish:
	$(MAKE) bench BENCH_PUBLISH=1
