"""A tour of `parallel` from Python: map, par, executors, decorate, errors, async, timeouts.

The "downloads" are fake (a short sleep), so the tour runs offline in a couple of seconds.
Every printed result is also asserted: if the package breaks, this example fails loudly.
"""

import time
from typing import Any

import parallel


def download(url: str, expected_code: int = 200, db_table: str = "websites") -> str:
    """Pretends to fetch `url` (0.1 s) and store it in `db_table`."""
    time.sleep(0.1)
    return f"{url} -> {db_table} ({expected_code})"


def square(n: int) -> int:
    return n * n


def add(x: Any, y: Any) -> Any:  # numbers and strings
    return x + y


def describe(name: str, options: dict[str, Any]) -> str:
    return f"{name}: {sorted(options)}"


@parallel.decorate
def price(coin: str, exchange: str = "bitstamp") -> int:
    time.sleep(0.05)
    return {"btc": 60_000, "eth": 3_000, "xrp": 1}[coin]


def show(title: str, value: object) -> None:
    print(f"  {title:<30} {value!r}")


def main() -> None:
    urls = ["python.org", "rmotr.com", "rust-lang.org", "pypi.org"]

    print("map — one function over many parameters, results in input order:")
    start = time.monotonic()
    results = parallel.map(download, urls)
    elapsed = time.monotonic() - start
    show("list", results[:2])
    assert results == [f"{u} -> websites (200)" for u in urls]
    print(f"  4 downloads of 0.1 s took {elapsed:.2f} s (one after another: 0.4 s)")
    assert elapsed < 0.4, elapsed

    results = parallel.map(download, [("python.org", 204), ("rmotr.com", 201, {"db_table": "debug"})])
    show("tuples (+ a named parameter)", results)
    assert results == ["python.org -> websites (204)", "rmotr.com -> debug (201)"]

    results = parallel.map(download, {"python": ("python.org", 204), "rmotr": "rmotr.com"})
    show("dict in, dict out", results)
    assert results == {"python": "python.org -> websites (204)", "rmotr": "rmotr.com -> websites (200)"}

    results = parallel.map(download, urls[:2], extras={"db_table": "temporary"})
    show("extras", results)
    assert all(r.endswith("-> temporary (200)") for r in results)

    # A dict parameter would be keyword arguments; parallel.arg passes it as it is.
    results = parallel.map(describe, [parallel.arg("json", {"Content-Type": 1}), ("xml", {"options": {}})])
    show("parallel.arg", results)
    assert results == ["json: ['Content-Type']", "xml: []"]

    print("par — different functions at once:")
    prices = parallel.par({
        "btc": (price, "btc"),
        "eth": parallel.future(price, "eth", exchange="bitfinex"),
        "xrp": price.future("xrp"),
    })
    show("prices", prices)
    assert prices == {"btc": 60_000, "eth": 3_000, "xrp": 1}

    print("executors — threads (the default) or worker processes:")
    squares = list(range(6))
    expected = [n * n for n in squares]
    for how, result in [
        ("parallel.thread.map", parallel.thread.map(square, squares)),
        ("parallel.process.map", parallel.process.map(square, squares)),
        ("executor=THREAD_EXECUTOR", parallel.map(square, squares, executor=parallel.THREAD_EXECUTOR)),
        ("executor=PROCESS_EXECUTOR", parallel.map(square, squares, executor=parallel.PROCESS_EXECUTOR, max_workers=2)),
    ]:
        show(how, result)
        assert result == expected, (how, result)
    assert parallel.process.par([(add, 1, 2), parallel.future(add, "a", "b")]) == [3, "ab"]

    print("@parallel.decorate — the function gains .map, .thread.map, .process.map:")
    show("price.map", price.map(["btc", "eth"]))
    assert price.map(["btc", "eth"]) == [60_000, 3_000]
    assert price.thread.map({"x": "xrp"}, timeout=5, max_workers=2) == {"x": 1}
    show("price.process.map", price.process.map([("eth", {"exchange": "kraken"})]))
    assert price.process.map([("eth", {"exchange": "kraken"})]) == [3_000]
    show("still callable: price('btc')", price("btc"))
    assert price("btc") == 60_000

    print("silent — failures become FailedTask instead of raising:")
    results = parallel.map(add, [(2, 3), ("a", 5), ("hello ", "world")], silent=True)
    r1, r2, r3 = results
    show("failures", results.failures)
    show("the failed task", r2)
    assert results.failures and (r1, r3) == (5, "hello world")
    assert r2 == parallel.FailedTask(params=("a", 5), ex=TypeError('can only concatenate str (not "int") to str'))
    assert isinstance(r2.ex, TypeError) and results.failed == [r2] and results.succeeded == [5, "hello world"]
    show("replace_failed(None)", results.replace_failed(None))
    assert results.replace_failed(None) == [5, None, "hello world"]
    try:
        parallel.map(add, [(2, 3), ("a", 5)])
        raise AssertionError("not silent: the TypeError should propagate")
    except TypeError as exc:
        show("not silent: raises", exc)

    print("async_map — returns at once, results() waits:")
    call = parallel.async_map(download, urls, extras={"db_table": "async"})
    show("right after the call", call)
    results = call.results(timeout=5)
    show("results()", results[0])
    assert call.done() and len(results) == 4 and results[0] == "python.org -> async (200)"
    with parallel.async_par({"sq": (square, 7), "sum": (add, 1, 2)}) as call:
        assert call.results() == {"sq": 49, "sum": 3}

    print("timeout — the call returns on time, even if a task does not:")
    start = time.monotonic()
    try:
        parallel.map(time.sleep, [0.05, 3], timeout=0.5)
        raise AssertionError("the call should have timed out")
    except parallel.exceptions.TimeoutException as exc:
        elapsed = time.monotonic() - start
        show(f"after {elapsed:.2f} s, TimeoutError", str(exc))
        assert isinstance(exc, TimeoutError) and elapsed < 1.5, elapsed
    results = parallel.map(time.sleep, [0.05, 3], timeout=0.5, silent=True)
    (late,) = results.failed  # typed: results[1] is `None | FailedTask`, late a FailedTask
    show("silent: the late task failed", type(late.ex).__name__)
    assert results[0] is None and results[1] is late and isinstance(late.ex, TimeoutError)

    print("tour done: every result above was asserted")


if __name__ == "__main__":
    main()
