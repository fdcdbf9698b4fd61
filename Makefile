# Backsoon: `make run` serves the demo, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test fuzz lint format install clean bench

# (Re)install whenever pyproject.toml changes; the stamp remembers the last install.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/backsoon prepare
	$(BIN)/backsoon demo
	@# `serve` says where to go and how to log in once the site answers.
	@# The background jobs (welcome back, reminders, calendar feeds) run inside the
	@# server's processes, so that their live updates reach the open pages.
	$(BIN)/backsoon serve --no-migrate --jobs yes --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/backsoon manage compiletranslations -v0
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# The API fuzzer with many more examples per operation than `make test` runs (25),
# and a new random seed each time (FUZZ_SEED=N repeats a run).
FUZZ_EXAMPLES ?= 400
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/pytest tests/security/test_fuzz.py -p no:logging

lint: $(STAMP)
	$(BIN)/ruff check backsoon tests bench
	$(BIN)/ruff format --check backsoon tests bench
	$(BIN)/mypy backsoon

format: $(STAMP)
	$(BIN)/ruff format backsoon tests bench
	$(BIN)/ruff check --fix backsoon tests bench

clean:
	rm -rf $(VENV) var/static var/screenshots
