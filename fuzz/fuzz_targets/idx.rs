//! Any bytes, raw or gzip, given to the IDX reader and the Fashion-MNIST split loader: an error
//! or a value, never a panic, a hang or an allocation the file does not back.
#![no_main]
use libfuzzer_sys::fuzz_target;
use typenet::prelude::*;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("idx", data);
    let _ = read_idx(&path);
    // the same bytes as both files of a split
    let _ = FashionMnist::load_split(&path, &path);
});
