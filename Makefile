# haruchat: two commands for a newcomer.
#   make run   set everything up and serve http://127.0.0.1:8000 (SQLite + the embedded model)
#   make test  set up what the tests need and run them (SQLite, then PostgreSQL if DATABASE_URL is set)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MANAGE := $(BIN)/python backend/manage.py

.PHONY: run test lint erd migrate superuser clean web web-test e2e screenshots api-types

WEB_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) frontend/index.html \
	frontend/vite.config.ts frontend/tsconfig.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama-cpp-python is compiled from source on first install (several minutes).
# It is built for any x86-64 with AVX2 (GGML_NATIVE=OFF), not -march=native:
# a native build on a CPU that reports AMX uses it, and where the virtual
# machine cannot run AMX (seen here) the first token is a segmentation fault.
# The wheel is kept under ~/.cache/haruchat, one folder per set of flags (pip's
# own cache would hand back a wheel built with other flags), so later installs
# take seconds. On hardware of your own, e.g. LLAMA_CMAKE_ARGS=-DGGML_NATIVE=ON.
LLAMA_VERSION := $(shell sed -n 's/^llama-cpp-python==//p' requirements.txt)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
LLAMA_WHEELS := $(HOME)/.cache/haruchat/wheels/llama-cpp-python-$(LLAMA_VERSION)-$(shell printf '%s' '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)

$(LLAMA_WHEELS)/.built: | $(BIN)/python
	@echo "Building llama-cpp-python $(LLAMA_VERSION) (takes a few minutes, once)..."
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-cache-dir --no-deps \
		--no-binary llama-cpp-python --wheel-dir $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_VERSION)
	touch $@

$(VENV)/.runtime-installed: requirements.txt $(LLAMA_WHEELS)/.built | $(BIN)/python
	@echo "Installing runtime dependencies..."
	$(BIN)/pip install --quiet --force-reinstall --no-deps --no-index --find-links $(LLAMA_WHEELS) \
		llama-cpp-python==$(LLAMA_VERSION)
	$(BIN)/pip install --quiet --find-links $(LLAMA_WHEELS) -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.runtime-installed
	$(MANAGE) migrate --noinput

# The web app (frontend/): its own npm project, built to frontend/dist, served by Django at /.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(WEB_SOURCES)
	cd frontend && npm run build

web: frontend/dist/index.html

web-test: frontend/node_modules/.installed
	cd frontend && npx vitest run

e2e: web $(VENV)/.runtime-installed
	bash scripts/ensure-chromium.sh
	cd frontend && npx vitest run --config vitest.e2e.config.ts

# Re-take the README's screenshots (docs/screenshots/) while running the browser tests.
screenshots: web $(VENV)/.runtime-installed
	bash scripts/ensure-chromium.sh
	cd frontend && HARUCHAT_SCREENSHOTS=1 npx vitest run --config vitest.e2e.config.ts

run: migrate web
	@echo "haruchat at http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	$(BIN)/uvicorn config.asgi:application --app-dir backend --host $(HOST) --port $(PORT) --loop asyncio --no-proxy-headers

test: $(VENV)/.dev-installed frontend/dist/index.html
	bash scripts/test.sh
	$(MAKE) --no-print-directory web-test e2e

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check backend bench
	$(BIN)/ruff format --check backend bench
	cd frontend && npx tsc --noEmit

erd: $(VENV)/.runtime-installed
	$(MANAGE) erd

# The web app's API types: the backend's OpenAPI schema, then the TypeScript generated from it
# (frontend/src/api/openapi.json, schema.d.ts). A test of each side fails while they are stale.
api-types: $(VENV)/.runtime-installed frontend/node_modules/.installed
	$(MANAGE) spectacular --format openapi-json --file frontend/src/api/openapi.json
	cd frontend && npm run --silent api-types

superuser: migrate
	$(MANAGE) createsuperuser

clean:
	rm -rf $(VENV) var frontend/node_modules frontend/dist
