# Two commands matter: `make demo` and `make test`. Both create .venv from nothing but Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: demo test bench lint models clean venv messages

$(PY):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TESTSTAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP) $@

venv: $(STAMP)

## demo: quote the bundled sample exchange (the embedded default)
demo: $(STAMP)
	$(VENV)/bin/underwriting demo

## test: the whole suite: unit and property tests, golden files, notebooks, the wheel install test
test: $(TESTSTAMP)
	$(PY) -m pytest -q

PEERS := .venv-peers
$(PEERS)/.installed:
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/bin/python -m pip install --quiet aggregate gemact
	touch $@

## bench: benchmarks; each writes a table under benchmarks/results/ (peers in their own venv)
bench: $(TESTSTAMP) $(PEERS)/.installed
	UNDERWRITING_BENCH_PEER_PYTHON=$(CURDIR)/$(PEERS)/bin/python $(PY) benchmarks/run_all.py

## lint: ruff
lint: $(TESTSTAMP)
	$(VENV)/bin/ruff check underwriting tests benchmarks

## models: regenerate the shipped models from the shipped datasets, signed with the release key the
## builder holds (UNDERWRITING_SIGNING_KEY=PATH of its private PEM; never committed to the repository)
models: $(STAMP)
	@test -n "$$UNDERWRITING_SIGNING_KEY" || { echo "make models: set UNDERWRITING_SIGNING_KEY=PATH of the release signing key" >&2; exit 2; }
	$(PY) -m underwriting.models_build

## messages: extract every _("...") into a template and merge it into each language's .po (then translate the new ids)
messages: $(TESTSTAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -k N_ --no-location --sort-output --omit-header -o build/underwriting.pot .
	$(VENV)/bin/pybabel update -i build/underwriting.pot -d underwriting/locale -D underwriting --no-location --omit-header --no-fuzzy-matching

clean:
	rm -rf $(VENV) $(PEERS) build dist *.egg-info .pytest_cache .ruff_cache
