# The README's commands, as make targets.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench clean

$(VENV)/bin/hub:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[test]'

demo: $(VENV)/bin/hub        ## harvest the bundled demo sources and serve the hub
	$(VENV)/bin/hub demo

test: $(VENV)/bin/hub        ## run the test suite
	$(VENV)/bin/pytest -q

lint: $(VENV)/bin/hub
	$(VENV)/bin/ruff check hub harvesters tests bench
	$(VENV)/bin/ruff format --check hub harvesters

bench: $(VENV)/bin/hub       ## the publish benchmark (1,000,000 rows; takes minutes)
	$(PY) bench/bench_publish.py

clean:
	rm -rf var .pytest_cache
