# Two commands on a fresh machine: `make demo` and `make test`. Each creates .venv on first use.
PY := .venv/bin/python
PIP := .venv/bin/pip
# torch and torchvision must be installed as this pair; the CPU machines here carry these files on disk.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint clean

.venv/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PIP) install -q --upgrade pip
	$(PIP) install -q $(TORCH_PINS)
	$(PIP) install -q -e .
	touch $@

.venv/.installed-dev: .venv/.installed
	$(PIP) install -q -e '.[dev,bench]'
	touch $@

demo: .venv/.installed
	.venv/bin/mmalign demo

test: .venv/.installed-dev
	$(PY) -m pytest

lint: .venv/.installed-dev
	.venv/bin/ruff check mmalign tests

clean:
	rm -rf .venv runs
