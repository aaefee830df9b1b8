# Two commands on a fresh clone (see README "Quick start"):
#   make example   set up .venv and rebalance the shipped example account
#   make test      set up .venv with the test tools; ruff, mypy and the whole test suite
#   make bench     install the peers (the bench extra) and run bench/run.py (BENCH_ARGS=--quick for a short run)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROJECT := $(shell cksum pyproject.toml | cut -d' ' -f1)
CORE := $(VENV)/.core-$(PROJECT)
DEV := $(VENV)/.dev-$(PROJECT)

.PHONY: example test bench clean

$(CORE):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(DEV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@ $(CORE)

example: $(CORE)
	$(BIN)/allocate run examples/holdings.csv -c configs/base.yaml -o out/example --force

test: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy allocator
	$(BIN)/pytest -q

bench: $(DEV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out
