# make demo: the main job on a bundled example.  make test: the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean train-check

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Error: $(PYTHON) not found; run 'make PYTHON=python3 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The training extra (torch, scikit-learn) for the suite and the training benchmark; the demo
# does not need it. torch pinned first: the CPU wheel in the local find-links; an open range
# would pull a CUDA build of several GB.
TRAIN_STAMP := $(VENV)/.installed-train
$(TRAIN_STAMP): $(STAMP)
	$(PY) -m pip install --quiet 'torch==2.13.0'
	$(PY) -m pip install --quiet -e '.[test,train]'
	@# KaHIP (arrange --partitioner kahip) where a wheel exists; without it its test is skipped
	@$(PY) -m pip install --quiet -e '.[kahip]' || echo "note: KaHIP not installed (no wheel here); its test is skipped"
	@touch $(TRAIN_STAMP)

# The main job: widths for the 64x64 network of Levine et al. that favor global interactions
# under the parameter budget of its wide-base design, with a report in demo-report/.
demo: $(STAMP)
	$(VENV)/bin/widthdesign inspect examples/levine_64x64.toml
	$(VENV)/bin/widthdesign cut examples/paper_1d_n16.toml --part left-right --part even-odd --part blocks:2
	@echo "== design from data: which inputs the pooling should keep together (mirror pairs here)"
	$(VENV)/bin/widthdesign profile examples/paper_1d_n16.toml examples/mirror_pairs_n16.csv
	$(VENV)/bin/widthdesign arrange examples/paper_1d_n16.toml examples/mirror_pairs_n16.csv
	@echo "== favor global: long-range interactions need wide deep layers (Levine et al.)"
	$(VENV)/bin/widthdesign recommend examples/levine_64x64.toml --budget 8736 --favor global \
		--report demo-report --force
	@echo "== favor local: short-range interactions need wide early layers"
	$(VENV)/bin/widthdesign recommend examples/levine_64x64.toml --budget 8736 --favor local
	@echo "== side by side: the same budget, the favor moves the width"
	@$(PY) -c 'import widthdesign as wd; a = wd.load("examples/levine_64x64.toml"); \
		g, l = (wd.recommend(a, 8736, f) for f in ("global", "local")); \
		print("layer  global  local"); \
		[print(f"r{i:<5} {x:>6} {y:>6}") for i, (x, y) in enumerate(zip(g.widths, l.widths))]'
	@echo "Report: demo-report/index.html (figures and summary.md beside it)"

test: $(TRAIN_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider widthdesign tests

lint: $(STAMP)
	$(VENV)/bin/ruff check widthdesign tests benchmarks examples
	$(VENV)/bin/ruff format --check widthdesign tests benchmarks examples

bench: $(STAMP)
	$(PY) benchmarks/run.py

# The full training benchmark of docs/training.md with recommend's current defaults (about an
# hour on 2 cores): designs trained at matched parameter counts on the local and global digit
# tasks with the slack x max-ratio grid at r = 8, then the check at r = 4 and 16, then the
# tables and the figure of every run (train-check.json/.png).
TRAIN := $(PY) examples/reproduce_training.py
train-check: $(TRAIN_STAMP)
	$(TRAIN) --prototype --probes --step 4 --json train-check.json --resume train-check.json >/dev/null
	$(TRAIN) --r 4 16 --designs uniform --step 4 --grid-r 4 16 --slack 0.1 0.25 --max-ratio 2 4 \
		--json train-check.json --resume train-check.json >/dev/null
	$(TRAIN) --prototype --probes --step 4 --grid-r 4 8 16 --resume train-check.json --no-train \
		--figure train-check.png

# make docs: regenerate the CLI/API references and the console examples, build the site.
# Regenerating is reproducible byte for byte (progress goes to stderr, never into a page): the
# --check runs fail if a second pass would change anything, and the last line says whether
# the regenerated docs/ differ from the last commit.
docs: $(STAMP)
	@test -x $(VENV)/bin/mkdocs || $(VENV)/bin/pip install --quiet 'mkdocs>=1.5'
	$(PY) docs/gen_cli.py
	$(PY) docs/gen_api.py
	$(PY) docs/gen_console.py
	$(PY) docs/gen_cli.py --check
	$(PY) docs/gen_api.py --check
	$(PY) docs/gen_console.py --check
	$(VENV)/bin/mkdocs build --strict -d site
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
		if git diff --quiet -- docs; then echo "docs/ unchanged: the tree is clean"; \
		else echo "docs/ changed (git diff --stat docs/): review and commit"; git diff --stat -- docs; fi; fi

clean:
	rm -rf $(VENV) build *.egg-info
