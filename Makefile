# Frontera. `make run` serves the demo; `make test` runs the whole suite. See README.md.
SHELL := /bin/bash
UV := $(shell bash scripts/ensure-uv.sh)
PY := $(UV) run --frozen python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_WORKERS ?= 2
BANDIT_DIRS := accounts api config crossings privacy registry reports transit
# Synthetic keys (the test ones from pyproject.toml) so manage.py can load settings for checks.
CHECK_ENV := SECRET_KEY=check-only-secret-key-not-for-production-0123456789 \
  FIELD_ENCRYPTION_KEYS=t1:dGVzdC1maWVsZC1rZXktMzItYnl0ZXMtbG9uZyEhISE= \
  BLIND_INDEX_KEY=dGVzdC1ibGluZC1pbmRleC1rZXktMzItYnl0ZXMhISE= \
  PSEUDONYM_KEY=dGVzdC1wc2V1ZG9ueW0ta2V5LTMyLWJ5dGVzLW9rISE= \
  CARD_SIGNING_KEY=dGVzdC1jYXJkLXNpZ25pbmcta2V5LTMyLWJ5dGVzISE= \
  DATABASE_URL=sqlite:////tmp/frontera-check.sqlite3

.PHONY: run install env migrate demo test test-pg test-sqlite lint lint-fast audit sbom compose-check messages bench worker beat clean schema

install:
	$(UV) sync --frozen

.env:
	$(UV) run --frozen python -m config.keys > .env
	@echo "wrote .env with fresh local keys (demo mode)"

env: .env

migrate: install env
	$(PY) manage.py migrate --noinput

demo: migrate
	-$(PY) manage.py compilemessages --ignore=.venv >/dev/null 2>&1
	$(PY) manage.py load_reference_data
	$(PY) manage.py seed_demo

run: demo
	@echo ""
	@echo "Frontera demo on http://$(HOST):$(PORT)/  (synthetic data only)"
	@$(PY) manage.py demo_logins
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install lint-fast
	bash scripts/test-services.sh
	$(MAKE) --no-print-directory test-pg test-sqlite

test-pg:
	$(UV) run --frozen playwright --version >/dev/null
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/frontera \
	  $(UV) run --frozen pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(PYTEST_ARGS)

test-sqlite:
	DATABASE_URL=sqlite:////tmp/frontera-smoke.sqlite3 \
	  $(UV) run --frozen pytest -m smoke -p no:cacheprovider --create-db $(PYTEST_ARGS)

# The committed OpenAPI contract of the partner API (tests/api/test_schema.py fails when stale).
schema: install
	$(CHECK_ENV) $(PY) manage.py spectacular --api-version v1 --file api/schema.yaml

# Fast gates, run before every test run: ruff, bandit (new findings only, against the reviewed
# .bandit-baseline.json) and migrations in step with the models (SECURITY.md CF-3).
lint-fast: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen bandit -q -r $(BANDIT_DIRS) -ll -b .bandit-baseline.json
	$(CHECK_ENV) $(PY) manage.py makemigrations --check --dry-run

# Everything: the fast gates, the dependency audit (honest "NOT AUDITED" offline) and the SBOM.
lint: lint-fast audit sbom

audit:
	UV=$(UV) bash scripts/audit.sh

sbom:
	UV=$(UV) bash scripts/sbom.sh

messages:
	$(PY) manage.py makemessages -l es -l en --ignore=.venv --ignore=staticfiles --ignore=tests --no-obsolete
	$(PY) manage.py compilemessages --ignore=.venv

compose-check:
	@# docker-compose.yml reads .env; check it with the documented example when there is none.
	@created=; if [ ! -f .env ]; then cp .env.example .env; created=1; fi; \
	  if docker compose version >/dev/null 2>&1; then DC="docker compose"; else DC="docker-compose"; fi; \
	  if [ "$$DC" = docker-compose ] && ! command -v docker-compose >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q docker-compose >/dev/null; fi; \
	  POSTGRES_PASSWORD=$${POSTGRES_PASSWORD:-compose-check-only} $$DC config --quiet; rc=$$?; \
	  if [ -n "$$created" ]; then rm -f .env; fi; \
	  if [ $$rc -eq 0 ]; then echo "docker-compose.yml is valid"; fi; exit $$rc

worker:
	$(UV) run --frozen celery -A config worker -l info

beat:
	$(UV) run --frozen celery -A config beat -l info

clean:
	rm -rf .venv staticfiles db.sqlite3
