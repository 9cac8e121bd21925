# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
# Both create (once) and reuse the project's virtual environment in .venv and the
# emulator's own in .venv-emulator (moto and Sceptre need different jsonschema majors).
# uv (pinned, itself installed from PyPI into .venv-tools) creates them from the pinned
# requirements files, sharing one download cache; pip would take minutes on a fresh clone.

PYTHON ?= python3
VENV := .venv
EMULATOR_VENV := .venv-emulator
SCANNER_VENV := .venv-scanners
TOOLS_VENV := .venv-tools
UV_VERSION := 0.13.8
UV := $(TOOLS_VENV)/bin/uv
EMULATOR_PORT ?= 5055
# jsii (the CDK drift-monitor stack) warns on every synth that Node 20 is past end of life.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION ?= 20
export JSII_DEPRECATED ?= quiet

.PHONY: demo test lint format emulator clean

demo: $(VENV)/.installed $(EMULATOR_VENV)/.installed node_modules/.installed
	$(VENV)/bin/python -m scripts.demo

test: $(VENV)/.installed $(EMULATOR_VENV)/.installed $(SCANNER_VENV)/.installed node_modules/.installed lint
	$(VENV)/bin/python -m pytest

# Rollout floor, monthly cost and emulator launch time, as one table (bench/; not tests).
.PHONY: bench
bench: $(VENV)/.installed $(EMULATOR_VENV)/.installed
	$(VENV)/bin/python -m bench.run

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The emulator in the foreground on 127.0.0.1:$(EMULATOR_PORT), seeded; Ctrl-C stops it.
# In another shell: export AWS_ENDPOINT_URL=http://127.0.0.1:$(EMULATOR_PORT)
#   AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing, then sceptre launch -y dev
emulator: $(EMULATOR_VENV)/.installed
	$(EMULATOR_VENV)/bin/python emulator/server.py --port $(EMULATOR_PORT)

$(UV):
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# A virtual environment of $(PYTHON) holding exactly a pinned requirements file, compiled
# to bytecode as pip does (else every first import compiles, and warns, at test time).
define uv_venv
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(1)
	$(UV) pip install --quiet --compile-bytecode --python $(1)/bin/python -r $(2)
endef

$(VENV)/.installed: requirements.txt pyproject.toml | $(UV)
	$(call uv_venv,$(VENV),requirements.txt)
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	touch $@

$(EMULATOR_VENV)/.installed: emulator/requirements.txt | $(UV)
	$(call uv_venv,$(EMULATOR_VENV),emulator/requirements.txt)
	touch $@

$(SCANNER_VENV)/.installed: scanners/requirements.txt | $(UV)
	$(call uv_venv,$(SCANNER_VENV),scanners/requirements.txt)
	touch $@

# sceptre-cdk-handler refuses to synthesize unless npm lists cdk-assets (package-lock.json).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(EMULATOR_VENV) $(SCANNER_VENV) $(TOOLS_VENV) node_modules .pytest_cache .ruff_cache .dump *.egg-info
