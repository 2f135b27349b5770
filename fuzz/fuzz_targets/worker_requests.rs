//! The worker's request loop fed arbitrary bytes as its parent's pipe: it answers what it can
//! and stops at the first malformed frame or message — never a panic, never an allocation far
//! beyond the bytes that arrived. The functions it can call are a fixed list of names
//! (`parallel::__fuzz`): a real worker takes its entry as a code address from its
//! parent, which these bytes never are. The checks are in `common/checks.rs`.

#![no_main]

#[allow(dead_code)]
mod common;

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOC: common::counting::Counting = common::counting::Counting;

fuzz_target!(|data: &[u8]| {
    common::checks::worker_requests(data);
});
