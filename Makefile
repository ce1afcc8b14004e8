# make demo: the main job on a bundled example.  make test: the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Error: $(PYTHON) not found; run 'make PYTHON=python3 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/widthdesign inspect examples/paper_1d_n16.toml
	$(VENV)/bin/widthdesign cut examples/paper_1d_n16.toml --part left-right --part even-odd --part blocks:2

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider widthdesign tests

lint: $(STAMP)
	$(VENV)/bin/ruff check widthdesign tests benchmarks examples
	$(VENV)/bin/ruff format --check widthdesign tests benchmarks examples

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info
