#!/usr/bin/env bash
# `make test-pythons`: the one abi3 wheel in DIST (from `make wheel`) on every CPython from 3.9
# to 3.13 found on this machine: for each, a fresh venv (.venv-py3.X), the wheel and
# requirements-test-pythons.txt installed in it, and the Python test suite run there
# (`python -m pytest -q tests`, the package imported from the venv, not from python/).
#
# An interpreter is looked for as `python3.X` on PATH, then under $PYENV_ROOT (~/.pyenv)
# /versions/3.X*/bin, /usr/local/bin and /usr/bin; it counts only if it runs and is 3.X. What is
# found, run and missing is printed plainly, and so is, for each version, every test that did not
# run there and why. Exit status: non-zero if no version was found or any run failed.
#
# Usage: tests/pythons.sh DIST
set -u
cd "$(dirname "$0")/.."

DIST=${1:-dist}
# PYTHONS="3.9 3.12" (the environment) runs those only.
VERSIONS=${PYTHONS:-3.9 3.10 3.11 3.12 3.13}
REQUIREMENTS=requirements-test-pythons.txt
# What no version runs here: the type checkers check the stubs, the same for every interpreter
# (they need mypy and pyright, which `make test` installs in .venv).
CHECKERS=("tests/test_typing.py::test_checkers_reject_each_wrong_use[mypy]" "tests/test_typing.py::test_checkers_reject_each_wrong_use[pyright]")

shopt -s nullglob
wheels=("$DIST"/parallel_rs-*-abi3-*.whl)
if [ ${#wheels[@]} -ne 1 ]; then
    echo "test-pythons: expected exactly one abi3 wheel in $DIST/ (make wheel), found ${#wheels[@]}: ${wheels[*]:-none}"
    exit 2
fi
WHEEL=${wheels[0]}

# The interpreter of version $1, or nothing.
find_python() {
    local v=$1 candidates=() c
    c=$(command -v "python$v" 2>/dev/null) && candidates+=("$c")
    # Newest patch release first.
    for c in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v"* 2>/dev/null | sort -rV); do
        candidates+=("$c/bin/python$v")
    done
    candidates+=("/usr/local/bin/python$v" "/usr/bin/python$v")
    for c in "${candidates[@]}"; do
        [ -x "$c" ] || continue
        # The interpreter itself (a pyenv shim on PATH answers with the one it runs).
        if [ "$("$c" -c 'import sys, venv; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$v" ]; then
            "$c" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    return 1
}

found=()
missing=()
declare -A PY
for v in $VERSIONS; do
    if p=$(find_python "$v"); then
        found+=("$v")
        PY[$v]=$p
    else
        missing+=("$v")
    fi
done
echo "test-pythons: the wheel $WHEEL"
for v in "${found[@]}"; do
    echo "test-pythons: found CPython $v: ${PY[$v]} ($("${PY[$v]}" -c 'import platform; print(platform.python_version())'))"
done
echo "test-pythons: missing: ${missing[*]:-none} (looked for python3.X on PATH, in ${PYENV_ROOT:-$HOME/.pyenv}/versions, /usr/local/bin, /usr/bin)"
if [ ${#found[@]} -eq 0 ]; then
    echo "test-pythons: no CPython 3.9-3.13 found"
    exit 2
fi

declare -A RESULT NOTRUN TOOK FAILURES
ran=()
failed=0
start_all=$SECONDS
for v in "${found[@]}"; do
    start=$SECONDS
    venv=.venv-py$v
    echo
    echo "==> CPython $v: a fresh $venv, the wheel and $REQUIREMENTS"
    rm -rf "$venv"
    notrun=()
    if ! "${PY[$v]}" -m venv "$venv" || ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL" -r "$REQUIREMENTS"; then
        RESULT[$v]="FAILED: the venv or its install failed"
        failed=1
        TOOK[$v]=$((SECONDS - start))
        continue
    fi
    args=(-q -p no:cacheprovider tests)
    for t in "${CHECKERS[@]}"; do args+=(--deselect "$t"); done
    notrun+=("tests/test_typing.py::test_checkers_reject_each_wrong_use[mypy,pyright] NOT run: the type checkers run in \`make test\` only")
    # The site's pages (tests/test_docs.py) need the tools and peers of requirements-dev.txt
    # (joblib, the doctests of the crate): they run in `make test`, said here.
    args+=(--ignore tests/test_docs.py)
    notrun+=("tests/test_docs.py NOT run: the documentation's code blocks run in \`make test\` only (CPython 3.11, with the peers they show)")
    # The cluster engines: without either, tests/test_cluster.py (both engines' tests) is left out, said here.
    absent=()
    for engine in distributed ray; do
        "$venv/bin/python" -c "import $engine" >/dev/null 2>&1 || absent+=("$engine")
    done
    if [ ${#absent[@]} -gt 0 ]; then
        args+=(--ignore tests/test_cluster.py)
        notrun+=("tests/test_cluster.py NOT run: ${absent[*]} not installable for CPython $v (no pin in $REQUIREMENTS)")
    fi
    where=$("$venv/bin/python" -c 'import parallel._parallel as p; print(p.__file__)')
    echo "==> CPython $v: the extension is $where"
    case $where in
        "$PWD/$venv"/*) ;;
        *) RESULT[$v]="FAILED: parallel imported from $where, not from $venv"; failed=1; TOOK[$v]=$((SECONDS - start)); continue ;;
    esac
    ran+=("$v")
    "$venv/bin/python" -m pytest "${args[@]}" 2>&1 | tee "$venv/pytest.log"
    status=${PIPESTATUS[0]}
    summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed|error)' "$venv/pytest.log" | tail -1 | sed 's/^=* *//; s/ *=*$//')
    if [ "$status" -eq 0 ]; then RESULT[$v]="passed: $summary"; else RESULT[$v]="FAILED (pytest exit $status): $summary"; failed=1; fi
    # Which tests failed, and pytest's one line on why, repeated in the summary (the log above
    # may be cut off where it is read).
    FAILURES[$v]=$(grep -E '^(FAILED|ERROR) ' "$venv/pytest.log" || true)
    NOTRUN[$v]=$(printf '%s\n' "${notrun[@]}")
    TOOK[$v]=$((SECONDS - start))
done

echo
echo "test-pythons: summary (the wheel $(basename "$WHEEL"))"
echo "test-pythons: found: ${found[*]}; ran the tests on: ${ran[*]:-none}; missing: ${missing[*]:-none}"
for v in "${found[@]}"; do
    echo "$v: ${RESULT[$v]} (${TOOK[$v]} s with its venv)"
    if [ -n "${FAILURES[$v]:-}" ]; then
        while IFS= read -r line; do echo "$v: $line"; done <<<"${FAILURES[$v]}"
    fi
    if [ -n "${NOTRUN[$v]:-}" ]; then
        while IFS= read -r line; do echo "$v: $line"; done <<<"${NOTRUN[$v]}"
    fi
done
for v in "${missing[@]}"; do echo "$v: NOT run: no CPython $v on this machine"; done
echo "test-pythons: $((SECONDS - start_all)) s in all"
exit $failed
