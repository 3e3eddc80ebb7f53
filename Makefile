# The set-up commands: `make demo` and `make test` work on a fresh Debian 12 machine from nothing.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
# The shipped build: Release, every library but glibc linked statically (cmake/static_link.cmake).
RELEASE_DIR ?= build-release
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build release test test-releases test-asan demo bench image image-arm64 fmt fmt-check lint deploy-check clean

all: build

deps:
	@ci/scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKFP_WERROR=ON $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ci/scripts/test.sh $(BUILD_DIR)

# The whole integration suite once more per KFP release the emulator imitates besides the default
# (1.8.5, 2.0.5, 2.3.0, 2.5.0, 2.15.0; `make test` runs 2.17.0 and CI a subset per release).
test-releases: build
	ci/scripts/test-releases.sh $(BUILD_DIR)

# clang, so that this tree also holds the libFuzzer targets (ci/scripts/fuzz.sh $(ASAN_DIR)) and the
# code is compiled by a second compiler with warnings as errors.
test-asan: deps
	@ci/scripts/install-deps.sh --dev
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DKFP_WERROR=ON \
	  -DKFP_SANITIZE=ON -DKFP_FUZZ=ON
	cmake --build $(ASAN_DIR) -j $(JOBS)
	ci/scripts/test.sh $(ASAN_DIR)

demo: build
	ci/scripts/demo.sh $(BUILD_DIR)

release: deps
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DKFP_WERROR=ON $(CMAKE_FLAGS)

# Benchmarks measure the binary that ships: the Release build.
bench: release
	ci/scripts/bench.sh $(RELEASE_DIR)

# The image, built for real from the Dockerfile with buildah (no Docker engine needed), then tested:
# version and validate as uid 65532 in its root, size, SBOM, labels (tests/integration/test_image_build.py).
image: build
	@ci/scripts/install-deps.sh --image
	ci/scripts/image-build.sh --arch amd64
	ci/scripts/image-test.sh $(BUILD_DIR) amd64

# The arm64 image, cross-compiled by the same Dockerfile; its binary runs under qemu-aarch64-static.
image-arm64: build
	@ci/scripts/install-deps.sh --image
	ci/scripts/image-build.sh --arch arm64
	ci/scripts/image-test.sh $(BUILD_DIR) arm64

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
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(RELEASE_DIR)
