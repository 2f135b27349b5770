//! The fuzz targets' checks (`fuzz/`, cargo-fuzz on nightly), on the stable toolchain: every
//! seed of `fuzz/seeds/<target>/` and every input kept in `fuzz/regressions/<target>/` (a
//! crash the fuzzer found, copied from `fuzz/artifacts/`), then hand-picked nasty inputs —
//! a truncated header, a length of 0xFFFFFFFF, another version, a garbage payload, sequence
//! lengths that lie. The checks themselves are the fuzz targets' own (`common/checks.rs`),
//! with the same allocation bound.

use std::path::{Path, PathBuf};

use parallel::__fuzz;
use parallel::plumbing::wire::{self, WireError, DEFAULT_MAX_FRAME, HEADER_LEN};

#[path = "../../../../fuzz/fuzz_targets/common/mod.rs"]
mod common;

use common::checks::{self, RequestShape};
use common::counting::{allowed, peak_of, Counting};

#[global_allocator]
static ALLOC: Counting = Counting;

/// The inputs kept for `target`: its seeds and its regressions.
fn kept_inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut inputs = Vec::new();
    for folder in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(folder).join(target)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            inputs.push((path.clone(), std::fs::read(path).unwrap()));
        }
    }
    inputs
}

#[test]
fn the_kept_inputs_of_wire_frames_pass() {
    let inputs = kept_inputs("wire_frames");
    assert!(inputs.len() >= 5, "the seeds are missing: {inputs:?}");
    for (_, data) in inputs {
        checks::wire_frames(&data);
    }
}

#[test]
fn the_kept_inputs_of_worker_requests_pass() {
    let inputs = kept_inputs("worker_requests");
    assert!(inputs.len() >= 5, "the seeds are missing: {inputs:?}");
    for (path, data) in inputs {
        let written = checks::worker_requests(&data);
        // The seeds of valid requests reach the functions and answer.
        if path.ends_with("echo") || path.ends_with("fail") || path.ends_with("two_requests") {
            assert!(written > 0, "{path:?} got no reply");
        }
    }
}

/// A frame holding `payload`.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    wire::write_frame(&mut out, payload).unwrap();
    out
}

/// Postcard's varint of `n`.
fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// The reply bytes of one `Value(bytes)` per parameter, as the fuzzing worker's echo writes.
fn echoed(params: &[&[u8]]) -> usize {
    params.iter().map(|p| HEADER_LEN + 1 + varint(p.len() as u64).len() + p.len()).sum()
}

/// A request frame of the fuzzing worker: `(entry, params, extras)`.
fn request(entry: &[u8], params: &[&[u8]], extras: &[u8]) -> Vec<u8> {
    let shape: RequestShape =
        (entry.to_vec(), params.iter().map(|p| p.to_vec()).collect(), extras.to_vec(), Vec::new());
    frame(&wire::encode(&shape).unwrap())
}

#[test]
fn a_truncated_header() {
    let bytes = b"PW\x01\x05\x00";
    let err = wire::read_frame(&mut &bytes[..], DEFAULT_MAX_FRAME).unwrap_err();
    assert!(matches!(err, WireError::Truncated { expected: 7, got: 5 }), "{err}");
    assert_eq!(wire::split_frame(bytes, DEFAULT_MAX_FRAME).unwrap(), None);
    assert_eq!(checks::worker_requests(bytes), 0);
    checks::wire_frames(bytes);
}

#[test]
fn a_length_of_0xffffffff() {
    let mut bytes = b"PW\x01\xff\xff\xff\xff".to_vec();
    bytes.extend_from_slice(b"a little");
    let err = wire::read_frame(&mut bytes.as_slice(), DEFAULT_MAX_FRAME).unwrap_err();
    assert!(matches!(err, WireError::TooLarge { len: 0xFFFF_FFFF, .. }), "{err}");
    // Even a reader that accepts it allocates only what came, and says the frame is short.
    let (read, peak) = peak_of(|| wire::read_frame(&mut bytes.as_slice(), usize::MAX));
    assert!(matches!(read, Err(WireError::Truncated { expected: 0x1_0000_0006, got: 15 })), "{read:?}");
    assert!(peak < 64 << 10, "a lying length made the reader allocate {peak} bytes");
    assert_eq!(wire::split_frame(&bytes, usize::MAX).unwrap(), None);
    assert_eq!(checks::worker_requests(&bytes), 0);
    checks::wire_frames(&bytes);
}

