# haruchat: two commands for a newcomer.
#   make run   set everything up and serve http://127.0.0.1:8000 (SQLite + the embedded model)
#   make test  set up what the tests need and run them (SQLite, then PostgreSQL if DATABASE_URL is set)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MANAGE := $(BIN)/python backend/manage.py

.PHONY: run test lint erd migrate superuser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama-cpp-python is compiled from source on first install (several minutes);
# pip keeps the built wheel in its cache, so later installs take seconds.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	@echo "Installing runtime dependencies (the first build of llama-cpp-python takes a few minutes)..."
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

migrate: $(VENV)/.runtime-installed
	$(MANAGE) migrate --noinput

run: migrate
	@echo "haruchat at http://$(HOST):$(PORT)  (API docs: http://$(HOST):$(PORT)/api/docs)"
	$(BIN)/uvicorn config.asgi:application --app-dir backend --host $(HOST) --port $(PORT)

test: $(VENV)/.dev-installed
	bash scripts/test.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check backend bench
	$(BIN)/ruff format --check backend bench

erd: $(VENV)/.runtime-installed
	$(MANAGE) erd

superuser: migrate
	$(MANAGE) createsuperuser

clean:
	rm -rf $(VENV) var
