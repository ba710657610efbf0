//! Compile-time shape errors of the conv layers, with their messages checked in
//! (`tests/ui/*.stderr`; regenerate with `TRYBUILD=overwrite cargo test --test ui_conv`).

#[test]
fn conv_shape_errors_do_not_compile() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/conv_*.rs");
    t.pass("tests/ui/pass_conv_lenet.rs");
}
