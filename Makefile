# Two commands do all set-up on a fresh machine:
#   make run    the whole default DAG (real Fashion-MNIST, CPU)
#   make test   the test suite
# Both create .venv, install the pinned dependencies and install Fashion-MNIST if needed.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CORES ?= all
LOCAL_DATA := local/data.yaml
EXTRA_CONFIG := $(if $(wildcard $(LOCAL_DATA)),--configfile config.yaml $(LOCAL_DATA),)

.PHONY: setup run test dry-run benchmark clean-results slurm-up slurm-stop slurm-status test-slurm

setup: $(VENV)/.installed local/.fashion-mnist

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

local/.fashion-mnist: scripts/install-fashion-mnist.sh | $(VENV)/.installed
	bash scripts/install-fashion-mnist.sh $(PY)

run: setup
	$(VENV)/bin/snakemake --profile profiles/local --cores $(CORES) $(EXTRA_CONFIG)

dry-run: setup
	$(VENV)/bin/snakemake --profile profiles/local -n $(EXTRA_CONFIG)

test: setup
	$(PY) -m pytest

benchmark: setup
	$(PY) benchmarks/ensemble_speed.py

# A one-node SLURM cluster on this machine (root, Debian/Ubuntu; docs/cluster.md) and the test that
# runs the workflow through it with profiles/slurm. SLURM_TEST_TIMEOUT bounds the whole test: SIGINT
# (pytest then still stops the daemons it started), SIGKILL a minute later.
SLURM_TEST_TIMEOUT ?= 1500

slurm-up:
	SLURM_FAKE_GPUS=$${SLURM_FAKE_GPUS:-2} bash scripts/local-slurm.sh up

slurm-stop:
	bash scripts/local-slurm.sh stop

slurm-status:
	bash scripts/local-slurm.sh status

test-slurm: setup
	POINTWISE_REQUIRE_SLURM=1 timeout -s INT -k 60 $(SLURM_TEST_TIMEOUT) $(PY) -m pytest -m slurm tests/test_slurm.py
