# Two commands on a fresh machine: `make run` (portal with demo data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Tests run in parallel workers, each with its own database.
PYTEST_ARGS ?= --numprocesses=auto --maxprocesses=4
STAMP := $(VENV)/.installed-$(shell cksum < requirements.lock | cut -d' ' -f1)

.PHONY: run test install demo clean-var mutation mutation-changed

$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

run: install
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py setup_demo
	@$(PY) manage.py run_portal

test: install
	@out=$$($(VENV)/bin/lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }; echo "$$out" | tail -n 1
	@$(VENV)/bin/mypy --no-error-summary && echo "mypy: the domain modules type-check"
	$(PY) -m pytest $(PYTEST_ARGS)

# Mutation testing of the core modules (mutation/run.py): a score per module, 90 % killed or fail.
mutation: install
	$(PY) mutation/run.py $(MUTATION_ARGS)

# Only the core modules a change touches (against the merge base with main), as CI runs it.
mutation-changed: install
	$(PY) mutation/run.py --changed $(MUTATION_ARGS)

clean-var:
	rm -rf var
