//! Any bytes given to the CSV loader, as a 4-feature, 3-class table and as a regression table.
#![no_main]
use libfuzzer_sys::fuzz_target;
use typenet::prelude::*;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("csv", data);
    let _ = CsvDataset::<4, Classes<3>>::load(&path, "label");
    let _ = CsvDataset::<2, Values<1>>::load(&path, "y");
});
