//! Any bytes given to the CSV loader, as a 4-feature, 3-class table and as a regression table.
//! The body is shared with the smoke test in `cargo test` (see `bodies.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "bodies.rs"]
#[allow(dead_code)] // each target calls one body
mod bodies;

fuzz_target!(|data: &[u8]| bodies::csv(data));
