# Two entry points on a fresh machine with Python 3.11:
#   make run   - set up, migrate, create the demo tenant and serve it on SQLite
#   make test  - set up and run the tests (SQLite; PostgreSQL with CCAS_TEST_POSTGRES_URL)
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test test-calendar lint docs screenshots clean

$(BIN)/.installed: pyproject.toml setup.cfg
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/ccas db upgrade
	$(BIN)/ccas demo
	$(BIN)/ccas serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite at each edge of the calendar (docs/development.md, "one clock"); long.
CALENDAR_EDGES = 2026-12-31T23:30 2027-01-01T00:30 2026-10-25T02:30+01:00 2027-03-28T03:30 2028-02-29T23:30
test-calendar: install
	@for instant in $(CALENDAR_EDGES); do \
	  echo "== tests at $$instant"; \
	  CCAS_TEST_NOW=$$instant $(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS) || exit 1; \
	done

lint: install
	$(BIN)/ruff check .

docs: install
	$(BIN)/ccas plugin docs

# Every role's main pages in the demo city, 1280 and 375 px (docs/guide/); needs chromium
# and chromium-l10n (Debian packages: without the latter, date inputs show mm/dd/yyyy).
screenshots: install
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
