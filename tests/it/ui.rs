//! Compile-fail tests: shape mismatches are compile errors, with the compiler's messages checked
//! in (`tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite cargo test --test it ui::`).
//! Compile-fail cases only: with no `pass` case trybuild runs `cargo check`, which skips code
//! generation for the dependencies (a `pass` case makes it build all of them a second time).
//! Models that must compile are ordinary tests in this crate.

#[test]
fn shape_mismatches_do_not_compile() {
    let t = trybuild::TestCases::new();
    // MLPs and the trainer's pairing of data, model and loss
    t.compile_fail("tests/ui/mlp_*.rs");
    t.compile_fail("tests/ui/fit_*.rs");
    t.compile_fail("tests/ui/loss_*.rs");
    // convolutional layers
    t.compile_fail("tests/ui/conv_*.rs");
}
