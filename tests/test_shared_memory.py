"""Large arguments and values cross to and from process workers through shared memory (pickle
5's out-of-band buffers and large `bytes`, each in a memfd; `shared.rs` in the crate): what a
user checks is that they arrive equal, of the same type, writable, private to each side, that
a worker dying right after such a value loses nothing, and that no descriptor is left behind."""

import gc
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import parallel
from parallel.exceptions import WorkerCrashedError

BIG = 1 << 20  # well past the size from which buffers go through shared memory


def double(a):
    return a * 2


def same(x):
    return x


def triple_in_place(a):
    a *= 3
    return a


def kind_and_size(x):
    return type(x).__name__, len(x)


def big_or_die(x):
    if x == "die":
        os._exit(3)
    return np.full(BIG // 8, x, dtype=np.float64)


def arrays(n, size=BIG // 8):
    return [np.arange(size, dtype=np.float64) + i for i in range(n)]


def descriptors():
    """What this process's descriptors are open on (those that close meanwhile left out)."""
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:
            pass
    return targets


def test_arrays_cross_both_ways_equal_and_writable():
    xs = arrays(6)
    out = parallel.process.map(double, xs, max_workers=2)
    gc.collect()  # the memory of a result lives as long as the result
    assert all(np.array_equal(o, x * 2) for o, x in zip(out, xs))
    assert all(o.dtype == np.float64 and o.shape == x.shape for o, x in zip(out, xs))
    out[0][0] = -1.0  # a result is the caller's own, writable array
    assert out[0][0] == -1.0


def test_a_worker_writing_to_its_argument_changes_nothing_in_the_parent():
    xs = arrays(3)
    before = [x.copy() for x in xs]
    out = parallel.process.map(triple_in_place, xs, max_workers=2)
    assert all(np.array_equal(x, b) for x, b in zip(xs, before)), "the parent's arrays changed"
    assert all(np.array_equal(o, b * 3) for o, b in zip(out, before))


def test_large_bytes_and_bytearrays_keep_their_type():
    blobs = [os.urandom(BIG) for _ in range(3)]
    assert parallel.process.map(same, blobs, max_workers=2) == blobs
    assert all(type(b) is bytes for b in parallel.process.map(same, blobs, max_workers=2))
    arrays_of_bytes = [bytearray(b) for b in blobs]
    assert parallel.process.map(kind_and_size, arrays_of_bytes, max_workers=2) == [("bytearray", BIG)] * 3
    assert parallel.process.map(same, arrays_of_bytes, max_workers=2) == arrays_of_bytes


def test_buffers_inside_containers_and_spread_arguments():
    pairs = [(np.ones(BIG // 8) * i, i) for i in range(4)]
    out = parallel.process.map(lambda a, k: (a * k).sum(), pairs, max_workers=2)
    assert out == [float(BIG // 8 * i * i) for i in range(4)]
    nested = {"a": [np.zeros(BIG // 8), os.urandom(BIG)], "b": (1, "x")}
    back = parallel.process.map(same, [parallel.arg(nested)], max_workers=1)[0]
    assert np.array_equal(back["a"][0], nested["a"][0]) and back["a"][1] == nested["a"][1]
    assert back["b"] == (1, "x")


def test_a_worker_dying_right_after_a_shared_value_loses_nothing():
    # One worker: "die" runs right after a task whose value went through shared memory.
    items = [1.0, 2.0, "die", 4.0]
    out = parallel.process.map(big_or_die, items, max_workers=1, silent=True)
    assert np.array_equal(out[0], np.full(BIG // 8, 1.0)) and np.array_equal(out[1], np.full(BIG // 8, 2.0))
    assert isinstance(out[2], parallel.FailedTask) and isinstance(out[2].ex, WorkerCrashedError)
    assert np.array_equal(out[3], np.full(BIG // 8, 4.0))


def test_no_descriptor_is_left_behind():
    # Each worker holds three descriptors here (two pipes, its control page): those are left
    # out of the count, which workers started and stopped by other calls would move.
    def ours():
        return [d for d in descriptors() if not d.startswith("pipe:") and "parallel-control" not in d]

    parallel.process.map(double, arrays(2), max_workers=2)  # workers started
    before = len(ours())
    for _ in range(5):
        parallel.process.map(double, arrays(4), max_workers=2)
        parallel.process.map(same, [os.urandom(BIG)] * 4, max_workers=2)
    with pytest.raises(parallel.exceptions.TimeoutException):
        parallel.process.map(lambda a: __import__("time").sleep(5), arrays(4), max_workers=2, timeout=0.5)
    call = parallel.process.async_map(double, arrays(20), max_workers=2)
    call.cancel()
    parallel.process.map(big_or_die, [1.0, "die", 2.0], max_workers=1, silent=True)
    parallel.process.map(double, arrays(2), max_workers=2)
    assert not [d for d in descriptors() if "parallel-buffer" in d], descriptors()
    assert len(ours()) <= before, ours()


def test_without_shared_memory_the_buffers_cross_inside_the_frames():
    # PARALLEL_SHARED_MEMORY=0: the workers of a fresh interpreter copy buffers into frames.
    program = textwrap.dedent(
        """
        import os, numpy as np, parallel
        xs = [np.arange(1 << 17, dtype=np.float64) + i for i in range(4)]
        out = parallel.process.map(lambda a: a * 2, xs, max_workers=2)
        assert all(np.array_equal(o, x * 2) for o, x in zip(out, xs))
        blobs = [os.urandom(1 << 20) for _ in range(2)]
        assert parallel.process.map(lambda b: b, blobs, max_workers=2) == blobs
        print("ok")
        """
    )
    env = dict(os.environ, PARALLEL_SHARED_MEMORY="0")
    done = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_out_of_descriptors_the_buffers_cross_inside_the_frames():
    # A process allowed no descriptor beyond those it holds (and the holes below them): the
    # parent cannot open its worker's memfds of the values (it refuses them, and the worker
    # sends each value again in its frame), nor always make memfds of the arguments (they go
    # inside the requests); nothing fails. (Seen with strace: ~100 refused opens per run.)
    program = textwrap.dedent(
        """
        import os, resource, numpy as np, parallel
        parallel.process.map(abs, [1], max_workers=1)  # the worker, started
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
        resource.setrlimit(resource.RLIMIT_NOFILE, (highest + 2, hard))
        xs = [np.arange(1 << 17, dtype=np.float64) + i for i in range(100)]
        out = parallel.process.map(lambda a: (a * 2, a + 1), xs, max_workers=1)
        assert all(np.array_equal(o[0], x * 2) and np.array_equal(o[1], x + 1) for o, x in zip(out, xs))
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
