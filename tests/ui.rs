//! Compile-fail tests: shape mismatches are compile errors, with the messages checked in.

#[test]
fn shape_mismatches_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
