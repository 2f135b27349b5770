//! The properties each fuzz target checks on its input; any failed assertion is a crash.

use std::io::{self, Read};

use parallel::__fuzz;
use parallel::plumbing::wire::{self, WireError, HEADER_LEN};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::counting::{allowed, peak_of};

/// The frame limit the checks read with: small, so that "too large" is reachable.
pub const MAX: usize = 1 << 16;

/// A request as it crosses: `(entry, params, extras, buffers)`, for requests whose tasks have
/// no large buffers (`buffers` is then an empty list, whose encoding an empty `Vec<u8>` shares).
pub type RequestShape = (Vec<u8>, Vec<Vec<u8>>, Vec<u8>, Vec<u8>);

/// A reader that hands out one byte per read: the stream reader must gather its frames.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match (self.0.split_first(), buf.first_mut()) {
            (Some((&byte, rest)), Some(slot)) => {
                *slot = byte;
                self.0 = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// Decodes `payload` as a `T` within the allocation bound; if it is one, its encoding decodes
/// to the same message. `true` if it decoded.
pub fn decodes_as<T: DeserializeOwned + Serialize + PartialEq>(payload: &[u8]) -> bool {
    let (decoded, peak) = peak_of(|| wire::decode::<T>(payload));
    assert!(peak <= allowed(payload.len()), "decoding {} bytes allocated {peak}", payload.len());
    match decoded {
        Ok(message) => {
            let bytes = wire::encode(&message).expect("a decoded message encodes");
            let again: T = wire::decode(&bytes).expect("an encoded message decodes");
            assert!(again == message, "a message changed on its way through the codec");
            true
        }
        Err(e) => {
            assert!(matches!(e, WireError::Decode(_)), "decoding failed with {e}");
            false
        }
    }
}

/// Every decoding the supervisor or a worker makes of a payload, and a few plain types.
pub fn decode_all(payload: &[u8]) {
    decodes_as::<RequestShape>(payload);
    decodes_as::<Vec<Vec<u8>>>(payload);
    decodes_as::<Vec<u8>>(payload);
    decodes_as::<String>(payload);
    decodes_as::<(u64, Option<(bool, String)>)>(payload);
    let (_, peak) = peak_of(|| __fuzz::decode_reply(payload));
    assert!(peak <= allowed(payload.len()), "decoding a reply of {} bytes allocated {peak}", payload.len());
}

/// The `wire_frames` target: the stream reader frame after frame (in one piece and a byte at
/// a time, which must agree), the buffer reader agreeing with it, every payload and the bytes
/// themselves decoded as each message type. Never a panic, never an allocation far beyond the
/// input.
pub fn wire_frames(data: &[u8]) {
    let mut whole = data;
    let mut trickle = Trickle(data);
    loop {
        let (frame, peak) = peak_of(|| wire::read_frame(&mut whole, MAX));
        assert!(peak <= allowed(data.len()), "reading a frame of {} bytes allocated {peak}", data.len());
        let slow = wire::read_frame(&mut trickle, MAX);
        match (&frame, &slow) {
            (Ok(a), Ok(b)) => assert_eq!(a, b),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("the reader depends on how the bytes arrive: {frame:?} and {slow:?}"),
        }
        match frame {
            Ok(payload) => decode_all(&payload),
            Err(_) => break,
        }
    }

    let mut rest = data;
    loop {
        let split = wire::split_frame(rest, MAX);
        let read = wire::read_frame(&mut &rest[..], MAX);
        match (split, read) {
            (Ok(Some((payload, used))), Ok(frame)) => {
                assert_eq!(used, HEADER_LEN + payload.len());
                assert_eq!(payload, &frame[..]);
                rest = &rest[used..];
            }
            (Ok(None), Err(WireError::Closed | WireError::Truncated { .. })) => break,
            // Both refuse the header (the buffer reader may refuse a bad start sooner).
            (Err(_), Err(_)) => break,
            (split, read) => panic!("split_frame said {split:?}, read_frame {read:?}"),
        }
    }

    decode_all(data);
}

/// The `worker_requests` target: the worker's request loop fed `data` as its parent's pipe
/// answers what it can and stops at the first malformed frame or message, within the
/// allocation bound. Returns the reply bytes it wrote.
pub fn worker_requests(data: &[u8]) -> usize {
    let (written, peak) = peak_of(|| __fuzz::serve_requests(data));
    assert!(peak <= allowed(data.len()), "serving {} bytes allocated {peak}", data.len());
    written
}
