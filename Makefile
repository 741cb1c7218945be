# The two commands of the README: `make demo` and `make test`. Both set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench clean data

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[runtime]"
	touch $@

# PyTorch pinned to the CPU build kept on this kind of machine's disk (an unpinned `torch` would fetch a
# CUDA build of several GB); TORCH= (empty) skips it, and the torch tests then skip with their reason
TORCH ?= torch==2.13.0

# one pip call (one resolve, one editable build) for everything the tests need, the core's too
$(VENV)/.test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[runtime,test]' $(TORCH)
	touch $@ $(VENV)/.core

# Fashion-MNIST for the PyTorch examples and benchmarks: Debian's package, where apt works (else the
# examples use scikit-learn's bundled digits and say so)
data:
	@test -d /usr/share/datasets/fashion-mnist || (command -v apt-get >/dev/null && \
		apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1) || \
		echo "make: dataset-fashion-mnist not installed (no apt): the examples use digits"

demo: $(VENV)/.core data
	$(BIN)/python -m bcgc.demo --out out

# bcgc byte-compiled first: where PYTHONDONTWRITEBYTECODE is set (as on this kind of machine), every
# process (each Ray worker, each command run as a subprocess) would otherwise compile what it imports
test: $(VENV)/.test
	$(BIN)/python -m compileall -q src
	$(BIN)/python -m pytest

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports

bench: $(VENV)/.core data
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
