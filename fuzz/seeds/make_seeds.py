"""Writes the seed inputs of the fuzz targets (run from fuzz/: python3 seeds/make_seeds.py).

Valid frames of the wire (magic "PW", version 1, a little-endian u32 length, a postcard
payload) holding requests and replies, so the fuzzer starts from inputs that reach the decoders
and the worker's loop instead of stopping at the magic.

The codec is the Python package's (python/parallel/_protocol.py), loaded by its path, as the
crate's test fixtures do: this runs under a plain `python3`, which need not have the package
installed.
"""

import importlib.util
import pathlib


def load_protocol():
    path = pathlib.Path(__file__).resolve().parents[2] / "python" / "parallel" / "_protocol.py"
    spec = importlib.util.spec_from_file_location("_protocol", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


protocol = load_protocol()
varint, blob, frame = protocol.encode_varint, protocol.encode_bytes, protocol.frame


def request(entry, params, extras=b""):
    """The frame of a `Request`, as the parent sends it (the layout `read_request` reads)."""
    # No large buffers beside the parameters: an empty list.
    return frame(blob(entry) + varint(len(params)) + b"".join(blob(p) for p in params) + blob(extras) + varint(0))


def failed(panicked, message):
    """The frame of `Reply::Failed(panicked, message)`, which only the Rust worker sends."""
    return frame(varint(protocol.FAILED) + bytes([panicked]) + blob(message))


value = protocol.value_reply
raised = protocol.raised_reply

SEEDS = {
    "worker_requests": {
        "echo": request(b"echo", [b"abc", b"", b"x" * 200]),
        "extras": request(b"extras", [b"1", b"2"], b"shared"),
        "fail": request(b"fail", [b"boom"]),
        "two_requests": request(b"echo", [b"a"]) + request(b"fail", [b"b", b"c"], b"e"),
        "unknown_entry": request(b"\x00" * 8, [b"a"]),
        "truncated": request(b"echo", [b"abcdef"])[:-3],
    },
    "wire_frames": {
        "value": value(b"hello"),
        "failed": failed(1, b"it panicked"),
        "raised": raised(b"raised", b"\x80\x04pickle"),
        "request": request(b"\x10\x20\x30\x40\x50\x60\x70\x80", [b"p1", b"p2"], b"extras"),
        "stream": value(b"a") + failed(0, b"b") + raised(b"c", b"d"),
        "lying_length": frame(varint(protocol.VALUE) + varint(1 << 30) + b"short"),
    },
}

for target, seeds in SEEDS.items():
    folder = pathlib.Path(__file__).parent / target
    folder.mkdir(exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
