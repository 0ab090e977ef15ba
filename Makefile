# Glacier: `make demo` and `make test` bootstrap everything they need on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# setuptools tells every editable install of a flat layout to beware of same-named folders in
# the working directory (an information-only warning); the install is otherwise silent.
EDITABLE := PYTHONWARNINGS='ignore:Editable installation' $(PY) -m pip install --quiet -c constraints.txt -e

.PHONY: demo docs test test-fast lint typecheck pytest install tools bench clean lock

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall when the project's dependencies change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(EDITABLE) '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The demo needs only the base dependencies (Polars, pydantic, rich...): no cloud SDKs, no
# test tools. After a full install (make test) this is a quick no-op check.
DEMO_STAMP := $(VENV)/.installed-demo
$(DEMO_STAMP): pyproject.toml constraints.txt | $(PY)
	$(EDITABLE) .
	touch $(DEMO_STAMP)

# Re-resolve the newest versions pyproject.toml allows and record them in constraints.txt.
lock: | $(PY)
	$(PY) -m pip install --quiet --upgrade -e '.[dev]'
	{ sed -n '1,2p' constraints.txt; $(PY) -m pip freeze --exclude-editable | grep -v '^glacier'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt

# Tools the tests drive that are not Python packages: Graphviz (Debian), Azurite and
# asl-validator (npm, pinned in package.json / package-lock.json).
node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

# workflows-emulator (PyPI) checks and runs the generated Cloud Workflows definitions; it pins
# web libraries of its own, so it lives in a venv of its own.
WORKFLOWS_EMULATOR := workflows-emulator==1.10.0
.venv-workflows/.installed:
	$(PYTHON) -m venv .venv-workflows
	.venv-workflows/bin/python -m pip install --quiet '$(WORKFLOWS_EMULATOR)'
	touch .venv-workflows/.installed

# checkov, the external scanner the AWS tests run over generated stacks: in a venv of its own,
# since it pins an older boto3 than the project (see requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $(CHECKOV_VENV)/.installed

tools: node_modules/.installed .venv-workflows/.installed $(CHECKOV_VENV)/.installed
	@command -v dot >/dev/null || { apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; }

demo: $(DEMO_STAMP)
	$(PY) -m examples.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP) tools
	$(VENV)/bin/pytest -n 2 --dist loadfile

# The docs site (docs/, mkdocs.yml) into build/site: offline, and --strict turns every broken
# link, missing page or unresolved API reference into an error. (NO_MKDOCS_2_WARNING: Material
# prints a banner about its successor on every build; see docs/decisions/170.)
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

test: lint typecheck docs pytest

# The quick loop while developing: every test except those marked slow (servers and emulators,
# Pulumi programs under mocks, subprocesses, real bundle builds). `make test` runs them all.
test-fast: $(STAMP) tools
	$(VENV)/bin/pytest -n 2 --dist loadfile -m "not slow"

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf build .glacier .pytest_cache .mypy_cache .ruff_cache .venv-workflows
