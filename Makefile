# clubflow: `make up` starts the whole system, `make test` runs every test.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
# `make up PORT=4300` runs the stack on another port (the demo inbox listens on PORT+100).
PORT ?= 4200

.PHONY: up test test-future lint bench env structure browser

$(UV):
	python3 -m pip install --user --quiet uv

env: $(UV)
	$(UV) sync --frozen
	@test -x /usr/bin/chromium || echo "no /usr/bin/chromium: browser tests will skip; \
	\`make browser\` installs it (apt-get install -y chromium fonts-wqy-zenhei)"

# `make browser`: Debian's chromium and a Chinese font for the portal's browser tests
# (Playwright never downloads a browser; .ci/run does this too).
browser:
	.ci/browser

up: env
	$(UV) run clubflow up --port $(PORT)

lint: env
	$(UV) run ruff check .
	$(UV) run ruff format --check .

test: env lint
	$(UV) run pytest -q

# `make test-future`: the whole suite with the clock a year ahead (Debian `faketime`), proving
# no test depends on today's date. FUTURE=+730d shifts further. Monotonic time is shifted too:
# FAKETIME_DONT_FAKE_MONOTONIC=1 makes Python's time.sleep fail with EINVAL.
FUTURE ?= +365d
FAKETIME_LIB ?= /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
test-future: env
	@test -f $(FAKETIME_LIB) || { echo "needs libfaketime: apt-get install faketime"; exit 2; }
	FAKETIME="$(FUTURE)" LD_PRELOAD=$(FAKETIME_LIB) $(UV) run pytest -q -p no:cacheprovider

# `make bench` runs every benchmark; `make bench BENCH=leads` one of them.
bench: env
	$(UV) run python -m benchmarks $(BENCH)

# `make structure`: lines per area, the largest functions and upward imports (target 0).
structure: env
	$(UV) run python tests/structure/report.py
