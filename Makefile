# The two commands of the README's quick start, and a few more.
#   make serve   set up .venv and run the server with the embedded defaults
#                (SERVE_ARGS="--listen 127.0.0.1:7000 ..." passes flags to it)
#   make test    set up .venv and run lint, types and the whole test suite

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: serve test lint typecheck pytest jstest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

serve: $(STAMP)
	$(VENV)/bin/hubbub serve $(SERVE_ARGS)

test: lint typecheck jstest pytest

lint: $(STAMP)
	$(PY) -m ruff check src tests $(wildcard benchmarks examples)

typecheck: $(STAMP)
	$(PY) -m mypy --strict src/hubbub

# The server's tests run twice: the second time on a bus that hands events
# back a loop turn later, as a cluster's log does: every handler must answer
# the same there (docs/cluster.md).
pytest: $(STAMP)
	$(PY) -m pytest
	HUBBUB_TEST_BUS=later $(PY) -m pytest -q tests/server

# The web client's unit tests, on Node's built-in runner (no npm packages).
jstest:
	@if command -v node >/dev/null 2>&1; then node --test tests/web/*.test.mjs; \
	elif [ "$$CI" = "true" ]; then echo "CI must provide node (apt-get install nodejs)"; exit 1; \
	else echo "node is not installed: skipping the web client's unit tests"; fi

bench: $(STAMP)
	$(PY) benchmarks/load.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
