# Tributary: build, test, demo.
#   make test   installs missing Debian packages, then go vet + go test (integration included)
#   make demo   runs the quickstart (embedded broker, throwaway databases, a pipeline)
#   make bench  runs the end-to-end load tool

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
# The checkout this Makefile is in: scripts and packages come from here even
# with `make -f path/to/Makefile` from another directory, so make never runs
# a script found in the caller's working directory.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
TEST_TIMEOUT ?= 20m
# Test packages run side by side: most of their time is spent waiting on
# servers and failover timeouts, not on the CPU.
TEST_PARALLEL ?= 3

.PHONY: all build deps vet test demo bench

all: build

build:
	cd '$(ROOT)' && $(GO) build ./...

deps:
	'$(ROOT)/scripts/install-deps.sh'

vet:
	cd '$(ROOT)' && $(GO) vet ./...

test: deps vet
	cd '$(ROOT)' && $(GO) test -count=1 -p $(TEST_PARALLEL) -timeout $(TEST_TIMEOUT) ./...

demo: deps
	cd '$(ROOT)' && $(GO) run ./cmd/replicate quickstart

bench: deps
	cd '$(ROOT)' && $(GO) run ./bench/load
