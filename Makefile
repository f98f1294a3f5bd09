# The two front-door commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make demo` needs only what flamebot runs on; `make test` adds the test toolchain on top.
RUNTIME_STAMP := $(VENV)/.runtime

.PHONY: demo test lint typecheck pytest install install-runtime tools serve clean \
	bench-notify bench-intake bench-storm bench-flamegraph bench-gate

$(RUNTIME_STAMP): pyproject.toml constraints.txt scripts/install-runtime.sh
	PYTHON=$(PYTHON) ./scripts/install-runtime.sh $(VENV)
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

install-runtime: $(RUNTIME_STAMP)

tools:
	./scripts/install-tools.sh

# The runtime venv holds flamebot's packages, not flamebot: it runs from this checkout.
demo: install-runtime
	$(BIN)/python -m receiver demo

serve: install-runtime
	$(BIN)/python -m receiver serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: that is a failure here like any other non-zero code.
pytest: install tools
	$(BIN)/pytest

test: lint typecheck pytest

# Benchmarks, by hand (bench/README.md): each prints a table and a ratio to its baseline.
bench-notify: install
	$(BIN)/python bench/notify.py

bench-intake: install
	$(BIN)/python bench/intake.py

bench-storm: install
	$(BIN)/python bench/storm.py

bench-flamegraph: install
	$(BIN)/python bench/flamegraph.py

bench-gate: install
	$(BIN)/python bench/gate.py

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
