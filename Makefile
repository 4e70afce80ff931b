# The two commands the README starts with: `make run` and `make test`.
GO ?= go

# libopusfile is unused (confd writes its own Ogg): without it the only runtime library is
# libopus0. Every go command below, and every `go build` a test runs, inherits this, on top of
# the GOFLAGS already in effect (the environment's, else `go env -w`'s).
GOFLAGS := $(filter-out -tags=nolibopusfile,$(shell $(GO) env GOFLAGS)) -tags=nolibopusfile
export GOFLAGS

# The version written into the binary and the package (scripts/version.sh explains the form).
VERSION ?= $(shell scripts/version.sh)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X confd/internal/buildinfo.version=$(VERSION) -X confd/internal/buildinfo.commit=$(COMMIT)
# Where `make build` writes the binary and `make deb` the package.
BIN ?= bin/confd
DEBDIR ?= out

.PHONY: run test setup setup-test build deb bench demo web

# Installs what is missing and runs confd on its defaults.
run: setup
	$(GO) run -ldflags '$(LDFLAGS)' ./cmd/confd

# Installs what is missing (real test peers included) and runs the whole test suite.
test: setup-test
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

# A versioned binary: `bin/confd -version` names the version, commit, Go and libopus.
build: setup
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/confd

# The Debian package, built with dpkg-deb alone: $(DEBDIR)/confd_VERSION_ARCH.deb
# (packaging/build-deb.sh says what it holds).
deb: build
	packaging/build-deb.sh $(BIN) '$(VERSION)' $(DEBDIR)

# Speed and memory figures: see README "Benchmarks".
bench: setup
	$(GO) test -run '^$$' -bench . -benchmem ./bench/

# The media engine alone: three tones through Opus and G.711, mixed; WAVs under out/demo.
demo: setup
	$(GO) run ./cmd/mixdemo -out out/demo

# Rebuilds web/static/sipjs.js (sip.js bundled by esbuild; the result is committed, so the Go
# build never needs node).
web:
	web/build.sh
