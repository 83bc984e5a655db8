# Two commands on a fresh clone: `make` builds the templates, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SCAN_VENV := .venv-scan
CHECKOV_VERSION := 3.3.30

.PHONY: all templates check test test-fast pytest scan bench package shellcheck fuzz mutate clean

all: templates

# The oldest Python the pinned requirements install on (Pillow 13, Hypothesis); pyproject.toml's
# requires-python says the same.
MIN_PYTHON := 3.11
PYTHON_TOO_OLD := 'import sys; sys.exit(tuple(sys.version_info[:2]) < tuple(int(n) for n in "$(MIN_PYTHON)".split(".")))'

# The virtual environment is built from scratch whenever requirements.txt or pyproject.toml
# changes, and after any build that did not finish (a .venv without .installed, say made by an
# older Python), so a broken one never outlives the next `make`. A Python older than
# MIN_PYTHON stops it before anything is touched. `rm` of a symlinked .venv removes the link only.
# The last step installs the anon-s3ol command (pyproject.toml) as .venv/bin/anon-s3ol.
$(BIN)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) -c $(PYTHON_TOO_OLD) >/dev/null 2>&1 || { \
	  echo "make: anon-s3ol needs Python $(MIN_PYTHON) or newer; $(PYTHON) is $$(command -v $(PYTHON) >/dev/null && $(PYTHON) --version 2>&1 || echo 'not found'). Install Python $(MIN_PYTHON)+ and run: make PYTHON=python3.13 (any python$(MIN_PYTHON) or newer)" >&2; \
	  exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --editable .
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
# After adding tests, make mutate MUTATE_ARGS=--survivors re-runs only the last run's unexplained survivors.
MUTATE_PATHS ?=
MUTATE_ARGS ?=
mutate: $(BIN)/.installed
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS) $(MUTATE_PATHS)

scan: $(SCAN_VENV)/.installed
	$(SCAN_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation --directory templates

package: $(BIN)/.installed
	$(BIN)/python tools/package_transform.py --out build

bench: $(BIN)/.installed
	$(BIN)/python bench/bench_transform.py
	$(BIN)/python bench/bench_edge_signer.py
	$(BIN)/python bench/bench_modes.py
	$(BIN)/python bench/bench_cold_start.py
	$(BIN)/python bench/bench_streaming.py

shellcheck: $(BIN)/.installed
	$(BIN)/shellcheck deploy.sh

clean:
	rm -rf build .pytest_cache .hypothesis mutants
