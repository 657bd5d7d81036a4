# Creator Studio. `make demo` and `make test` work on a fresh Debian machine with Python 3.11, as root.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test test-fast lint typecheck eval test-llm bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Three goals end to end, then the simulated month: the three cross-module workflows with a report and a chart.
demo: $(STAMP)
	$(VENV)/bin/studio demo
	$(VENV)/bin/studio demo --days 30 --seed 7

lint: $(STAMP)
	$(VENV)/bin/ruff check creator_studio tests $(wildcard benchmarks)
	$(VENV)/bin/mypy creator_studio

typecheck: lint

test: $(STAMP)
	bash scripts/services.sh install
	$(MAKE) lint
	$(MAKE) eval
	$(VENV)/bin/pytest -q -p no:cacheprovider

# The agent-behaviour eval suite on the offline model: pass^3 must stay at or above 0.9.
eval: $(STAMP)
	mkdir -p .test-artifacts
	$(VENV)/bin/studio eval evals/cases --trials 3 --min-pass 0.9 --json .test-artifacts/eval.json \
		--report .test-artifacts/eval.md

test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider -m unit

test-llm: $(STAMP)
	bash scripts/test-llm.sh

# Benchmarks (BENCHMARKS.md): orchestration vs langgraph-supervisor first, then every other benchmarks/*.py
# that is a script (has a __main__ block), with --quick when it supports it. A failing one fails the target
# after the rest have run.
bench: $(STAMP)
	@start=$$(date +%s); $(PY) benchmarks/orchestration.py || exit 1; echo "== benchmarks/orchestration.py took $$(( $$(date +%s) - start )) s"
	@status=0; for f in $$(ls benchmarks/*.py | sort); do \
		case $$f in benchmarks/orchestration.py|benchmarks/__init__.py) continue;; esac; \
		grep -q '__main__' $$f || continue; \
		if grep -q -- '--quick' $$f; then args=--quick; else args=; fi; \
		echo "== $$f $$args"; start=$$(date +%s); $(PY) $$f $$args || status=1; \
		echo "== $$f took $$(( $$(date +%s) - start )) s"; \
	done; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
