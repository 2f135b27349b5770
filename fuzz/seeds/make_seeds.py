"""Writes the seed inputs of the fuzz targets (run from fuzz/: python3 seeds/make_seeds.py).

Valid frames of the wire (magic "PW", version 1, a little-endian u32 length, a postcard
payload) holding requests and replies, so the fuzzer starts from inputs that reach the decoders
and the worker's loop instead of stopping at the magic.
"""

import pathlib


def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def blob(b):
    return varint(len(b)) + b


def frame(payload):
    return b"PW\x01" + len(payload).to_bytes(4, "little") + payload


def request(entry, params, extras=b""):
    return frame(blob(entry) + varint(len(params)) + b"".join(blob(p) for p in params) + blob(extras))


value = lambda b: frame(varint(0) + blob(b))
failed = lambda panicked, msg: frame(varint(1) + bytes([panicked]) + blob(msg))
raised = lambda msg, err: frame(varint(2) + blob(msg) + blob(err))

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
        "lying_length": frame(varint(0) + varint(1 << 30) + b"short"),
    },
}

for target, seeds in SEEDS.items():
    folder = pathlib.Path(__file__).parent / target
    folder.mkdir(exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
