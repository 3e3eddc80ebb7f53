# The set-up commands: `make demo` and `make test` work on a fresh Debian 12 machine from nothing.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test test-asan demo bench fmt fmt-check lint deploy-check clean

all: build

deps:
	@ci/scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKFP_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ci/scripts/test.sh $(BUILD_DIR)

test-asan: deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DKFP_WERROR=ON -DKFP_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ci/scripts/test.sh $(ASAN_DIR)

demo: build
	ci/scripts/demo.sh $(BUILD_DIR)

bench: build
	ci/scripts/bench.sh $(BUILD_DIR)

fmt: deps
	@ci/scripts/install-deps.sh --dev
	ci/scripts/format.sh fix

fmt-check:
	@ci/scripts/install-deps.sh --dev
	ci/scripts/format.sh check

lint: build
	@ci/scripts/install-deps.sh --dev
	ci/scripts/lint.sh $(BUILD_DIR)

deploy-check: build
	ci/scripts/check-deploy.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
