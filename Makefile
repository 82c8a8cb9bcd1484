# generals-rl: `make run` plays a match, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PyTorch's spinning OpenMP threads starve each other when anything else runs (generals_rl/__init__.py).
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: install run test lint typecheck bench bench-gpu clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/grl play --p1 gatherer --p2 expander

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: install
	$(BIN)/python benchmarks/engine.py --compare

bench-gpu: install
	$(BIN)/python benchmarks/engine.py --device cuda --batch 65536 --batch 131072

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .bench-venv
