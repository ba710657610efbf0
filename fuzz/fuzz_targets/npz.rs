//! Any bytes given to `import_npz` as an `.npz` archive, for a model of two linear layers and
//! one with batch-norm scalars: an error or a value, never a panic, a hang or an allocation the
//! file does not back; a refused archive leaves the model as it was.
//! The body is shared with the smoke test in `cargo test` (see `bodies.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "bodies.rs"]
#[allow(dead_code)] // each target calls one body
mod bodies;

fuzz_target!(|data: &[u8]| bodies::npz(data));
