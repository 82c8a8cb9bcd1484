# generals-rl: `make run` trains by self-play, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PyTorch's spinning OpenMP threads starve each other when anything else runs (generals_rl/__init__.py).
export OMP_WAIT_POLICY ?= PASSIVE

# checkov lives in its own venv: it pins boto3 1.35 and packaging 23, which the project's would lose.
TOOLS := deploy/.tools-venv
CHECKOV_VERSION := 3.3.30

.PHONY: install run test lint typecheck deploy-tools deploy-check deploy-apply-check bench bench-gpu clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

# Every service, one learner, actors (half the cores), the evaluator and a live dashboard for 15 minutes (Ctrl-C
# stops early; running it again resumes from the checkpoint).
run: install
	$(BIN)/grl train

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

# The deployment checks run first (tests/deploy), then every other test.
test: lint typecheck deploy-check
	$(BIN)/pytest --ignore=tests/deploy

deploy-tools: $(TOOLS)/.installed

$(TOOLS)/.installed: Makefile
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q 'checkov==$(CHECKOV_VERSION)'
	touch $@

# terraform fmt/init (offline, /opt/tf-plugins)/validate, plans of every profile against moto,
# checkov, hadolint, docker compose config (where the client has compose), the compose topology.
deploy-check: install deploy-tools
	$(BIN)/pytest tests/deploy

# Also apply the storage module to moto, re-plan, write through the blob seam, destroy (~100 s).
deploy-apply-check: install deploy-tools
	GRL_DEPLOY_APPLY=1 $(BIN)/pytest tests/deploy

bench: install
	$(BIN)/python benchmarks/engine.py --compare

bench-gpu: install
	$(BIN)/python benchmarks/engine.py --device cuda --batch 65536 --batch 131072

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .bench-venv $(TOOLS)
