# Two commands on a fresh clone: `make` builds the templates, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCAN_VENV := .venv-scan
CHECKOV_VERSION := 3.3.30

.PHONY: all templates check test test-fast pytest scan bench package shellcheck fuzz mutate clean

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

# The long random search of the property tests (tests/property_settings.py's fuzz profile), with
# Hypothesis's example database in .hypothesis/: run it when a parser changes. It stops at the first
# failure (add it to the test as an @example) or when FUZZ_SECONDS are up.
FUZZ_SECONDS ?= 600
FUZZ_EXAMPLES ?= 5000
FUZZ_TESTS ?= tests/test_metadata_properties.py tests/test_heif.py tests/test_jxl.py
fuzz: $(BIN)/.installed
	HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) timeout --signal=INT $(FUZZ_SECONDS) \
		$(BIN)/python -m pytest -x -q -m "not deploy" $(FUZZ_TESTS); \
	status=$$?; if [ $$status -eq 124 ]; then echo "fuzz: $(FUZZ_SECONDS) s budget used up, no failure"; exit 0; fi; exit $$status

# Mutation testing (mutmut) of the transform's core, serving/ and stacks/policies.py with the fast tests;
# prints killed / survived / equivalent per module (tools/mutate.py, tools/equivalent_mutants.txt).
# Slow: MUTATE_PATHS narrows it, e.g. make mutate MUTATE_PATHS=lambdas/exif_transform/metadata/formats/gif.py
MUTATE_PATHS ?=
mutate: $(BIN)/.installed
	$(BIN)/python tools/mutate.py $(MUTATE_PATHS)

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
	rm -rf build .pytest_cache .hypothesis mutants
