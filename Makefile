# cifar-lessons: two commands do everything, set-up included.
#   make site   build the executed book and its slide decks into _build/html, executing only the
#               chapters whose code, the package or the settings below changed since they last ran
#   make test   run the test suite
#   (make site-fresh: the same from scratch, every chapter executed; what CI builds)
# The run the book executes is chosen by the same variables as the command line:
#   CIFAR_LESSONS_PROFILE (seed|quick|better), CIFAR_LESSONS_DATA, CIFAR_LESSONS_WEIGHTS, CIFAR_LESSONS_BACKBONE,
#   and CIFAR_LESSONS_FULL_SIZE=1 to train chapters 00b, 00c, 09 and 10 at full size too (about 30 min more)
# e.g. offline:  make site CIFAR_LESSONS_PROFILE=quick CIFAR_LESSONS_DATA=../shared/data/cifar10-jpeg.tar.gz CIFAR_LESSONS_WEIGHTS=none

SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
SYS_STAMP := .venv/.system-deps

# Chapters execute inside book/, so a relative data or weights path is made absolute here.
ifneq ($(CIFAR_LESSONS_DATA),)
override CIFAR_LESSONS_DATA := $(abspath $(CIFAR_LESSONS_DATA))
endif
ifneq ($(filter-out imagenet none None,$(CIFAR_LESSONS_WEIGHTS)),)
override CIFAR_LESSONS_WEIGHTS := $(abspath $(CIFAR_LESSONS_WEIGHTS))
endif
export CIFAR_LESSONS_PROFILE CIFAR_LESSONS_BACKBONE CIFAR_LESSONS_DATA CIFAR_LESSONS_WEIGHTS CIFAR_LESSONS_FULL_SIZE
export CIFAR_LESSONS_RUNS ?= $(CURDIR)/_build/runs
export CIFAR_LESSONS_BUILD := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: site site-fresh test setup sync clean compat dist lint

NPM_STAMP := node_modules/.installed

setup: $(VENV_STAMP) $(SYS_STAMP) $(NPM_STAMP)

$(VENV_STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

# graphviz draws the model diagram; Debian's chromium runs the browser tests; Debian's
# dataset-fashion-mnist is the Fashion-MNIST chapter's data offline (its four original files,
# which cifar_lessons copies into Keras's cache). The stamp depends on this Makefile, so a machine
# set up before a package joined the list checks again (apt-get runs only if one is missing).
$(SYS_STAMP): Makefile
	@mkdir -p .venv
	command -v dot >/dev/null && command -v chromium >/dev/null && test -d /usr/share/datasets/fashion-mnist || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz chromium dataset-fashion-mnist; }
	touch $@

# reveal.js, require.js and jQuery for the slide decks, and ONNX Runtime Web for the Try the
# classifier page, served from the site (no CDN).
$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

sync: $(VENV_STAMP)
	.venv/bin/jupytext --sync book/*.py

GUARD := $(PY) scripts/full_disk_guard.py --writing $(CURDIR)/_build --

site: setup
	# The stale chapters run first, two at a time, into the execution cache that the book and decks
	# read (scripts/execute_chapters.py says what makes a chapter stale). Sphinx then reads every
	# page again, which takes seconds: it goes by the sources' times, so it would keep the page of a
	# chapter re-executed for a new package or setting, whose source did not change.
	# Each step runs through full_disk_guard.py: a full disk ends it in one line, not a traceback.
	rm -rf _build/html _build/jupyter_execute _build/.doctrees
	$(GUARD) $(PY) scripts/execute_chapters.py $(EXECUTE_FLAGS)
	$(GUARD) $(PY) scripts/copy_mathjax.py _build/mathjax/mathjax  # the formulas' MathJax, served by the site
	$(GUARD) .venv/bin/jupyter-book build . -W -n --keep-going
	# The Try the classifier page's model (the committed full-size one, else this build's quick
	# model, exported to ONNX), its test images and ONNX Runtime Web, into _build/html/demo
	$(GUARD) $(PY) scripts/build_demo.py
	$(GUARD) $(PY) scripts/build_slides.py
	@echo "site: $(CURDIR)/_build/html/index.html"

# From scratch: the execution cache, its manifest and the build's runs folder are emptied first.
site-fresh: EXECUTE_FLAGS := --fresh
site-fresh: site

# The sdist and the wheel, as a release publishes them (from a copy of the sources, so nothing
# stale in a build/ folder ships).
dist: $(VENV_STAMP)
	rm -rf _build/dist
	$(PY) -m build --outdir _build/dist .

# A second environment on the oldest supported versions (Colab's 2025 TensorFlow and Keras), into
# which tests/test_oldest_supported.py installs the package's wheel, as a notebook's first cell does.
COMPAT_STAMP := .venv-compat/.installed
compat: $(COMPAT_STAMP)

$(COMPAT_STAMP): requirements-colab.txt
	test -x .venv-compat/bin/python || python3 -m venv .venv-compat
	.venv-compat/bin/python -m pip install -q --upgrade pip
	.venv-compat/bin/python -m pip install -q -r requirements-colab.txt
	touch $@

# Lint and format first (ruff, configured in pyproject.toml): a style the tool keeps, not reviewers.
lint: $(VENV_STAMP)
	.venv/bin/ruff check cifar_lessons scripts benchmarks tests setup.py
	.venv/bin/ruff format --check cifar_lessons scripts benchmarks setup.py
	# The chapters: only names a cell defines or imports (display is IPython's), a name lost in an
	# edit fails here rather than halfway through a build.
	.venv/bin/ruff check --no-force-exclude --select F821 --config 'builtins = ["display"]' book/*.py

test: setup compat lint
	$(PY) -m pytest tests

clean:
	rm -rf _build
