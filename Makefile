# The two set-up commands: `make run` and `make test`. Both work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE ?= How many children were separated from their families?

.PHONY: install run ask test ingest clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, from the machine's CPU wheel; otherwise a dependency pulls a CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Ingest the shipped corpus when the index is missing or stale (unchanged files
# are skipped by content hash), then run the main job.
ingest: install
	$(BIN)/rag ingest --on-mismatch rebuild

# The main job: the web chat at http://127.0.0.1:7860 (API under /api, widget at /embed).
run: ingest
	$(BIN)/rag serve

# A one-off answer in the terminal instead: make ask SAMPLE="..."
ask: ingest
	$(BIN)/rag ask "$(SAMPLE)"

browser:
	./scripts/ensure-chromium.sh

test: install browser
	$(BIN)/python -m pytest

clean:
	rm -rf data .pytest_cache
