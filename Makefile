# Thin wrappers: the build is CMake's, the tests CTest's.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
MLCTL := $(BUILD_DIR)/bin/mlctl

.PHONY: all setup configure build test demo bench format clean

all: build

setup:
	sh scripts/setup.sh

configure: setup
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The whole test suite: unit tests and CLI tests against the built binary.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The main job, end to end on real data.
demo: build
	MLCTL=$(abspath $(MLCTL)) sh examples/quickstart/run.sh
	MLCTL=$(abspath $(MLCTL)) sh examples/drift/run.sh

# Benchmarks (not part of CI); see tests/bench/README.md.
bench: build
	MLCTL=$(abspath $(MLCTL)) sh tests/bench/run_all.sh

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD_DIR)
