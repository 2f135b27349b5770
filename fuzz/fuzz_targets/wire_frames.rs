//! Arbitrary bytes through the public `parallel::plumbing::wire` API: reading frames from a stream (in
//! one piece and a byte at a time), splitting them out of a buffer, and decoding payloads as
//! the messages that cross — a request's shape, a reply, and a few plain types. Never a
//! panic; never an allocation far beyond the bytes that arrived (a length that lies costs
//! nothing); the stream and buffer readers agree; whatever decodes, encodes back to itself.
//! The checks are in `common/checks.rs`.

#![no_main]

#[allow(dead_code)]
mod common;

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: common::counting::Counting = common::counting::Counting;

fuzz_target!(|data: &[u8]| common::checks::wire_frames(data));
