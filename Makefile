# Two commands do all set-up on a fresh clone: `make demo` and `make test`.
# Both create (once) and reuse the project's virtual environment in .venv and the
# emulator's own in .venv-emulator (moto and Sceptre need different jsonschema majors).
# uv (pinned, itself installed from PyPI into .venv-tools) creates them from the pinned
# requirements files, sharing one download cache; pip would take minutes on a fresh clone.
# The environments and node_modules are built side by side (a sub-make with -j); most of
# the set-up is compiling bytecode, so only what a command imports is compiled before it
# runs (see DEMO_UNCOMPILED). `make bench-setup` measures all of it from a fresh clone.

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

# What each command needs, built in parallel (output kept per target) before it runs.
DEMO_SETUP := $(VENV)/.installed $(EMULATOR_VENV)/.installed node_modules/.installed
TEST_SETUP := $(DEMO_SETUP) $(VENV)/.compiled $(EMULATOR_VENV)/.compiled \
	$(SCANNER_VENV)/.installed lint
SETUP_FLAGS := --no-print-directory -j4 --output-sync=target

.PHONY: demo test setup-demo setup-test lint format emulator clean

demo:
	@$(MAKE) $(SETUP_FLAGS) setup-demo
	$(VENV)/bin/python -m scripts.demo

# An environment that make test creates is compiled whole at once (DEMO_UNCOMPILED emptied).
test:
	@$(MAKE) $(SETUP_FLAGS) DEMO_UNCOMPILED= setup-test
	$(VENV)/bin/python -m pytest

setup-demo: $(DEMO_SETUP)
	@:
setup-test: $(TEST_SETUP)
	@:

# Rollout floor, monthly cost and emulator launch time, as one table (bench/; not tests).
.PHONY: bench
bench: $(VENV)/.installed $(EMULATOR_VENV)/.installed
	$(VENV)/bin/python -m bench.run

# Set-up time as a new user meets it: `make demo` in a fresh clone with empty package caches,
# then `make test` in another with warm ones, split into phases (bench/setup.py; ~10 min).
.PHONY: bench-setup
bench-setup: $(VENV)/.installed
	$(VENV)/bin/python -m bench.setup

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

# pip --target: uv is one static binary; a virtual environment around it cost seconds more.
$(UV):
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--target $(TOOLS_VENV) uv==$(UV_VERSION)

# Packages only cfn-lint imports (make test's scanners and template tests), never make demo.
# Compiling bytecode is most of a fresh set-up (uv installs .venv in 4 s; compiling it takes
# 30 s of CPU, two thirds of that aws_cdk). aws_cdk stays: the demo's one synthesis would
# compile what it imports on one core, on the demo's critical path (measured: ~20 s).
DEMO_UNCOMPILED := sympy|mpmath

# A virtual environment of $(PYTHON) holding exactly a pinned requirements file.
define uv_venv
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(1)
	$(UV) pip install --quiet --python $(1)/bin/python -r $(2)
endef

# Bytecode for an environment, as pip compiles it (else every process compiles what it imports,
# again and again when PYTHONDONTWRITEBYTECODE is set), except the packages matching $(2) and
# the packages' own test folders: nothing imports those (a third of .venv-emulator's compile
# CPU: 30 s -> 21 s measured; sympy's 10 s -> 7 s), and an import would compile one anyway.
# What another environment compiled from the same file (uv links a package that two hold to
# one file in its cache) is linked, not compiled again (scripts/compile_bytecode.py): the
# emulator's and the scanners' environments compile after .venv and reuse its bytecode.
NEVER_COMPILED := /tests/
compile = $(1)/bin/python scripts/compile_bytecode.py $(1) $(if $(3),--reuse $(3)) \
	--skip '$(NEVER_COMPILED)$(if $(2),|/site-packages/($(2))/)'

# An environment's .installed stamp holds "whole" when nothing was left uncompiled.
stamp_compiled = $(if $(DEMO_UNCOMPILED),touch $@,echo whole > $@)

$(VENV)/.installed: requirements.txt pyproject.toml | $(UV)
	$(call uv_venv,$(VENV),requirements.txt)
	$(UV) pip install --quiet --python $(VENV)/bin/python --no-deps -e .
	$(call compile,$(VENV),$(DEMO_UNCOMPILED))
	$(stamp_compiled)

# The other environments' packages (.packages) install alongside .venv; their bytecode waits
# for .venv's, to reuse it.
$(EMULATOR_VENV)/.packages: emulator/requirements.txt | $(UV)
	$(call uv_venv,$(EMULATOR_VENV),emulator/requirements.txt)
	touch $@

$(EMULATOR_VENV)/.installed: $(EMULATOR_VENV)/.packages | $(VENV)/.installed
	$(call compile,$(EMULATOR_VENV),$(DEMO_UNCOMPILED),$(VENV))
	$(stamp_compiled)

$(SCANNER_VENV)/.packages: scanners/requirements.txt | $(UV)
	$(call uv_venv,$(SCANNER_VENV),scanners/requirements.txt)
	touch $@

$(SCANNER_VENV)/.installed: $(SCANNER_VENV)/.packages | $(VENV)/.compiled
	$(call compile,$(SCANNER_VENV),,$(VENV))
	touch $@

# What make demo left uncompiled, for the tests (compileall skips what is up to date, but
# checking a whole environment still costs ~4 s of CPU: skipped when .installed says "whole").
$(VENV)/.compiled $(EMULATOR_VENV)/.compiled: %/.compiled: %/.installed
	grep -qsx whole $< || $(call compile,$*,,$(filter-out $*,$(VENV)))
	touch $@
$(EMULATOR_VENV)/.compiled: | $(VENV)/.compiled

# sceptre-cdk-handler refuses to synthesize unless npm lists cdk-assets (package-lock.json).
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) $(EMULATOR_VENV) $(SCANNER_VENV) $(TOOLS_VENV) node_modules .pytest_cache .ruff_cache .dump *.egg-info
