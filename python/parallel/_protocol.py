"""The wire between the Rust supervisor and a worker program, as Python writes and reads it:
the one Python copy of the frames of `parallel::plumbing::wire` and the messages of `protocol.rs`.

A frame is `MAGIC` (b"PW"), the wire `VERSION` (1), the payload's length as a little-endian
u32, then the payload, in postcard's encoding: an unsigned integer is a varint (7 bits a byte,
low bits first, the high bit set on every byte but the last), a byte string is its length as a
varint then its bytes, an enum is its variant's number as a varint then its fields.

* A request (`protocol.rs`'s `Request`): `(entry, params, extras, buffers)` — the entry (for the
  Python worker: `ENTRY_PAR`, or `ENTRY_SINGLE`/`ENTRY_ARGS` + the pickled function), the list of
  each task's parameters, the extras, and the large buffers of the parameters (`Carried`:
  variant 0 `Shared(task, fd, len)` in a memfd of the parent's, variant 1 `Inline(task, bytes)`).
* A reply, one per task (`protocol.rs`'s `Reply`): `Value(bytes)`, `Failed(bool, str)`,
  `Raised(str, bytes)`, `Skipped` or `Shared(bytes, [(fd, len)])`, variants `VALUE`, `FAILED`,
  `RAISED`, `SKIPPED`, `SHARED` (the Python worker writes `SHARED` replies in Rust).

The control page the parent shares with a Python worker (`control.rs`) is laid out here too,
under the names control.rs gives its constants (tests/test_cancel.py checks that they agree).

Only the standard library is imported: the test fixtures of the crate (tests/fixtures/*.py),
run by a plain `python3`, load this file by its path.
"""

import os

# --- frames ----------------------------------------------------------------------------------

MAGIC = b"PW"
VERSION = 1
# What starts every frame of this version.
HEAD = MAGIC + bytes((VERSION,))
# The bytes before a payload: the head and the u32 length.
HEADER_LEN = len(HEAD) + 4


def encode_varint(n):
    """`n` (an int >= 0) as a varint."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def read_varint(data, i):
    """`(value, next index)` of the varint at `data[i]`."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i
        shift += 7


def encode_bytes(data):
    """A byte string: its length, then its bytes."""
    return encode_varint(len(data)) + data


def read_bytes(data, i):
    """`(bytes, next index)` of the byte string at `data[i]`."""
    n, i = read_varint(data, i)
    return data[i : i + n], i + n


def frame(payload):
    """`payload` framed."""
    return HEAD + len(payload).to_bytes(4, "little") + payload


def read_exact(fd, n):
    """`n` bytes read from the descriptor `fd` (a bytearray, read into in place: a large
    frame is copied once, from the pipe), or None if it ends first."""
    data = bytearray(n)
    view, got = memoryview(data), 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if not k:
            return None
        got += k
    return data


