# Two commands from nothing: `make demo` and `make test`. Each builds .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
KB     ?= demo-kb
LOCKVENV ?= /tmp/wikismith-lock

.PHONY: demo test chromium crash-bench overhead-bench ingest-bench tokens-bench startup-bench maintain-bench quality-bench serve-bench bench lock clean

# Environments are filled by uv, from the same pinned lock files: on a fresh machine it builds both in about a
# minute where pip took five, which was a fifth of CI's time budget.
UV_VERSION := 0.9.0
UV := $(BIN)/uv pip install -q

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==$(UV_VERSION)

$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/python
	$(UV) --python $(BIN)/python -r requirements.lock
	$(UV) --python $(BIN)/python --no-deps -C editable_mode=compat -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock $(VENV)/.runtime
	$(UV) --python $(BIN)/python -r requirements-dev.lock
	touch $@

demo: $(VENV)/.runtime
	rm -rf $(KB)
	$(BIN)/wikismith init $(KB)
	$(BIN)/wikismith --kb $(KB) add examples
	$(BIN)/wikismith --kb $(KB) status
	$(BIN)/wikismith --kb $(KB) list

# The optional LiteLLM route pins other versions of shared packages, so it gets an environment of its own.
LITE := .venv-litellm
$(LITE)/.installed: requirements-litellm.lock pyproject.toml | $(BIN)/python
	$(PYTHON) -m venv $(LITE)
	$(UV) --python $(LITE)/bin/python -r requirements-litellm.lock
	$(UV) --python $(LITE)/bin/python --no-deps -C editable_mode=compat -e .
	touch $@

# The browser test drives Debian's Chromium (never a browser downloaded at run time).
chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

test: $(VENV)/.dev $(LITE)/.installed chromium
	$(BIN)/python -m pytest -n 2 --dist worksteal --durations=15 -m "not litellm" tests
	$(LITE)/bin/python -m pytest -m litellm tests

crash-bench: $(VENV)/.dev
	$(BIN)/python bench/crash.py --json

overhead-bench: $(VENV)/.dev
	$(BIN)/python bench/overhead.py --json

ingest-bench: $(VENV)/.dev
	$(BIN)/python bench/ingest.py --json

tokens-bench: $(VENV)/.dev
	$(BIN)/python bench/tokens.py --json

startup-bench: $(VENV)/.dev
	$(BIN)/python bench/startup.py --json

maintain-bench: $(VENV)/.dev
	$(BIN)/python bench/maintain.py --json

quality-bench: $(VENV)/.dev
	$(BIN)/python bench/quality.py --json

serve-bench: $(VENV)/.dev
	$(BIN)/python bench/serve.py --json

bench: crash-bench overhead-bench ingest-bench tokens-bench startup-bench maintain-bench quality-bench serve-bench

# Re-pin every dependency from a fresh environment (run after changing pyproject.toml).
lock:
	rm -rf $(LOCKVENV) && $(PYTHON) -m venv $(LOCKVENV)
	$(LOCKVENV)/bin/python -m pip install -q --upgrade pip
	$(LOCKVENV)/bin/pip install -q .
	$(LOCKVENV)/bin/pip freeze --exclude wikismith > requirements.lock
	$(LOCKVENV)/bin/pip install -q '.[dev]'
	$(LOCKVENV)/bin/pip freeze --exclude wikismith | grep -vxFf requirements.lock > requirements-dev.lock
	$(LOCKVENV)/bin/pip install -q '.[dev,litellm]'
	$(LOCKVENV)/bin/pip freeze --exclude wikismith > requirements-litellm.lock

clean:
	rm -rf $(VENV) $(LITE) $(KB) build *.egg-info
