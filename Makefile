# The README's two commands: `make preview` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test preview test bench policy-table clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[full]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[full,test]'
	touch $(STAMP) $@

install: $(STAMP)

install-test: $(TEST_STAMP)

preview: $(STAMP)
	$(BIN)/secrets-layout preview environments/prod.yaml

test: $(TEST_STAMP)
	$(BIN)/python -m pytest

bench: $(TEST_STAMP)
	@test -x .venv-checkov/bin/checkov || { $(PYTHON) -m venv .venv-checkov && .venv-checkov/bin/python -m pip install --quiet --upgrade pip && .venv-checkov/bin/python -m pip install --quiet checkov; } || echo "bench: checkov could not be installed into .venv-checkov; the report says so"
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/hostile_input.py

# Writes the policy table of README.md and policies/README.md from the pack's registry.
policy-table: $(STAMP)
	$(BIN)/python -m secrets_layout.reports.policy_table README.md policies/README.md

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
