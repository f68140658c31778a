# Two commands: `make run` (install, demo data, serve) and `make test` (install, lint, type-check,
# layering contracts, tests).
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: run test install lint typecheck layers pytest captures clean

$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --target .tools uv==$(UV_VERSION)

.venv/.installe: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	touch $@

install: .venv/.installe

run: install
	.venv/bin/portail demo
	.venv/bin/portail serve

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

typecheck: install
	.venv/bin/mypy

# The import contracts of pyproject.toml ([tool.importlinter]): who may import whom.
layers: install
	.venv/bin/lint-imports --no-cache --no-logo

pytest: install
	.venv/bin/pytest

test: lint typecheck layers pytest

# docs/captures/*.png from the demo data (needs Debian's chromium; PORTAIL_DATABASE_URL or embedded).
captures: install
	.venv/bin/python scripts/captures.py

clean:
	rm -rf .venv .tools
