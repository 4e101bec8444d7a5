# liverecord: `make run` brings everything up on the embedded default; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
APT_PACKAGES := nginx libnginx-mod-rtmp ffmpeg curl chromium systemd
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export LIVEREC_WEB_PORT ?= 8000

.PHONY: run test test-e2e lint system-deps venv migrate demo clean

system-deps:  ## Debian packages: nginx with its RTMP module, ffmpeg
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py collectstatic --no-input -v0

run: system-deps migrate  ## web (gunicorn), Celery worker and beat, nginx-rtmp under honcho
	@$(BIN)/python manage.py ensure_superuser
	@echo "admin console: http://127.0.0.1:$(LIVEREC_WEB_PORT)/admin/   API docs: http://127.0.0.1:$(LIVEREC_WEB_PORT)/api/docs/"
	@echo "RTMP ingest:   rtmp://127.0.0.1:$${LIVEREC_RTMP_PORT:-1935}/live/<stream>"
	@echo "API key:       $(BIN)/python manage.py create_app NAME"
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho -f deploy/Procfile -d $(CURDIR) start

# Tests keep their state (broker folder, spool, test database) apart from a running `make run`.
TEST_VAR_DIR ?= $(CURDIR)/var/test

test: system-deps venv  ## the whole suite (end-to-end tests included)
	LIVEREC_VAR_DIR=$${LIVEREC_VAR_DIR:-$(TEST_VAR_DIR)} $(BIN)/python -m pytest $(PYTEST_ARGS)

test-e2e: system-deps venv  ## only the end-to-end tests through nginx-rtmp
	LIVEREC_VAR_DIR=$${LIVEREC_VAR_DIR:-$(TEST_VAR_DIR)} $(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# No module over this many lines (tests included; benchmarks are scripts, migrations are generated).
MAX_MODULE_LINES := 500
# Being split on branch engine: drop them from this list when it lands.
MODULE_SIZE_EXEMPT :=

lint: venv  ## ruff, mypy, the import layers (pyproject [tool.importlinter]) and the module size limit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	@find . -name '*.py' -not -path './.venv/*' -not -path './var/*' -not -path './node_modules/*' \
		-not -path './benchmarks/*' -not -path '*/migrations/*' $(foreach f,$(MODULE_SIZE_EXEMPT),-not -path './$(f)') \
		| xargs wc -l | awk '$$2 != "total" && $$1 > $(MAX_MODULE_LINES) \
		{ print "module over $(MAX_MODULE_LINES) lines: " $$2 " (" $$1 ")"; bad = 1 } END { exit bad }'

demo: system-deps migrate  ## starts the stack if it is not up, pushes a test stream, prints the files
	@if curl -fs -o /dev/null http://127.0.0.1:$(LIVEREC_WEB_PORT)/api/schema/; then \
		$(BIN)/python manage.py demo; \
	else \
		PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/honcho -f deploy/Procfile -d $(CURDIR) start > var/demo-stack.log 2>&1 & pid=$$!; \
		for i in $$(seq 60); do curl -fs -o /dev/null http://127.0.0.1:$(LIVEREC_WEB_PORT)/api/schema/ && break; sleep 0.5; done; \
		sleep 2; $(BIN)/python manage.py demo; status=$$?; kill -TERM $$pid; wait $$pid; exit $$status; \
	fi

clean:
	rm -rf var/broker var/spool var/test
