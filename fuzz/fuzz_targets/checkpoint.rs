//! Any bytes given to the checkpoint readers as a safetensors model file (`read_info`,
//! `load_model` with and without non-finite values allowed): an error or a value, never a
//! panic; a refused file leaves the model as it was.
//! The body is shared with the smoke test in `cargo test` (see `bodies.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "bodies.rs"]
#[allow(dead_code)] // each target calls one body
mod bodies;

fuzz_target!(|data: &[u8]| bodies::checkpoint(data));
