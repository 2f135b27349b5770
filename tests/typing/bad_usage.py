"""Wrong uses the type checkers must reject: each line marked `# rejected` must be reported by
both mypy and pyright, and no other line (tests/test_typing.py checks both ways). Never run,
never checked by `make typecheck` (it has errors on purpose). Module level, so that pyright
strict does not report the names as unused."""

from __future__ import annotations

import parallel
from parallel import FailedTask


def add(x: int, y: int) -> int:
    return x + y


def double(n: int) -> int:
    return 2 * n


def chunk_labels(chunk: list[int]) -> list[str]:
    return [str(n) for n in chunk]


@parallel.decorate
def shout(word: str) -> str:
    return word.upper()


@parallel.decorate(executor=parallel.PROCESS)
def cube(n: int) -> int:
    return n**3


# The element type is the function's return type, in every form.
a: list[str] = parallel.map(add, [(1, 2)])  # rejected
b: list[str] = parallel.async_map(add, [(1, 2)]).results()  # rejected
c: list[str] = parallel.thread.map(double, [1])  # rejected
d: list[str] = parallel.process.map(double, [1])  # rejected
e: list[str] = parallel.process.async_map(double, [1]).results()  # rejected
f: list[int] = shout.map(["a"])  # rejected
g: list[int] = shout.thread.map(["a"])  # rejected
h: list[int] = shout.process.map(["a"])  # rejected
i: list[int] = shout.async_map(["a"]).results()  # rejected
j: list[str] = cube.map([1])  # rejected
# The shape follows the parameters.
k: dict[str, int] = parallel.map(double, [1])  # rejected
m: list[int] = parallel.map(double, {"a": 1})  # rejected
n: list[int] = parallel.par({"a": (double, 1)})  # rejected
# Silent: a FailedTask may stand in any place.
o: list[int] = parallel.map(double, [1], silent=True)  # rejected
p: dict[str, int] = parallel.map(double, {"a": 1}, silent=True)  # rejected
q: list[int] = parallel.async_map(double, [1]).results(silent=True)  # rejected
r: list[int] = shout.process.map(["a"], silent=True)  # rejected
s = parallel.map(double, [1], silent=True)[0].ex  # rejected
t: list[int | FailedTask] = parallel.map(double, [1], silent=True).succeeded  # rejected
# Calls and arguments.
u: int = shout("a")  # rejected
v = parallel.future(add, 1)  # rejected
w = shout.future(1)  # rejected
x = parallel.map(double, [1], executor="threads")  # rejected
y: list[int] = parallel.split([1, 2], chunk_labels)  # rejected
z = parallel.par([1, 2])  # rejected
