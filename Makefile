# Every target creates .venv and installs the project when needed, so each is
# the only command a newcomer types.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCALE  ?= demo
PYTEST_ARGS ?=

.PHONY: demo test bench lint install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/switchboard fraud train --if-missing
	$(BIN)/switchboard demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 3 --durations=30 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/switchboard bench --scale $(SCALE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy domain

clean:
	rm -rf $(VENV) var bench-results.json .pytest_cache .mypy_cache .ruff_cache