#[test]
fn another_version_and_another_magic() {
    let mut bytes = frame(b"\x00\x01v");
    bytes[2] = 2;
    assert!(matches!(wire::read_frame(&mut bytes.as_slice(), 64), Err(WireError::Version { found: 2 })));
    assert!(matches!(wire::split_frame(&bytes, 64), Err(WireError::Version { found: 2 })));
    assert_eq!(checks::worker_requests(&bytes), 0);
    checks::wire_frames(&bytes);
    bytes[..2].copy_from_slice(b"XX");
    // The buffer reader refuses a bad magic from its first two bytes.
    assert!(matches!(wire::split_frame(&bytes[..2], 64), Err(WireError::BadMagic([b'X', b'X']))));
    checks::wire_frames(&bytes);
}

#[test]
fn a_garbage_payload_in_a_valid_frame() {
    let bytes = frame(b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff garbage");
    let payload = wire::read_frame(&mut bytes.as_slice(), 64).unwrap();
    assert!(matches!(wire::decode::<RequestShape>(&payload), Err(WireError::Decode(_))));
    assert!(!__fuzz::decode_reply(&payload));
    assert_eq!(checks::worker_requests(&bytes), 0);
    checks::wire_frames(&bytes);
    // Reply variants and booleans out of range.
    assert!(!__fuzz::decode_reply(b"\x09\x01\x02"));
    assert!(!__fuzz::decode_reply(b"\x01\x02\x00"));
    assert!(__fuzz::decode_reply(b"\x01\x01\x00"));
}

#[test]
fn sequence_lengths_that_lie() {
    // params: 2^62 parameters, then a few bytes.
    let mut outer = varint(0);
    outer.extend(varint(1 << 62));
    outer.extend(b"\x01a");
    // params: one parameter of 2^40 bytes.
    let mut inner = varint(0);
    inner.extend(varint(1));
    inner.extend(varint(1 << 40));
    inner.extend(b"abc");
    // a length past u64: eleven continuation bytes.
    let mut overflow = varint(0);
    overflow.extend([0xFF; 11]);
    for payload in [outer, inner, overflow] {
        let (decoded, peak) = peak_of(|| wire::decode::<RequestShape>(&payload));
        assert!(matches!(decoded, Err(WireError::Decode(_))), "{payload:?}");
        assert!(peak <= allowed(payload.len()), "{payload:?} made the decoder allocate {peak} bytes");
        let bytes = frame(&payload);
        assert_eq!(checks::worker_requests(&bytes), 0);
        checks::wire_frames(&bytes);
    }
}

#[test]
fn the_worker_answers_until_the_first_bad_frame() {
    let mut bytes = request(b"echo", &[b"abc", b""], b"");
    bytes.extend(request(b"fail", &[b"x"], b"extras"));
    let answered = checks::worker_requests(&bytes);
    assert!(answered > echoed(&[b"abc", b""]), "the failure got no reply: {answered}");
    // Garbage after a good request: the good one is answered, then the loop stops.
    let mut bytes = request(b"echo", &[b"abc", b""], b"");
    bytes.extend(b"PW\x01\xff\xff\xff\x7fgarbage");
    bytes.extend(request(b"echo", &[b"never"], b""));
    assert_eq!(checks::worker_requests(&bytes), echoed(&[b"abc", b""]));
}

#[test]
fn the_fuzzing_worker_calls_no_address() {
    // An entry as a real parent sends it — 8 bytes of code offset — names nothing here: the
    // fuzzing worker knows its functions by name only.
    for offset in [0u64, 8, u64::MAX] {
        assert_eq!(checks::worker_requests(&request(&offset.to_le_bytes(), &[b"a"], b"")), 0);
    }
}

#[test]
fn the_allocation_bound_is_measured() {
    // The checks' bound is not vacuous: the counting allocator sees what a thread allocates.
    let (bytes, peak) = peak_of(|| vec![1u8; 100_000]);
    assert!(peak >= 100_000, "{peak}");
    drop(bytes);
    let (_, peak) = peak_of(|| wire::decode::<Vec<Vec<u8>>>(&[3, 1, 7, 0, 2, 8, 9]).unwrap());
    assert!(peak > 0);
}
