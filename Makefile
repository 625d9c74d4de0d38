# tsforge developer commands. `make up` and `make test` are the README's quick start.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
SITE = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
PROTO_PACKAGES := common upload training evaluation models
GENERATED := $(foreach p,$(PROTO_PACKAGES),tsforge/$(p)/v1)

.PHONY: up test setup gen gen-check gen-es lint proto-deps descriptors bench clean web web-gen web-test web-e2e web-screenshots web-bench

## Start the whole platform on its embedded defaults and show it working.
up: setup
	$(VENV)/bin/tsforge up --demo

## Run the full test suite.
test: setup
	$(PY) -m pytest

## Create the virtual environment, install everything, generate code from the protos.
setup: $(VENV)/.installed node_modules/.installed gen gen-es

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit --loglevel=error
	touch $@

## Lay out the google/api and google/rpc protos from the googleapis-common-protos wheel.
proto-deps: $(VENV)/.installed
	rm -rf .build/proto-deps && mkdir -p .build/proto-deps/google
	cp -r $(SITE)/google/api $(SITE)/google/rpc .build/proto-deps/google/
	find .build/proto-deps -type f ! -name '*.proto' -delete

## Generate Python code from protos/ (never edit the output by hand).
gen: $(VENV)/.installed
	rm -rf $(GENERATED)
	$(PY) -m grpc_tools.protoc -Iprotos -I$(SITE) \
	  --python_out=. --pyi_out=. --grpc_python_out=. $$(find protos -name '*.proto' | sort)

## Fail when the committed generated code is not what the protos give.
gen-check: gen
	git diff --exit-code --stat -- $(GENERATED) || { echo "generated code is stale: run 'make gen' and commit"; exit 1; }
	test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "generated code is not committed"; exit 1; }

## Build the descriptor set Envoy's gRPC-JSON transcoder reads, and the Envoy Gateway
## patch that inlines it. Both are committed; tests/deploy fail when they are stale.
descriptors: proto-deps node_modules/.installed
	$(BUF) build --path protos/tsforge --as-file-descriptor-set --exclude-source-info -o deploy/envoy/tsforge.pb
	$(PY) deploy/render_transcoder_policy.py

## JavaScript for the gateway's grpc-web client tests (protoc-gen-es from node_modules,
## offline) into .build/es/; never committed. The tests regenerate it too.
gen-es: proto-deps node_modules/.installed
	$(BUF) generate --template tests/gateway/js/buf.gen.yaml --path protos/tsforge

## buf lint (STANDARD) over protos/.
lint: proto-deps node_modules/.installed
	$(BUF) lint

## Benchmarks (numbers go to the README).
bench: setup
	$(PY) -m bench

## The web console (web/): its own npm packages, clients generated from protos/ into
## web/src/gen (ignored), type-checked and built by vite into web/dist, which the edge serves.
WEB_NPM := web/node_modules/.installed
$(WEB_NPM): web/package.json web/package-lock.json
	cd web && npm ci --no-fund --no-audit --loglevel=error
	touch $@

web-gen: proto-deps $(WEB_NPM)
	cd web && npm run --silent gen

web: web-gen
	cd web && npm run --silent build

## vitest: the console's client logic (chunking and resume, event replay, form mapping).
web-test: web-gen
	cd web && npx vitest run

## The console end to end in headless Chromium against the whole platform (tests/web).
web-e2e: web
	$(PY) -m pytest -q tests/web

## Screenshots of every page, from the end-to-end run, into docs/screenshots/.
web-screenshots: web
	TSFORGE_SCREENSHOTS=$(CURDIR)/docs/screenshots $(PY) -m pytest -q tests/web -k workflow

## Browser upload of a 256 MiB file against `tsforge upload`, with the tab's memory.
web-bench: web
	$(PY) -m tests.web.bench_console

clean:
	rm -rf .build $(VENV) node_modules web/node_modules web/dist web/src/gen
