# Two commands for a fresh clone (see README): `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ENV ?= base

# Kedro telemetry and albumentations' update check stay off wherever the project runs.
export KEDRO_DISABLE_TELEMETRY := 1
export NO_ALBUMENTATIONS_UPDATE := 1
export MPLBACKEND := Agg

.PHONY: help install data run demo study sweep test test-fast lint format viz bench bench-scale
.PHONY: serve bench-serve docs schemas

help:
	@echo "make run    - set up .venv, get the dataset, run every pipeline (kedro run)"
	@echo "make test   - set up .venv and run the tests and the linter"
	@echo "make test-fast - the tests without the slow, browser, postgres and torchrun ones"
	@echo "make data   - get the dataset into data/01_raw (keeps what is there)"
	@echo "make demo   - run every pipeline on the synthetic demo dataset (seconds)"
	@echo "make study  - every hypothesis x seed of parameters_study.yml, ensembles, statistics"
	@echo "make sweep  - Optuna sweep of the training parameters of ENV (docs/sweeps.md)"
	@echo "make viz    - show the pipelines in kedro-viz"
	@echo "make bench  - speed benchmarks -> benchmarks/results/<time>.json (on an idle machine)"
	@echo "make bench-scale N=600 - time and peak memory of each stage at N and 4N images"
	@echo "make serve  - the HTTP service and web page on 127.0.0.1:8000 (PORT=8010, SERVE_ARGS=...)"
	@echo "make bench-serve - load benchmark of the service -> benchmarks/results/serve-<time>.json"
	@echo "make docs   - the documentation site (docs/, mkdocs.yml) -> site/"
	@echo "make schemas - the JSON Schemas of the results files -> docs/schemas/"

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

data: install
	$(BIN)/python -m multiclass_segmentation.commands.fetch_data --env $(ENV)

run: data
	$(BIN)/kedro run --env $(ENV)

demo: install
	$(BIN)/kedro run --env demo

# The whole study from the raw data to report.md; a run that exists is not trained
# again, so an interrupted study continues. The study's lists come from conf/base and
# conf/$(ENV) (KEDRO_ENV: Kedro builds the pipeline before it reads --env).
study: data
	KEDRO_ENV=$(ENV) $(BIN)/kedro run --pipelines study --only-missing-outputs

# Validation and EDA first (the trials train on their outputs), then this worker's trials.
# SWEEP_PARAMS passes more, e.g. SWEEP_PARAMS="sweep.storage=postgresql://optuna@db:5432/sweeps".
SWEEP_PARAMS ?=
sweep: data
	$(BIN)/kedro run --env $(ENV) --pipelines data_validation,eda,sweep \
		$(if $(SWEEP_PARAMS),--params "$(SWEEP_PARAMS)")

# Tests never download: the hub is offline and ClearML has no server.
test: install
	HF_HUB_OFFLINE=1 CLEARML_OFFLINE_MODE=1 $(BIN)/pytest
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Every test but the slow and heavy ones (pyproject.toml's markers): minutes, not ten.
FAST_TESTS := not slow and not browser and not postgres and not torchrun
test-fast: install
	HF_HUB_OFFLINE=1 CLEARML_OFFLINE_MODE=1 $(BIN)/pytest -m "$(FAST_TESTS)"
	$(BIN)/ruff check .
	$(BIN)/lint-imports

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

viz: install
	$(BIN)/kedro viz run

bench: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run.py --env $(ENV)

# Time and peak memory of each pipeline stage at N and 4N synthetic 512 px images
# (all splits together), on a copy of the configuration: data/ is not touched.
# SCALE_ARGS passes more options, e.g. SCALE_ARGS="--work-dir /tmp/scale" keeps the datasets.
N ?= 600
SCALE_ARGS ?=
bench-scale: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run.py --scale $(N) $(SCALE_ARGS)

# The HTTP service and its web page (docs/serving.md) for the latest model of ENV;
# SERVE_ARGS passes more, e.g. SERVE_ARGS="--model data/06_models/<ensemble> --threads 2".
PORT ?= 8000
SERVE_ARGS ?=
serve: install
	HF_HUB_OFFLINE=1 $(BIN)/python -m multiclass_segmentation.commands.serve --env $(ENV) \
		--port $(PORT) $(SERVE_ARGS)

# The service under load at concurrency 1, 4 and 16 (256 and 1024 px images) beside raw
# ONNX Runtime, on a random-weight model of the default architecture (docs/serving.md).
BENCH_SERVE_ARGS ?=
bench-serve: install
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/serve.py $(BENCH_SERVE_ARGS)

# The documentation site from docs/ and mkdocs.yml; --strict: any warning (a broken link or
# anchor, a page missing from the nav) fails the build.
docs: install
	$(BIN)/mkdocs build --strict --site-dir site

schemas: install
	$(BIN)/python -m multiclass_segmentation.commands.results_schema
