# clubflow: `make up` starts the whole system, `make test` runs every test.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# `make up PORT=4300` runs the stack on another port (the demo inbox listens on PORT+100).
PORT ?= 4200

.PHONY: up test lint bench env

$(UV):
	python3 -m pip install --user --quiet uv

env: $(UV)
	$(UV) sync --frozen

up: env
	$(UV) run clubflow up --port $(PORT)

lint: env
	$(UV) run ruff check .
	$(UV) run ruff format --check .

test: env lint
	$(UV) run pytest -q

# `make bench` runs every benchmark; `make bench BENCH=leads` one of them.
bench: env
	$(UV) run python -m benchmarks $(BENCH)
