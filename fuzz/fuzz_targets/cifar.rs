//! Any bytes given to the CIFAR-10 and CIFAR-100 batch readers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use typenet::prelude::*;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let path = common::scratch("cifar", data);
    let _ = Cifar10::load_file(&path);
    let _ = Cifar100::load_file(&path);
    let _ = Cifar100::load_file_coarse(&path);
});
