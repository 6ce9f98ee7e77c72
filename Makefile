# Tributary: build, test, demo.
#   make test   installs missing Debian packages, then go vet + go test (integration included)
#   make demo   runs the quickstart (embedded broker, throwaway databases, a pipeline)
#   make bench  runs the end-to-end load tool

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
TEST_TIMEOUT ?= 20m

.PHONY: all build deps vet test demo bench

all: build

build:
	$(GO) build ./...

deps:
	./scripts/install-deps.sh

vet:
	$(GO) vet ./...

test: deps vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

demo: deps
	$(GO) run ./cmd/replicate quickstart

bench: deps
	$(GO) run ./bench/load
