//! The wire format between a supervisor and its workers: frames and messages round-trip, and
//! malformed, truncated, oversized or garbage bytes give an error — never a panic, a hang or
//! a large allocation.

use parallel::plumbing::wire::{self, WireError, DEFAULT_MAX_FRAME, HEADER_LEN};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Msg {
    Batch { start: u64, payloads: Vec<Vec<u8>> },
    Outcome { index: u64, value: Result<Vec<u8>, String> },
    Shutdown,
}

fn msg() -> impl Strategy<Value = Msg> {
    prop_oneof![
        (any::<u64>(), prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..8))
            .prop_map(|(start, payloads)| Msg::Batch { start, payloads }),
        (any::<u64>(), prop::result::maybe_ok(prop::collection::vec(any::<u8>(), 0..64), ".{0,40}"))
            .prop_map(|(index, value)| Msg::Outcome { index, value }),
        Just(Msg::Shutdown),
    ]
}

proptest! {
    #[test]
    fn messages_round_trip_through_a_stream(msgs in prop::collection::vec(msg(), 0..10)) {
        let mut stream = Vec::new();
        for m in &msgs {
            wire::send(&mut stream, m).unwrap();
        }
        let mut reader = stream.as_slice();
        for m in &msgs {
            prop_assert_eq!(&wire::recv::<Msg>(&mut reader, DEFAULT_MAX_FRAME).unwrap(), m);
        }
        prop_assert!(matches!(wire::recv::<Msg>(&mut reader, DEFAULT_MAX_FRAME), Err(WireError::Closed)));
    }

    #[test]
    fn garbage_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = wire::read_frame(&mut bytes.as_slice(), 1 << 10);
        let _ = wire::split_frame(&bytes, 1 << 10);
        let _ = wire::decode::<Msg>(&bytes);
        let _ = wire::recv::<Msg>(&mut bytes.as_slice(), 1 << 10);
    }

    #[test]
    fn a_valid_header_with_a_garbage_payload_is_a_decode_error(payload in prop::collection::vec(any::<u8>(), 0..64)) {
        let mut frame = Vec::new();
        wire::write_frame(&mut frame, &payload).unwrap();
        match wire::recv::<Msg>(&mut frame.as_slice(), 1 << 10) {
            Ok(m) => prop_assert_eq!(wire::decode::<Msg>(&wire::encode(&m).unwrap()).unwrap(), m),
            Err(e) => prop_assert!(matches!(e, WireError::Decode(_)), "{e}"),
        }
    }

    #[test]
    fn every_truncation_is_reported(m in msg()) {
        let mut frame = Vec::new();
        wire::send(&mut frame, &m).unwrap();
        for cut in 1..frame.len() {
            let err = wire::read_frame(&mut &frame[..cut], DEFAULT_MAX_FRAME).unwrap_err();
            prop_assert!(matches!(err, WireError::Truncated { got, .. } if got == cut), "cut at {cut}: {err}");
            prop_assert_eq!(wire::split_frame(&frame[..cut], DEFAULT_MAX_FRAME).unwrap(), None);
        }
    }
}

#[test]
fn an_empty_stream_is_closed() {
    assert!(matches!(wire::read_frame(&mut &b""[..], 16), Err(WireError::Closed)));
}

#[test]
fn a_frame_over_the_limit_is_refused_before_its_payload_is_read() {
    let mut frame = wire::header(1_000).unwrap().to_vec();
    frame.extend([0; 1_000]);
    let err = wire::read_frame(&mut frame.as_slice(), 999).unwrap_err();
    assert!(matches!(err, WireError::TooLarge { len: 1_000, max: 999 }), "{err}");
    assert!(matches!(wire::split_frame(&frame, 999), Err(WireError::TooLarge { .. })));
}

#[test]
fn a_length_that_lies_costs_only_the_bytes_that_came() {
    // Claims 60 MiB, sends 10 bytes: an error about the missing bytes, at once.
    let mut frame = wire::header(60 << 20).unwrap().to_vec();
    frame.extend([7; 10]);
    let err = wire::read_frame(&mut frame.as_slice(), DEFAULT_MAX_FRAME).unwrap_err();
    assert!(
        matches!(err, WireError::Truncated { expected, got } if expected == HEADER_LEN + (60 << 20) && got == HEADER_LEN + 10)
    );
}

#[test]
fn another_version_or_magic_is_refused() {
    let mut frame = wire::header(0).unwrap();
    frame[2] = 2;
    assert!(matches!(wire::read_frame(&mut &frame[..], 16), Err(WireError::Version { found: 2 })));
    assert!(matches!(wire::split_frame(b"GET / HTTP/1.1", 16), Err(WireError::BadMagic(_))));
    assert!(matches!(wire::split_frame(b"GE", 16), Err(WireError::BadMagic(_))));
}

#[test]
fn a_decoded_length_cannot_make_the_decoder_allocate_it() {
    // A message claiming a vector of u64::MAX payloads, in 11 bytes.
    let mut bytes = vec![0u8]; // variant 0: Batch
    bytes.push(0); // start = 0
    bytes.extend([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]); // len = u64::MAX
    assert!(matches!(wire::decode::<Msg>(&bytes), Err(WireError::Decode(_))));
}

#[test]
fn trailing_bytes_after_a_message_are_an_error() {
    let mut bytes = wire::encode(&Msg::Shutdown).unwrap();
    bytes.push(0);
    let err = wire::decode::<Msg>(&bytes).unwrap_err();
    assert_eq!(err.to_string(), "a malformed message: 1 bytes after the message");
}
