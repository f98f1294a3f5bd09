# The two front-door commands: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest install tools serve clean \
	bench-notify bench-intake bench-storm bench-flamegraph bench-gate

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

tools:
	./scripts/install-tools.sh

demo: install
	$(BIN)/flamebot demo

serve: install
	$(BIN)/flamebot serve

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
