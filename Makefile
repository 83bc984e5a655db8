# Two commands on a fresh clone: `make` builds the templates, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCAN_VENV := .venv-scan
CHECKOV_VERSION := 3.3.30

.PHONY: all templates check test test-fast pytest scan bench package shellcheck clean

all: templates

# The virtual environment is rebuilt whenever requirements.txt changes.
$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

# checkov pins its own dependency tree, so it lives in a virtual environment of its own.
# --skip-download keeps it offline (it otherwise fetches guideline links from its vendor).
$(SCAN_VENV)/.installed:
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --upgrade pip
	$(SCAN_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)
	touch $@

templates: $(BIN)/.installed
	$(BIN)/python generate.py

check: $(BIN)/.installed
	$(BIN)/python generate.py --check

test: pytest scan

pytest: $(BIN)/.installed
	$(BIN)/python -m pytest

# Everything but the deploy.sh end-to-end runs against moto (the slow part).
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not deploy"

scan: $(SCAN_VENV)/.installed
	$(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation --directory templates

package: $(BIN)/.installed
	$(BIN)/python tools/package_transform.py --out build

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_transform.py
	$(BIN)/python bench/bench_edge_signer.py
	$(BIN)/python bench/bench_modes.py

shellcheck: $(BIN)/.installed
	$(BIN)/shellcheck deploy.sh

clean:
	rm -rf build .pytest_cache .hypothesis
