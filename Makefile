# ObjectOS for Python: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install chromium run test test-sqlite test-postgres lint migrate demo clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py bootstrap_demo

# One boot step of the mode the environment selects (README "Boot modes"): the demo and the
# first admin when standalone, else the artifact file or the control plane.
run: migrate
	$(PY) manage.py boot
	$(PY) manage.py collectstatic --noinput >/dev/null
	bin/serve $(PORT)

# The Console's browser tests drive Debian's chromium (never a downloaded browser build).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed: the browser tests will skip"

test: install chromium
	bin/test-all

test-sqlite: install
	$(VENV)/bin/pytest

test-postgres: install
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/objectos $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache test-output
