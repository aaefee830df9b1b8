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

# The fix extra (quickfix, for allocate send and its tests) compiles from source for several minutes the first
# time; the wheel is kept in WHEELS (outside the checkout) so later set-ups and fresh clones reuse it.
WHEELS ?= $(HOME)/.cache/allocate-wheels

$(DEV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps --find-links $(WHEELS) --wheel-dir $(WHEELS) \
		"quickfix>=1.16"
	$(BIN)/pip install --quiet --disable-pip-version-check --find-links $(WHEELS) -e ".[test,fix]"
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
