//! Trains the tutorial's LeNet-style CNN on Fashion-MNIST briefly, then exports it to ONNX: a
//! file ONNX Runtime, tract, TensorRT or a browser runs without typenet.
//!
//! ```text
//! apt-get install -y dataset-fashion-mnist
//! cargo run --release --features onnx --example export_onnx -- --out cnn.onnx
//! cargo run --release --features onnx --example export_onnx -- --out cnn.onnx --epochs 1 --json
//! python3 scripts/onnx_check.py cnn.onnx     # onnx.checker, then ONNX Runtime runs it
//! cargo run --features onnx --bin onnx2type -- cnn.onnx   # the type back, and its weights
//! ```
//!
//! The file takes `input` of shape `(batch, 1, 28, 28)` (any batch) and gives `output`, the
//! ten class scores.
//!
//! Result (measured, `--release`, seed 0, 1 epoch, 38.5 s of training on a loaded machine): test
//! accuracy 0.8692. The exported file classifies the 10,000 test images the same in ONNX Runtime
//! 1.32 (0.8692; it passes `onnx.checker` too) and in tract 0.23 (0.8692, with
//! `cargo run -p interop-tests --example tract_accuracy -- cnn.onnx`). With `--json` the last line is one JSON object with `test_accuracy`,
//! `test_loss`, `train_seconds`, `epochs`, `seed` and `out`.
//!
//! In Python:
//! ```python
//! import numpy as np, onnxruntime as ort
//! scores = ort.InferenceSession("cnn.onnx").run(None, {"input": images.astype(np.float32)})[0]
//! ```
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;
use typenet::prelude::*;

/// The tutorial's CNN: two conv/ReLU/pool blocks ("same" padding), then two dense layers.
type Cnn = (
    (Conv2D<1, 16, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<16, 32, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<1568, 64>, ReLU, Linear<64, 10>),
);

#[derive(Parser)]
#[command(about = "Train a CNN on Fashion-MNIST and export it to ONNX")]
struct Args {
    /// Directory holding the four Fashion-MNIST IDX files (raw or .gz).
    #[arg(long, default_value = FASHION_MNIST_DIR)]
    data: PathBuf,
    /// The ONNX file to write.
    #[arg(long, default_value = "fashion_mnist_cnn.onnx")]
    out: PathBuf,
    /// Passes over the 60,000 training images.
    #[arg(long, default_value_t = 1)]
    epochs: usize,
    /// Seed of the weight initialisation and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print one JSON object with the results as the last line.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ Error::DatasetMissing { .. }) => {
            eprintln!("error: {e}\nInstall it with `apt-get install -y dataset-fashion-mnist` or pass --data DIR.");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> typenet::Result<()> {
    let data = FashionMnistImages::load(&args.data)?;
    let dev = Cpu::seed_from_u64(args.seed);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Cnn, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    let cfg = FitConfig {
        epochs: args.epochs.max(1),
        seed: args.seed,
        ..Default::default()
    };
    let history = model.fit(&data.train, &cfg)?;
    let test = model.evaluate(&data.test)?;
    typenet::onnx::export::<_, Rank3<1, 28, 28>>(&model.model, &args.out)?;
    let train_seconds: f64 = history.epochs.iter().map(|e| e.seconds).sum();
    println!(
        "test accuracy {:.4}; wrote {}",
        test.metrics["accuracy"],
        args.out.display()
    );
    if args.json {
        let json = serde_json::json!({
            "test_accuracy": test.metrics["accuracy"],
            "test_loss": test.loss,
            "train_seconds": train_seconds,
            "epochs": cfg.epochs,
            "seed": args.seed,
            "out": args.out,
        });
        println!("{json}");
    }
    Ok(())
}
