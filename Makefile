# The README's two commands: `make preview` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: help install install-test preview test bench policy-table sdk-classes clean

help: ## this list
	@awk -F ':.*## ' '/^[a-z-]+:.*## / { printf "make %-13s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[full]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[full,test]'
	touch $(STAMP) $@

install: $(STAMP) ## create .venv and install the project (secrets-layout in .venv/bin)

install-test: $(TEST_STAMP) ## the same, with the test extras

preview: $(STAMP) ## install, then preview environments/prod.yaml offline
	$(BIN)/secrets-layout preview environments/prod.yaml

# One worker per CPU (pytest-xdist); a test file stays on one worker (--dist loadfile), so a
# module-scoped fixture (a preview, a moto server) is still computed once. The package is compiled
# first: where PYTHONDONTWRITEBYTECODE is set (the machines this is developed on) nothing writes its .pyc
# files, and each `secrets-layout` process the tests start would compile its modules again (0.3 CPU
# seconds a preview); Python reads .pyc files whatever that variable says.
test: $(TEST_STAMP) ## install with the test extras, then run the tests on every CPU (what CI runs)
	$(BIN)/python -m compileall -q secrets_layout components policies rotation
	$(BIN)/python -m pytest -n auto --dist loadfile

bench: $(TEST_STAMP) ## the performance report against checkov (benchmarks/README.md)
	@test -x .venv-checkov/bin/checkov || { $(PYTHON) -m venv .venv-checkov && .venv-checkov/bin/python -m pip install --quiet --upgrade pip && .venv-checkov/bin/python -m pip install --quiet checkov; } || echo "bench: checkov could not be installed into .venv-checkov; the report says so"
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/hostile_input.py
	$(BIN)/python benchmarks/interrupts.py

# Writes the policy table of README.md and policies/README.md from the pack's registry.
policy-table: $(STAMP) ## write the policy table of README.md and policies/README.md
	$(BIN)/python -m secrets_layout.reports.policy_table README.md policies/README.md

# Writes what the installed SDK's resource classes do to a registration (plan evaluation reads it).
sdk-classes: $(STAMP) ## write secrets_layout/engine/sdk_classes.json from the installed pulumi_aws and pulumi_random
	$(BIN)/python -m secrets_layout.engine.sdk_classes

clean: ## remove .venv and the test caches
	rm -rf $(VENV) .pytest_cache .hypothesis
