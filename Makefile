# `make demo` and `make test` each work on a fresh machine that has only python3 and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test chromium clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,bayes,dask,tracking]'
	touch $@

demo: $(VENV)/.runtime
	$(BIN)/clvmodels run configs/cdnow.yaml

# The report's browser test drives Debian's headless Chromium (through Playwright, which uses the
# system browser: nothing is downloaded by Playwright itself).
chromium:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium package for the report's browser test"; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

test: $(VENV)/.dev chromium
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
