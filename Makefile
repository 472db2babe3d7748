# Everyday commands. `make run` and `make test` install the Debian packages they need first.
JOBS ?= $(shell nproc)
CTEST_ARGS ?=

.PHONY: deps build run test test-fast asan tsan bench format clean

deps:
	@scripts/install-deps

build: deps
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS)

run: build
	build/release/examples/nexmark_max_bid

test: build
	ctest --test-dir build/release --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# The same without the suites labelled `slow` (CI still runs them through `make test`).
test-fast: build
	ctest --test-dir build/release --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

asan: deps
	cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

tsan: deps
	cmake --preset tsan >/dev/null
	cmake --build build/tsan -j $(JOBS)
	ctest --test-dir build/tsan --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

bench: build
	build/release/src/cli/sluice bench

format:
	git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf build
