# Thin wrapper over Meson/Ninja for the README's commands.
BUILD ?= build
MESON_FLAGS ?=

.PHONY: all deps build test test-quick unit demo bench soak clean assets

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Everything (CI's .ci/run): unit tests, integration tests with real clients and QEMU
# boots; the same again built with ASan+UBSan ($(BUILD)-asan); every fuzz target for
# 60 s; the integration tests with pxed under valgrind. One phase alone, e.g.
# `make test PXED_TEST_PHASES=asan` (scripts/run-tests.sh lists the switches).
test: deps build
	@bash scripts/run-tests.sh $(BUILD)

# The normal build's tests only (the first phase of `make test`).
test-quick: deps build
	@PXED_TEST_PHASES=normal bash scripts/run-tests.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

demo: deps build
	@bash scripts/demo.sh $(BUILD)

bench: deps build
	@bash bench/run.sh $(BUILD)

# 30 minutes of mixed DHCP, TFTP and HTTP load on one pxed (SOAK_MINUTES to change it):
# fails on any failed operation, error, descriptor or memory growth. Not part of `make test`.
soak: deps build
	@bash bench/soak/soak.sh $(BUILD)

assets:
	@bash scripts/test-assets.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan
