# Plain entry points; each creates or reuses the virtualenvs and is fast when nothing changed.
#   make run    - the whole system on this machine (local server, web page, workers)
#   make test   - the Debian packages the tests need (installed when missing: as root), lint + every test
#                 (unit, handlers, synth, checkov, end-to-end, browser)
#   make packages - only the Debian packages (.ci/debian-packages; `make packages DRY_RUN=1` lists them)
#   make synth  - cdktf.out/stacks/<stack>/cdk.tf.json
#   make bench  - benchmarks on real photos, printed as ratios
#   make lint   - ruff (lint + format) and mypy

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
# checkov pins many libraries that conflict with the project's; it lives in its own virtualenv.
CHECKOV_VERSION := 3.3.30

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export IMGMGR_CHECKOV := $(CURDIR)/$(CHECKOV_VENV)/bin/checkov

.PHONY: run test synth bench lint venv checkov packages clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,infra,dev,bench]'
	touch $@

$(CHECKOV_VENV)/.installed: Makefile
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

# The labeler's detector models (tools/fetch_models.py); without them it works with fewer models (a warning).
MODELS := $(VENV)/share/imgmgr/models/.fetched
$(MODELS): $(BIN)/.installed tools/fetch_models.py imgmgr/adapters/offline/model_files.py
	$(BIN)/python tools/fetch_models.py && touch $@ || echo "warning: the labeler's detector models could not be fetched; make venv tries again" >&2

venv: $(BIN)/.installed $(MODELS)

checkov: $(CHECKOV_VENV)/.installed

packages:
	.ci/debian-packages $(if $(DRY_RUN),--dry-run)

run: venv
	PILLOW_BLOCKS_MAX=8 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 $(BIN)/imgmgr serve

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy lambdas imgmgr constructs_lib stacks bench main.py

test: packages venv checkov lint
	$(BIN)/python -m pytest

synth: venv
	$(BIN)/python main.py
	@echo "wrote cdktf.out/stacks/*/cdk.tf.json"

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf cdktf.out .pytest_cache .ruff_cache .mypy_cache
