# The two commands the README starts with: `make run` and `make test`.
GO ?= go

.PHONY: run test setup setup-test bench demo web

# Installs what is missing and runs confd on its defaults.
run: setup
	$(GO) run ./cmd/confd

# Installs what is missing (real test peers included) and runs the whole test suite.
test: setup-test
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

setup:
	@scripts/setup.sh

setup-test:
	@scripts/setup.sh test

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
