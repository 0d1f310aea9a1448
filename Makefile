# Two entry points: `make run` (the dashboard on demo data) and `make test` (the whole suite).
# Each creates .venv and installs what it needs, so both work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= data

.PHONY: run test demo lint i18n clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "WAS Planner needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# After installing, the route solver's and the hot streets' compiled loops are compiled once (numba
# caches them), so the first route or op-solve spends its time limit searching rather than
# compiling, and the first calibration does not compile either.
WARM_UP := $(BIN)/python -c 'from planner.routing import orienteering; from planner.hotspots import _kernel; \
	orienteering.warm_up(); _kernel.warm_up()'

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(WARM_UP)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	$(WARM_UP)
	touch $@ $(VENV)/.installed

$(DATA_DIR)/was.db: | $(VENV)/.installed
	$(BIN)/was-planner --data-dir $(DATA_DIR) demo

demo: $(VENV)/.installed
	$(BIN)/was-planner --data-dir $(DATA_DIR) demo

run: $(VENV)/.installed $(DATA_DIR)/was.db
	WAS_DATA_DIR=$(DATA_DIR) $(BIN)/streamlit run app.py --server.address 127.0.0.1 --browser.gatherUsageStats false

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check planner app.py app_pages tests bench

# Texts → catalogs: extract the marked texts, merge them into the nl and en catalogs, compile.
# Fill in new Dutch translations in $(LOCALES)/nl/LC_MESSAGES/planner.po and run it again.
LOCALES := planner/i18n/locale
i18n: $(VENV)/.installed
	$(BIN)/pybabel --quiet extract --mapping babel.cfg --no-location --sort-output \
		--project "WAS Planner" --copyright-holder "WAS Planner" --output $(LOCALES)/planner.pot .
	for lang in nl en; do \
		test -f $(LOCALES)/$$lang/LC_MESSAGES/planner.po || \
			$(BIN)/pybabel --quiet init --domain planner --input-file $(LOCALES)/planner.pot \
				--output-dir $(LOCALES) --locale $$lang; \
	done
	$(BIN)/pybabel --quiet update --domain planner --input-file $(LOCALES)/planner.pot \
		--output-dir $(LOCALES) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile --domain planner --directory $(LOCALES) --statistics

clean:
	rm -rf $(VENV) .pytest_cache
