# snnhw — two commands for users (`make demo`, `make test`); everything else is internal.
#
# Each target bootstraps the virtual environment in $(VENV) through `setup`:
# Python packages from PyPI, and Debian packages through apt-get when running
# as root (and only those that the flows need).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.snnhw-setup
# Debian packages the project needs (installed only when running as root): Icarus Verilog for
# co-simulation, OpenSTA for ASAP7 timing, openFPGALoader for `snnhw board program`.
APT_PACKAGES ?= iverilog opensta openfpgaloader
# PyTorch for `snnhw train`, installed before the project so that pip takes the CPU build.
TORCH_VERSION ?= 2.13.0

.PHONY: setup test demo lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "snnhw needs Python >= 3.11; set PYTHON=/path/to/python3.11"; exit 1; }
	@if [ -n "$(strip $(APT_PACKAGES))" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES); \
		else \
			echo "note: not root, so not installing Debian packages: $(APT_PACKAGES)"; \
		fi; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# PyTorch first, as the CPU build 2.13.0 (a bare `torch` requirement would pull several GB of CUDA packages).
	$(BIN)/python -m pip install --quiet 'torch==$(TORCH_VERSION)'
	# OpenROAD's wheel needs glibc >= 2.38: there `all` installs it; on older systems (Debian 12) `portable`
	# (all but `layout`) and a private runtime used only by the OpenROAD process (snnhw.layout.runtime).
	if $(BIN)/python -c 'import platform, sys; v = platform.libc_ver(); sys.exit(not (v[0] == "glibc" and tuple(map(int, v[1].split(".")[:2])) >= (2, 38)))'; then \
		$(BIN)/python -m pip install --quiet -e '.[all,train,dev]'; \
	else \
		$(BIN)/python -m pip install --quiet -e '.[portable,train,dev]' && \
		$(BIN)/python -m snnhw.layout.runtime install; \
	fi
	@touch $@

## make test: lint, then the whole test suite, one test file per worker on every core; the files run in
## the order tests/conftest.py gives them (the slowest first: xdist would otherwise start with the files
## of the most tests)
test: setup lint
	$(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder --durations=30

## make demo: the main job on the bundled example network
demo: setup
	$(BIN)/snnhw demo

lint: setup
	$(BIN)/ruff check snnhw sim boards tests bench
	$(BIN)/mypy snnhw sim boards

## make bench: golden-model throughput on the reference MNIST-sized network
bench: setup
	$(BIN)/python bench/golden_model.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
