# Two commands matter: `make demo` and `make test`. Both create .venv from nothing but Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TESTSTAMP := $(VENV)/.installed-test

.PHONY: demo test test-portable bench lint models clean venv messages

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

## test: the whole suite: unit and property tests, golden files, notebooks, the wheel install test, on one
## pytest-xdist worker per core (TEST_WORKERS=N to choose; 0 runs in this process); prints the 20 slowest tests.
## Each test file runs whole on one worker, files with a `slow` test handed out first (tests/conftest.py)
TEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
test: $(TESTSTAMP)
	$(PY) -m pytest -q $(PYTEST_PARALLEL) --durations=20

## test-portable: the golden, reproduce and model-rebuild tests again with numpy's SIMD dispatch reduced
## (NPY_DISABLE_CPU_FEATURES), first without the top dispatch targets, then without any: a CPU unlike this
## one (no AVX-512, no AVX2; on ARM no SVE/ASIMD extensions), simulated on every CI run (issue #23)
PORTABLE_TESTS := tests/test_golden_quotes.py tests/test_reproducibility.py tests/lifecycle/test_rebuild_check.py \
	tests/lifecycle/test_models_build.py tests/frequency/test_base_model.py::test_rebuild_reproduces_the_shipped_files \
	tests/frequency/test_base_model.py::test_registry_copy_reproduces_the_fit_exactly
test-portable: $(TESTSTAMP)
	@for keep in 1 0; do \
	  feats="$$($(PY) -c "from numpy._core._multiarray_umath import __cpu_dispatch__ as d; print(' '.join(d[$$keep:]))")"; \
	  echo "test-portable: NPY_DISABLE_CPU_FEATURES=\"$$feats\""; \
	  NPY_DISABLE_CPU_FEATURES="$$feats" $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_PARALLEL) $(PORTABLE_TESTS) || exit 1; \
	done

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
	$(VENV)/bin/pybabel update -i build/underwriting.pot -d underwriting/locale -D underwriting -w 120 --no-fuzzy-matching

clean:
	rm -rf $(VENV) $(PEERS) build dist *.egg-info .pytest_cache .ruff_cache
