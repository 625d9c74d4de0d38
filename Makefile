# tsforge developer commands. `make up` and `make test` are the README's quick start.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BUF := node_modules/.bin/buf
SITE = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
PROTO_PACKAGES := common upload training evaluation models
GENERATED := $(foreach p,$(PROTO_PACKAGES),tsforge/$(p)/v1)

.PHONY: up test test-unit setup gen gen-check gen-es lint breaking proto-deps edge-config edge-check docs-assets bench \
  clean web web-gen web-test web-e2e web-screenshots web-bench

## Start the whole platform on its embedded defaults and show it working.
up: setup
	$(VENV)/bin/tsforge up --demo

## Run the full test suite.
test: setup
	$(PY) -m pytest

## The fast tier: unit tests beside the code (no PostgreSQL, no S3, no Node, no browser).
test-unit: $(VENV)/.installed
	$(PY) -m pytest tsforge services tests/core/test_config_and_auth.py tests/core/test_secrets.py \
	  tests/core/test_names_pages_lru.py

## Create the virtual environment and install everything. The generated Python is
## committed (`make gen` rewrites it, `make gen-check` proves it fresh); the JavaScript
## clients the browser tests use and the docs page's assets are laid out here.
setup: $(VENV)/.installed node_modules/.installed gen-es docs-assets web

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
	@# protoc's stubs type an enum argument as Enum | str, but protobuf takes its number as
	@# well (what our domain enums convert to): say so, so that mypy checks the rest.
	sed -i -E 's/_Union\[([A-Za-z0-9_.]+), str\]/_Union[\1, int, str]/g' $$(find $(GENERATED) -name '*.pyi')

## Fail when the committed generated code is not what the protos give.
gen-check: gen
	git diff --exit-code --stat -- $(GENERATED) || { echo "generated code is stale: run 'make gen' and commit"; exit 1; }
	test -z "$$(git status --porcelain -- $(GENERATED))" || { git status --porcelain -- $(GENERATED); echo "generated code is not committed"; exit 1; }

## Every committed edge file from protos/: the descriptor set Envoy's transcoder reads
## (buf), then deploy/envoy/envoy.yaml, the Envoy Gateway patch policy and the OpenAPI
## description (gateway/render.py). All are committed; the tests fail when one is stale.
edge-config: proto-deps node_modules/.installed
	$(BUF) build --path protos/tsforge --path .build/proto-deps/google/rpc/error_details.proto \
	  --path .build/proto-deps/google/rpc/status.proto --as-file-descriptor-set --exclude-source-info \
	  -o deploy/envoy/tsforge.pb
	$(PY) -m gateway.render

## Fail when a committed edge file is stale or Envoy refuses a rendered configuration.
edge-check: $(VENV)/.installed
	$(PY) -m gateway.render --check
	$(PY) -m gateway.validate

## Swagger UI for the edge's /docs/ page, from npm's swagger-ui-dist (never a CDN).
docs-assets: node_modules/.installed
	mkdir -p gateway/docs/vendor
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css gateway/docs/vendor/

## JavaScript for the gateway's grpc-web client tests (protoc-gen-es from node_modules,
## offline) into .build/es/; never committed. The tests regenerate it too.
gen-es: proto-deps node_modules/.installed
	$(BUF) generate --template tests/gateway/js/buf.gen.yaml --path protos/tsforge

## Every static check: ruff (lint and format), mypy, the import contracts, buf lint.
lint: proto-deps node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(BUF) lint

## buf breaking (FILE rules): protos/ against those of BREAKING_AGAINST (default: the
## previous commit), built from `git archive` so the working tree is not touched.
BREAKING_AGAINST ?= HEAD~1
breaking: proto-deps node_modules/.installed
	rm -rf .build/against && mkdir -p .build/against/.build
	git archive $(BREAKING_AGAINST) protos buf.yaml | tar -x -C .build/against
	cp -r .build/proto-deps .build/against/.build/
	cd .build/against && ../../$(BUF) build --path protos/tsforge -o ../against.binpb
	$(BUF) build --path protos/tsforge -o .build/now.binpb
	$(BUF) breaking .build/now.binpb --against .build/against.binpb --config '{"version":"v2","breaking":{"use":["FILE"]}}'

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