def write_all(fd, data):
    """Writes all of `data` to the descriptor `fd`."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class NotAFrame(ValueError):
    """What was read does not start with `HEAD`: not a frame of this wire version."""


def read_frame(fd):
    """The payload of the next frame on the descriptor `fd`, or None if it ends (between two
    frames or inside one); `NotAFrame` if the bytes are not a frame of this version."""
    header = read_exact(fd, HEADER_LEN)
    if header is None:
        return None
    if header[: len(HEAD)] != HEAD:
        raise NotAFrame(f"not a frame: it starts with {header[: len(HEAD)]!r}")
    return read_exact(fd, int.from_bytes(header[len(HEAD) :], "little"))


# --- requests --------------------------------------------------------------------------------

# The entry of a Python worker's request: what the tasks' parameters are.
ENTRY_PAR = b""  # each task is `(fn, args, kwargs)`, pickled: it carries its own function
ENTRY_ARGS = b"A"  # + the pickled function; each task is its `(args, kwargs)`, pickled
ENTRY_SINGLE = b"1"  # + the pickled function; each task is its one argument, pickled


def read_request(payload):
    """`(entry, params, extras)` of a request's payload: bytes, and `params` a list of bytes;
    the large buffers after them are skipped. (The Python worker reads its requests in Rust,
    `parallel::plumbing::Request`; the crate's test workers in Python read them here.)"""
    data = bytes(payload)
    entry, i = read_bytes(data, 0)
    count, i = read_varint(data, i)
    params = []
    for _ in range(count):
        p, i = read_bytes(data, i)
        params.append(p)
    extras, i = read_bytes(data, i)
    return bytes(entry), params, bytes(extras)


# --- replies ---------------------------------------------------------------------------------

# The variants of a reply.
VALUE = 0
FAILED = 1
RAISED = 2
SKIPPED = 3
SHARED = 4


def encode_value(data):
    """`Reply::Value(data)`: the task's value, encoded."""
    return bytes((VALUE,)) + encode_bytes(data)


def value_reply(data):
    """The frame of `Reply::Value(data)`. (The Python worker's hot loop writes the same bytes
    inline.)"""
    return frame(encode_value(data))


def encode_raised(message, error):
    """`Reply::Raised(message, error)`: the task raised; `message` (UTF-8 bytes) says what,
    `error` is the error encoded (a Python worker's pickled exception)."""
    return bytes((RAISED,)) + encode_bytes(message) + encode_bytes(error)


def raised_reply(message, error):
    """The frame of `Reply::Raised(message, error)`."""
    return frame(encode_raised(message, error))


# `Reply::Skipped`: the task never started.
SKIPPED_REPLY = frame(bytes((SKIPPED,)))


# --- the control page (control.rs) -----------------------------------------------------------

# A page of native-endian u64 words, then the reply log.
CONTROL_SIZE = 266240
# The environment variable holding the page's descriptor.
CONTROL_ENV = "PARALLEL_CONTROL_FD"
# Word `STOP_WORD` is `batch << BATCH_SHIFT | offset`: in the worker's `batch`-th request
# (counted from 1, modulo 2**32), the tasks from `offset` on must not start.
STOP_WORD = 0
BATCH_SHIFT = 32
BATCH_MASK = (1 << (64 - BATCH_SHIFT)) - 1
# Word `FLAGS_WORD`, bit `STOP_ON_FAILURE`: the request belongs to a strict call (the batch
# stops after a failed task).
FLAGS_WORD = 1
STOP_ON_FAILURE = 1
# Word `LOGGED_WORD` is `batch << BATCH_SHIFT | n`: the worker has written the replies of
# `batch`'s tasks up to `n` (excluded) into the log or the pipe; word `FLUSHED_WORD` the same
# for those written to the pipe; the log holds the frames of the replies between the two, from
# its start, `LOG_USED_WORD` bytes of it. (See control.rs: the parent reads a dead worker's log.)
LOGGED_WORD = 2
FLUSHED_WORD = 3
LOG_USED_WORD = 4
COUNT_MASK = 0xFFFF_FFFF
# Word `SHARED_WORD` is 1 once the worker can open its parent's descriptors; word `TAKEN_WORD`
# is `batch << BATCH_SHIFT | n`: the parent took the shared buffers of the batch's replies up
# to `n` (see shared.rs; the Python worker does both in Rust).
SHARED_WORD = 5
TAKEN_WORD = 6
# Bit 31 of the taken word's count: the parent refused the reply's buffers (the worker sends
# the value again in its frame).
REFUSED = 0x8000_0000
# Word `ARRIVED_WORD`: the number of the last request the worker read; word `BEGAN_WORD`: the
# worker's CLOCK_MONOTONIC in nanoseconds when it began to run that request's tasks, 0 while
# it loads their function and extras (a task's task_timeout counts from then; the Python
# worker writes both in Rust).
ARRIVED_WORD = 7
BEGAN_WORD = 8
# The log: `LOG_SIZE` bytes from byte `LOG_START` of the mapping.
LOG_START = 4096
LOG_SIZE = 262144
