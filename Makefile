# The two commands of the README: `make demo` and `make test`. Everything they need is built
# here; nothing relies on what was installed by hand.

CARGO ?= cargo
EXAMPLES := $(basename $(notdir $(wildcard examples/*.rs)))

.PHONY: demo test fmt lint rust-test bench

## Builds what it needs and runs a tour of the features (every example).
demo:
	$(CARGO) build --release --examples
	@for ex in tour $(filter-out tour,$(EXAMPLES)); do \
		echo; echo "==> example $$ex"; \
		$(CARGO) run --quiet --release --example $$ex || exit 1; \
	done

## Format check, clippy with warnings denied, every test and doctest.
test: fmt lint rust-test

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

rust-test:
	$(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

## The benchmarks against the peers (about 4 minutes: the thread executor, then the process
## executor); tables land in docs/benchmarks.md by hand.
bench:
	$(CARGO) bench --locked --bench thread
	$(CARGO) bench --locked --bench process
