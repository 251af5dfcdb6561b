# Two entry points, both from a fresh Debian machine with Python 3.11:
#   make demo   set up .venv and run the main job
#   make test   set up .venv with test dependencies and run the whole suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
FASHION_DIR := /usr/share/datasets/fashion-mnist

.PHONY: demo test venv data browser bench clean wheel-check docs

$(PY):
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed; installing python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv && \
	  rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PIP) install -q --upgrade pip

venv: $(PY)

# Fashion-MNIST comes from Debian's package where apt is available (root); honed also
# finds it in $$HONED_DATA or its cache, and says how to get it when it is missing.
data:
	@if [ ! -f $(FASHION_DIR)/train-images-idx3-ubyte.gz ] && command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist) \
	  || echo "warning: could not install dataset-fashion-mnist"; fi

# Headless Chromium for the page tests (lab gallery, study report): Debian's packages, as root.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	    || echo "warning: could not install chromium; page tests will be skipped"; \
	  else echo "note: chromium not installed; page tests will be skipped"; fi; fi

demo: venv data
	$(PIP) install -q -e '.[all]'
	$(VENV)/bin/honed train examples/fashion_mlp.toml --out runs/

test: venv data browser
	$(PIP) install -q -e '.[test,ray]' 'torch==2.13.0'
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -q

# The built package in a fresh venv: honed --version, a prediction on raw Fashion-MNIST pixels,
# honed lab softmax --quick and an ONNX export (.ci/wheel-check).
wheel-check: data
	PYTHON=$(PYTHON) .ci/wheel-check

# The API documentation (mkdocs + mkdocstrings) into site/, warnings as errors.
docs: venv
	$(PIP) install -q -e '.[docs]'
	$(VENV)/bin/mkdocs build --strict

bench: venv data
	$(PIP) install -q -e '.[test,reference]'
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) runs build dist site *.egg-info .pytest_cache
