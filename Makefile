# Quick start:  make verify  (the cross-framework verification)   make test  (the whole test suite)
# make bench: what a verified point costs, against torch.autograd.gradcheck (benchmarks/speed.py), and what
# checking students' code costs (benchmarks/classroom.py); BENCH_FLAGS="--quick --blas-as-set" go to the first
# Each target makes its own virtual environment in .venv and installs the pinned dependencies first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CHECKERS := torch,jax,oracle
PROFILE ?= ci
BENCH_FLAGS ?=

.PHONY: verify test bench lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --editable ".[all]"
	touch $@

verify: $(VENV)/.installed
	$(PY) -m pytest tests/test_networks.py --hypothesis-profile=$(PROFILE) --framework=$(CHECKERS) -n 2 --evidence=evidence

test: $(VENV)/.installed
	$(PY) -m pytest --hypothesis-profile=$(PROFILE) --framework=$(CHECKERS) -n 2 --evidence=evidence

bench: $(VENV)/.installed
	$(PY) benchmarks/speed.py $(BENCH_FLAGS)
	$(PY) benchmarks/classroom.py

lint: $(VENV)/.installed
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) .tox .pytest_cache .hypothesis .cache *.egg-info evidence
