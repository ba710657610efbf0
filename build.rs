//! Generates typenet's compile-time shape tables (`$OUT_DIR/shape_table.rs`, included by
//! `src/nn/shape.rs`).
//!
//! Every output size is a literal computed here, so rustc does no const evaluation. The tables are
//! split into many small helper traits (one per padding, per kernel×stride, per flattened map
//! size): rustc's coherence check is roughly quadratic in the impls of *one* trait on `Const<N>`,
//! so one big trait of 12k impls costs ~7 s while the split layout costs well under a second
//! (measured in `docs/design/conv-shapes.md`, §5).
//!
//! This script only writes code; it never switches features on.

use std::fmt::Write as _;
use std::{env, fs, path::Path};

/// Largest spatial input size in the conv/pool tables.
const HMAX: usize = 256;
/// Paddings in the tables (0 needs no table).
const PADS: [usize; 3] = [1, 2, 3];
/// Kernel sizes in the tables.
const KERNELS: [usize; 6] = [1, 2, 3, 4, 5, 7];
/// Strides in the tables.
const STRIDES: [usize; 2] = [1, 2];

/// Channel counts the flatten table knows.
fn flat_channels() -> Vec<usize> {
    let mut c: Vec<usize> = (1..=64).collect();
    c.extend((72..=512).step_by(8));
    c.extend((576..=1024).step_by(64));
    c
}

/// Spatial maps `(H, W)` the flatten table knows: every map up to 4×4, and the squares 1..=16,
/// 24, 28 and 32. (Each map costs one trait of `flat_channels().len()` impls; the first layout,
/// every map up to 8×8 and squares to 32, had 11k impls and made `cargo check` of the crate
/// about 2.5 s slower under load.)
fn flat_maps() -> Vec<(usize, usize)> {
    let mut m = Vec::new();
    for h in 1..=4 {
        for w in 1..=4 {
            m.push((h, w));
        }
    }
    m.extend((5..=16).chain([24, 28, 32]).map(|s| (s, s)));
    m
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut s = String::new();
    let max_padded = HMAX + 2 * PADS[PADS.len() - 1];

    for p in PADS {
        let _ = writeln!(
            s,
            "#[doc(hidden)]\n#[diagnostic::on_unimplemented(message = \"spatial size `{{Self}}` is \
             outside typenet's conv/pool size table (1..={HMAX}) for padding {p}\", label = \"input \
             height or width too large for the compile-time table\", note = \"declare the model with \
             #[typenet::network([C, H, W])] for any size, or use a runtime (usize) spatial dimension\")]\npub trait Pad{p} {{ type Out: ConstDim; }}"
        );
        for h in 1..=HMAX {
            let _ = writeln!(
                s,
                "impl Pad{p} for Const<{h}> {{ type Out = Const<{}>; }}",
                h + 2 * p
            );
        }
    }
    for k in KERNELS {
        for st in STRIDES {
            let _ = writeln!(
                s,
                "#[doc(hidden)]\n#[diagnostic::on_unimplemented(message = \"kernel {k} (stride {st}) \
                 does not fit the padded spatial size `{{Self}}`\", label = \"conv/pool window larger \
                 than its (padded) input\", note = \"padded size = input + 2*padding; it must be at \
                 least the kernel size (and at most {max_padded}); for other kernels and strides declare \
                 the model with #[typenet::network([C, H, W])]\")]\npub trait Win{k}x{st} {{ type \
                 Out: ConstDim; }}"
            );
            for x in k..=max_padded {
                let _ = writeln!(
                    s,
                    "impl Win{k}x{st} for Const<{x}> {{ type Out = Const<{}>; }}",
                    (x - k) / st + 1
                );
            }
            let _ = writeln!(
                s,
                "impl<H: ConstDim> Window<{k}, {st}, 0> for H where H: Win{k}x{st} {{ type Out = \
                 <H as Win{k}x{st}>::Out; fn window_out(self) -> Option<Self::Out> {{ \
                 Some(Default::default()) }} }}"
            );
            for p in PADS {
                let _ = writeln!(
                    s,
                    "impl<H: ConstDim + Pad{p}> Window<{k}, {st}, {p}> for H where <H as Pad{p}>::Out: \
                     Win{k}x{st} {{ type Out = <<H as Pad{p}>::Out as Win{k}x{st}>::Out; fn \
                     window_out(self) -> Option<Self::Out> {{ Some(Default::default()) }} }}"
                );
            }
        }
    }

    let chans = flat_channels();
    let (c_lo, c_hi) = (chans[0], chans[chans.len() - 1]);
    for (h, w) in flat_maps() {
        let _ = writeln!(
            s,
            "#[doc(hidden)]\n#[diagnostic::on_unimplemented(message = \"Flatten2D: {{Self}} channels \
             of {h}x{w} are outside typenet's flatten table\", label = \"no compile-time flatten \
             size\", note = \"the table knows {c_lo}..=64 channels, multiples of 8 up to 512 and of \
             64 up to {c_hi}; for any map declare the model with #[typenet::network([C, H, W])]\")]\npub trait Flat{h}x{w} {{ type Out: ConstDim; }}"
        );
        for &c in &chans {
            let _ = writeln!(
                s,
                "impl Flat{h}x{w} for Const<{c}> {{ type Out = Const<{}>; }}",
                c * h * w
            );
        }
        let _ = writeln!(
            s,
            "impl<C: ConstDim + Flat{h}x{w}> FlatDims<Const<{h}>, Const<{w}>> for C {{ type Out = \
             <C as Flat{h}x{w}>::Out; fn flat_out(self, _: Const<{h}>, _: Const<{w}>) -> Self::Out \
             {{ Default::default() }} }}"
        );
    }

    let out = Path::new(&env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("shape_table.rs");
    if let Err(e) = fs::write(&out, s) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
        std::process::exit(1);
    }
}
