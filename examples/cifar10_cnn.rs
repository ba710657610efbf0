//! A small CNN on CIFAR-10 (3×32×32 colour images, 10 classes) with per-channel normalisation
//! computed on the training set and random-crop + flip augmentation, every shape checked by the
//! compiler.
//!
//! ```text
//! cargo run --release --example cifar10_cnn -- --data DIR [--epochs N] [--seed N] [--json]
//! cargo run --release --features cuda --example cifar10_cnn -- --data DIR --device cuda
//! ```
//!
//! `DIR` holds `cifar-10-batches-bin/` (or its six files: `data_batch_1.bin` … `data_batch_5.bin`,
//! `test_batch.bin`, 3,073-byte records), the binary version from the CIFAR-10 page. CIFAR-10 is not
//! packaged for Debian and nothing is downloaded at run time: without the files the example says
//! where to get them and exits with code 2. The loader itself is tested on files the tests write in
//! the exact format (`tests/it/data_pipeline.rs`, `tests/it/malformed.rs`).
//!
//! Result: not measured (the data set was not at hand when this example was written); the
//! network trains the same way as `06_fashion_mnist_cnn`, whose result is in its header.
use clap::Parser;
use common::{DeviceFlag, ExampleDevice, OnDevice};
use std::path::PathBuf;
use std::process::ExitCode;
use typenet::prelude::*;

mod common;

/// Two convolution blocks and a classifier; the compiler computes 32×32 → 16×16 → 8×8.
type Cnn = (
    (Conv2D<3, 32, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<32, 64, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<4096, 128>, ReLU, Linear<128, 10>),
);

#[derive(Parser)]
#[command(about = "Train a small CNN on CIFAR-10")]
struct Args {
    /// Directory holding cifar-10-batches-bin (or its files).
    #[arg(long, default_value = "data")]
    data: PathBuf,
    /// Passes over the 50,000 training images.
    #[arg(long, default_value_t = 10, value_parser = common::at_least_one)]
    epochs: usize,
    /// Seed of the initialisation, the shuffling and the augmentation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object with the results as the last line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    device: DeviceFlag,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = common::dispatch(&args, args.device.device, args.seed, "cifar10_cnn");
    common::exit(
        outcome,
        Some("pass --data DIR with the unpacked cifar-10-batches-bin (see this example's header)"),
    )
}

impl OnDevice for Args {
    fn run<D: ExampleDevice>(&self, dev: D) -> typenet::Result<()> {
        train(self, dev)
    }
}

fn train<D: ExampleDevice>(args: &Args, dev: D) -> typenet::Result<()> {
    let data = Cifar10::load(&args.data)?;
    println!("{}", summary::<Cnn, Rank3<3, 32, 32>>());
    let norm = ChannelNorm::fit(&data.train)?;
    let test = Transformed::new(&data.test, norm.clone());
    let train = Augmented::new(
        Transformed::new(&data.train, norm),
        (RandomCrop { padding: 4 }, HorizontalFlip::default()),
    );
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Cnn, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    let cfg = FitConfig {
        epochs: args.epochs,
        seed: args.seed,
        batch_size: 64,
        ..Default::default()
    };
    let history = model.fit(&train, &cfg)?;
    let result = model.evaluate(&test)?;
    println!("test {result}");
    if args.json {
        let json = serde_json::json!({
            "test_accuracy": result.metrics["accuracy"],
            "test_loss": result.loss,
            "epochs": args.epochs,
            "seed": args.seed,
            "train_seconds": history.epochs.iter().map(|e| e.seconds).sum::<f64>(),
        });
        println!("{json}");
    }
    Ok(())
}
