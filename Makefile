# Two commands on a fresh clone (see README "Quick start"):
#   make example   set up .venv and rebalance the shipped example account
#   make check     the fast loop: ruff, mypy, lint-imports and the tests not marked slow, side by side (README "Tests")
#   make test      set up .venv with the test tools; ruff, mypy, lint-imports and the whole test suite
#   make browser   install Debian's chromium for the browser tests when absent (check and test do it first)
#   make bench     install the peers (the bench extra) and run bench/run.py (BENCH_ARGS=--quick for a short run)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROJECT := $(shell cksum pyproject.toml | cut -d' ' -f1)
CORE := $(VENV)/.core-$(PROJECT)
DEV := $(VENV)/.dev-$(PROJECT)

.PHONY: example check check-ruff check-mypy check-imports check-tests test bench clean browser

$(CORE):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

# The fix extra (quickfix, for allocate send and its tests) compiles from source for several minutes the first
# time; the wheel is kept in WHEELS (outside the checkout) so later set-ups and fresh clones reuse it.
# Evaluated and rejected: the prebuilt quickfix-py 0.0.3 wheel (no compile step). It lacks
# quickfix.ThreadedSocketAcceptor, which the simulated broker of the send tests needs (14 of them fail), and its FIX44
# data dictionary rejects the TimeInForce (tag 59) values allocate sends. So the sdist is compiled once and cached.
WHEELS ?= $(HOME)/.cache/allocate-wheels

$(DEV):
	$(PYTHON) -m venv $(VENV)
	@if ls $(WHEELS)/quickfix-*.whl >/dev/null 2>&1; then \
		echo "quickfix: reusing the wheel built earlier in $(WHEELS)"; \
	else \
		echo "quickfix: compiling the FIX engine from source (for allocate send and its tests)."; \
		echo "quickfix: this takes several minutes (about 12 on 2 cores) the first time only; the wheel is kept in"; \
		echo "quickfix: $(WHEELS) and reused by later set-ups and fresh clones."; \
	fi
	@start=$$(date +%s); \
	$(BIN)/pip wheel --disable-pip-version-check --progress-bar on --no-deps --find-links $(WHEELS) \
		--wheel-dir $(WHEELS) "quickfix>=1.16" && \
	echo "quickfix: ready after $$(( $$(date +%s) - start )) s"
	$(BIN)/pip install --quiet --disable-pip-version-check --find-links $(WHEELS) -e ".[test,fix]"
	touch $@ $(CORE)

# The browser tests of the report pages (tests/report/test_browser.py) drive Debian's headless Chromium through
# Playwright's Python package (the test extra), never a browser build of Playwright's own. Installed here when absent,
# as root (CI) or through sudo; without it those tests skip with the reason.
CHROMIUM ?= /usr/bin/chromium

browser:
	@if [ -x $(CHROMIUM) ]; then \
		echo "browser: $(CHROMIUM) is installed"; \
	else \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		echo "browser: $(CHROMIUM) is absent; installing Debian's chromium: $$SUDO apt-get install -y --no-install-recommends chromium"; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium && \
		echo "browser: installed $$($(CHROMIUM) --version)"; \
	fi

example: $(CORE)
	$(BIN)/allocate run examples/holdings.csv -c configs/base.yaml -o out/example --force

# The fast loop: the four checks run side by side (make -j), each one's output printed whole when it ends.
# The tests marked slow (over 2 s each, see scripts/slow_tests.py) are left to make test.
check: $(DEV) browser
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory -j4 -Otarget check-ruff check-mypy check-imports check-tests && \
	echo "make check: all green in $$(( $$(date +%s) - start )) s"

check-ruff:
	$(BIN)/ruff check .

check-mypy:
	$(BIN)/mypy allocator

check-imports:
	$(BIN)/lint-imports

check-tests:
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not slow"

test: $(DEV) browser
	$(BIN)/ruff check .
	$(BIN)/mypy allocator
	$(BIN)/lint-imports
	@# the benchmark's quick mode (about a minute), so it cannot rot; its timings are printed, never asserted
	out=$$(mktemp -d) && $(BIN)/python bench/run.py --quick --out $$out/bench > $$out/bench.log 2>&1 \
		|| { cat $$out/bench.log; exit 1; }; tail -n 12 $$out/bench.log
	$(BIN)/pytest -q -n 2 --dist loadgroup

bench: $(DEV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out
