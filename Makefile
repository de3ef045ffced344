# Thin wrapper over Meson/Ninja for the README's commands.
BUILD ?= build
MESON_FLAGS ?=

.PHONY: all deps build test unit demo bench clean assets

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_FLAGS)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Everything: unit tests, integration tests with real clients, QEMU boots.
test: deps build
	@bash scripts/run-tests.sh $(BUILD)

unit: build
	meson test -C $(BUILD) --suite unit --print-errorlogs

demo: deps build
	@bash scripts/demo.sh $(BUILD)

bench: deps build
	@bash bench/run.sh $(BUILD)

assets:
	@bash scripts/test-assets.sh

clean:
	rm -rf $(BUILD)
