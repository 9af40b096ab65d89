# Two commands do everything on a fresh machine (Debian, Python 3.11+, pip, make):
#   make run    install into .venv and run the bot (without TELEGRAM_BOT_TOKEN: the local demo)
#   make test   install what tests need, then lint, type-check, check catalogs and run all tests
# Other targets: make catalogs (extract + update the .po files after changing texts), make lock
# (re-pin constraints.txt after changing dependencies), make bench, make clean.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
MO     := locales/nl/LC_MESSAGES/messages.mo locales/en/LC_MESSAGES/messages.mo

.PHONY: run test lint typecheck check-catalogs catalogs lock bench clean

# Without TELEGRAM_BOT_TOKEN (in the environment or .env) `enrollbot demo`, else the bot.
run: $(VENV)/.installed $(MO)
	$(BIN)/enrollbot $$($(BIN)/python -c "from bot.config import load_settings as s; \
print('demo' if s().demo else 'run')" 2>/dev/null || echo run)

test: $(VENV)/.installed-test $(MO) lint typecheck check-catalogs
	$(BIN)/python -m pytest -n 3

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy

check-catalogs: $(VENV)/.installed-test
	$(BIN)/python scripts/catalogs.py check

catalogs: $(VENV)/.installed-test
	$(BIN)/python scripts/catalogs.py update

bench: $(VENV)/.installed-test $(MO)
	$(BIN)/python -m bench

# The virtual environment. Debian's python3 may lack ensurepip (package python3-venv): then the
# venv is made without pip and pip is bootstrapped into it by the system's pip.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) \
		&& $(PYTHON) -m pip --python $(BIN)/python install -q pip; }

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install -c constraints.txt -e ".[test]"
	touch $@ $(VENV)/.installed

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel -q compile -d locales -D messages -l $*

lock: $(BIN)/python
	$(PIP) install "pip-tools>=7.4,<8"
	$(BIN)/pip-compile -q --all-extras --strip-extras --no-header --allow-unsafe --no-emit-index-url --no-emit-find-links \
		--output-file constraints.txt pyproject.toml

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
	find locales -name '*.mo' -delete
