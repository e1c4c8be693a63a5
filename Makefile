# FusionGAN: `make run` starts the app, `make test` runs the whole test suite, `make test-fast`
# its quick lane (no real data, app processes, Chromium or PostgreSQL; markers in pyproject.toml).
# Each target installs what it needs: Debian packages (apt-get), a .venv with requirements.txt
# (torch pinned to the CPU wheel 2.13.0), and for tests pytest + playwright (Debian's chromium).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_DISABLE_TELEMETRY := 1
export PYTHON

.PHONY: run test test-fast train evaluate survey system-packages system-packages-test bench stats clean-cache

run: system-packages $(VENV)/.installed
	$(PY) app.py

test: system-packages-test $(VENV)/.installed-test
	$(PY) -m pytest

# The inner loop: unit tests only, under 2 minutes on a warm cache (needs no data, chromium or postgresql).
test-fast: system-packages $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow and not browser and not postgres and not data"

system-packages:
	@scripts/install-system-packages.sh libfluidsynth3

system-packages-test:
	@scripts/install-system-packages.sh libfluidsynth3 chromium postgresql

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

# Training every system on the full data (writes checkpoints/ and reports/; resumable).
train: $(VENV)/.installed
	$(PY) -m fusion train --preset paper

# Table I, sequential measures, novelty and the automatic judge -> reports/ (PNGs need chromium).
evaluate: system-packages-test $(VENV)/.installed
	$(PY) -m fusion evaluate

# The listening test's clip pool (into .survey/survey.sqlite, or DATABASE_URL).
survey: system-packages $(VENV)/.installed
	$(PY) -m listening_test prepare

# Benchmarks (numbers go to docs/performance.md) and data statistics.
bench: system-packages $(VENV)/.installed
	$(PY) bench/bench_load.py
	$(PY) bench/bench_render.py
	$(PY) bench/bench_rollout.py
	$(PY) bench/bench_metrics.py
	$(PY) bench/bench_demo.py
	$(PY) bench/bench_tilt.py
	$(PY) bench/bench_survey.py
	$(PY) bench/bench_survey_queries.py
	$(PY) bench/bench_seeds.py

stats: $(VENV)/.installed
	$(PY) -m fusion data stats

clean-cache:
	rm -rf .cache
