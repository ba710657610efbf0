//! VGG-16 on 224×224 images as a typenet type: thirteen 3×3 convolutions, five 2×2 max-pools and
//! three dense layers, every output size computed by the compiler, and its Keras-style summary.
//!
//! ```text
//! cargo run --release --example vgg16_shapes            # prints the summary (no weights built)
//! cargo run --release --example vgg16_shapes -- --step  # builds the 138M-parameter model (550 MB)
//!                                                       # and runs one forward + backward pass
//! touch examples/vgg16_shapes.rs && time cargo build --release --example vgg16_shapes
//! ```
//!
//! Result (measured): 138,357,544 parameters, the published VGG-16 count; `--step` runs one
//! forward + backward pass on a 224×224 image in 3.1 s (peak RSS 1.8 GB). Rebuilding this file
//! with forward and backward monomorphised takes 11–12 s with this repository's release profile
//! (thin LTO, one codegen unit) on a 2-core machine, and 3.6–3.9 s in a downstream crate with a
//! default release profile (2.0 s there for a two-convolution model): the shape tables keep a
//! VGG-sized model's build far under a minute (dfdx's inline arithmetic took 15 minutes:
//! <https://github.com/coreylowman/dfdx/issues/390>).
use typenet::prelude::*;

/// A 3×3 "same" convolution and its ReLU.
type Block<const I: usize, const O: usize> = (Conv2D<I, O, 3, 1, 1>, ReLU);

/// VGG-16 (configuration D of Simonyan and Zisserman, 2014).
type Vgg16 = (
    (Block<3, 64>, Block<64, 64>, MaxPool2D<2, 2>),
    (Block<64, 128>, Block<128, 128>, MaxPool2D<2, 2>),
    (
        Block<128, 256>,
        Block<256, 256>,
        Block<256, 256>,
        MaxPool2D<2, 2>,
    ),
    (
        Block<256, 512>,
        Block<512, 512>,
        Block<512, 512>,
        MaxPool2D<2, 2>,
    ),
    (
        Block<512, 512>,
        Block<512, 512>,
        Block<512, 512>,
        MaxPool2D<2, 2>,
    ),
    (
        Flatten2D,
        (Linear<25088, 4096>, ReLU),
        (Linear<4096, 4096>, ReLU),
        Linear<4096, 1000>,
    ),
);

const _: () = assert!(<Vgg16 as Params>::PARAMS == 138_357_544);

fn main() -> typenet::Result<()> {
    println!("{}", summary::<Vgg16, Rank3<3, 224, 224>>());
    if std::env::args().any(|a| a == "--step") {
        let dev = Cpu::seed_from_u64(0);
        let mut model = dev.try_build_module::<Vgg16, f32>()?;
        let x: Tensor<(usize, Const<3>, Const<224>, Const<224>), f32, _> =
            dev.sample_normal_like(&(1, Const, Const, Const));
        let logits = model.try_forward_mut(x.leaky_traced())?;
        let grads = logits.try_sum()?.try_backward()?;
        println!(
            "one forward + backward pass: {} gradient values for the first layer",
            grads.get(&model.0 .0 .0.weight).as_vec().len()
        );
    }
    Ok(())
}
