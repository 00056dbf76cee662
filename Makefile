# eprop: one command for the main job, one for every test.
#   make demo   builds the release library, installs the Python package and what it needs,
#               trains the built-in sine-wave task (200 iterations), prints the loss of each
#               iteration and writes out/sine_waves.png
#   make test   every Swift, C and Python test
PYTHON ?= python3
LIB := .build/release/libeprop.so
CFLAGS_STRICT := -std=c11 -Wall -Wextra -Werror -pedantic
ITERATIONS ?= 200

.PHONY: demo test lib python swift-test c-example abi pytest fixtures bench clean

demo: python
	$(PYTHON) examples/sine_waves.py --iterations $(ITERATIONS) --out out

test: swift-test python c-example abi pytest

lib:
	swift build -c release --product eprop
	mkdir -p python/eprop/lib
	# Copy, then rename: a running process keeps its mapped copy intact.
	cp $(LIB) python/eprop/lib/.libeprop.so.tmp
	mv -f python/eprop/lib/.libeprop.so.tmp python/eprop/lib/libeprop.so

# Installs the package in place (editable), with numpy and matplotlib.
python: lib
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e python

swift-test:
	swift test

c-example: lib
	mkdir -p .build/c
	cc $(CFLAGS_STRICT) -IInclude examples/c/demo.c -o .build/c/demo \
	    -L.build/release -leprop -Wl,-rpath,$(CURDIR)/.build/release
	./.build/c/demo

abi: lib
	$(PYTHON) tools/check_abi.py
	$(PYTHON) tools/test_check_abi.py

pytest: python
	$(PYTHON) -m pytest -q python/tests

# Needs NEST 3.10 (pip install nest-simulator==3.10.0); rewrites Tests/Fixtures/nest.
fixtures:
	$(PYTHON) tools/make_nest_fixtures.py

# Needs NEST 3.10: eprop and NEST side by side, printing the wall-time ratio.
bench: python
	$(PYTHON) bench/sine_waves_vs_nest.py

clean:
	rm -rf .build python/eprop/lib out
