# stanford.trusted_mail: the two commands of the README, and their parts.
#   make demo   provision a throwaway systemd container into a trusted mail server and
#               print its compliance summary (make demo-clean removes it)
#   make test   lint, build, unit tests and every molecule scenario (what CI runs)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= $(CURDIR)/.venv
RELEASES ?= bookworm trixie
# Longest first, so the parallel runner ends with the short ones.
ALL_SCENARIOS := $(sort $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml))))
LONG_SCENARIOS := default maillog faults compliance securemail antivirus baseline
SCENARIOS ?= $(foreach s,$(LONG_SCENARIOS),$(filter $(s),$(ALL_SCENARIOS))) $(filter-out $(LONG_SCENARIOS),$(ALL_SCENARIOS))
# Debian 13, the second platform: the end-to-end scenario (SASL off; Dovecot 2.4's
# configuration, which SASL needs, is not written for yet). It runs right after the same
# scenario on Debian 12, in the same slot (they share container names and addresses),
# while the other slots go on.
TRIXIE_SCENARIOS ?= default
comma := ,
MOLECULE_JOBS = $(foreach s,$(SCENARIOS),$(if $(filter $(s),$(TRIXIE_SCENARIOS)),$(s)$(comma)$(s)@trixie,$(s)))
COLLECTION_LINK := build/collections/ansible_collections/stanford/trusted_mail

export CONTAINERS_CONF := $(CURDIR)/tests/harness/containers.conf
# tm_podman, how the tests reach their containers (podman exec with pipelining)
export ANSIBLE_CONNECTION_PLUGINS := $(CURDIR)/tests/harness/connection_plugins
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/build/collections
export PATH := $(VENV)/bin:$(PATH)
export PY_COLORS := 0
export ANSIBLE_FORCE_COLOR := 0

.PHONY: help setup host venv collection images networks demo demo-clean test lint build unit molecule clean

help:
	@echo "make demo | make demo-clean | make test   (see README.md)"

setup: host venv collection images networks

host:
	tests/harness/host-setup.sh

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

collection:
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

images: host
	tests/harness/build-images.sh $(RELEASES)

networks: host
	tests/harness/networks.sh

demo: host venv collection networks
	tests/harness/build-images.sh bookworm
	tests/harness/demo.sh

demo-clean:
	tests/harness/demo.sh --clean

test: setup
	$(MAKE) --no-print-directory lint build unit
	$(MAKE) --no-print-directory molecule

lint: venv collection
	yamllint --strict .
	ansible-lint --profile production --offline
	python tests/harness/traceability.py --check

build: venv
	rm -rf build/dist && mkdir -p build/dist
	ansible-galaxy collection build --force --output-path build/dist .
	ansible-galaxy collection install --force -p build/dist/installed build/dist/stanford-trusted_mail-*.tar.gz
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/dist/installed ansible-doc -t module \
	  $(addprefix stanford.trusted_mail.,$(basename $(notdir $(wildcard plugins/modules/*.py)))) >/dev/null
	for role in $(notdir $(wildcard roles/*)); do \
	  ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/dist/installed ansible-doc -t role stanford.trusted_mail.$$role >/dev/null; done
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/dist/installed ansible-doc -t lookup stanford.trusted_mail.campus_networks stanford.trusted_mail.input_type_errors >/dev/null
	ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/build/dist/installed ansible-doc -t filter \
	  $(addprefix stanford.trusted_mail.,$(basename $(notdir $(wildcard plugins/filter/*.yml)))) >/dev/null
	tests/harness/ee-context.sh --check

unit: venv collection
	python -m pytest tests/unit

molecule: setup
	tests/harness/run-molecule.sh $(MOLECULE_JOBS)

clean: demo-clean
	rm -rf build .cache
