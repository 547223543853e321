PY ?= .venv/bin/python

.PHONY: install test lint bench demo

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'

test:
	$(PY) -m pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	.venv/bin/lint-imports
	.venv/bin/vulture
	.venv/bin/hadolint Dockerfile

bench:
	$(PY) -m bench

demo:
	.venv/bin/promotion-bot demo
