//! Any bytes, raw or gzip, given to the IDX reader and the Fashion-MNIST split loader: an error
//! or a value, never a panic, a hang or an allocation the file does not back.
//! The body is shared with the smoke test in `cargo test` (see `bodies.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "bodies.rs"]
#[allow(dead_code)] // each target calls one body
mod bodies;

fuzz_target!(|data: &[u8]| bodies::idx(data));
