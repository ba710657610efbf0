//! Tutorial 9: transfer learning. A CNN learns the Fashion-MNIST classes 0–4 (T-shirt, trouser,
//! pullover, dress, coat); its convolutions, saved to a file and loaded back by name prefix, then
//! serve the classes 5–9 (sandal, shirt, sneaker, bag, ankle boot) from a small training set:
//! once frozen (`Frozen<Convs>`: only the new head trains), once fine-tuned (every layer trains),
//! and, for reference, a model trained from scratch on the same small set.
//!
//! ```text
//! apt-get install -y dataset-fashion-mnist
//! cargo run --release --example 09_fine_tuning
//! cargo run --release --example 09_fine_tuning -- --tune-samples 500 --json
//! ```
//!
//! Result (measured, seed 0, defaults: 2 epochs on the 30,000 images of classes 0–4, then 5
//! epochs on 1,000 images of classes 5–9, tested on the 5,000 test images of classes 5–9):
//! frozen convolutions 0.9314, fine-tuned 0.9320, from scratch 0.9140; pretraining test accuracy
//! on classes 0–4 0.9048. The example exits with code 1 if a transferred model does not beat the
//! one trained from scratch. With `--json` the last line holds `pretrain_accuracy`,
//! `frozen_accuracy`, `fine_tuned_accuracy` and `scratch_accuracy`.
//!
//! Keras:
//! ```python
//! base.trainable = False
//! model = Sequential([base, Flatten(), Dense(64, activation="relu"), Dense(5)])
//! ```
use clap::Parser;
use common::{DeviceFlag, ExampleDevice, OnDevice};
use std::path::PathBuf;
use std::process::ExitCode;
use typenet::checkpoint::{load_model_with, save_model, LoadOptions};
use typenet::prelude::*;

mod common;

/// The convolutions: what is transferred.
type Convs = (
    (Conv2D<1, 16, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<16, 32, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
);
/// A classifier head for five classes.
type Head = (Flatten2D, Linear<1568, 64>, ReLU, Linear<64, 5>);
/// The model trained on classes 0–4, fine-tuned whole, or trained from scratch.
type Cnn = (Convs, Head);
/// The same with its convolutions frozen: only the head trains.
type FrozenCnn = (Frozen<Convs>, Head);

type Images5 = InMemory<Rank3<1, 28, 28>, Classes<5>, u8>;

#[derive(Parser)]
#[command(about = "Transfer a CNN's convolutions from Fashion-MNIST classes 0-4 to 5-9")]
struct Args {
    /// Directory holding the four Fashion-MNIST IDX files (raw or .gz).
    #[arg(long, default_value = FASHION_MNIST_DIR)]
    data: PathBuf,
    /// Epochs of pretraining on the 30,000 training images of classes 0–4.
    #[arg(long, default_value_t = 2, value_parser = common::at_least_one)]
    epochs: usize,
    /// Epochs on the small training set of classes 5–9.
    #[arg(long, default_value_t = 5, value_parser = common::at_least_one)]
    tune_epochs: usize,
    /// Training images of classes 5–9 (the first ones of the training set).
    #[arg(long, default_value_t = 1000, value_parser = common::at_least_one)]
    tune_samples: usize,
    /// Seed of the weight initialisation and the shuffling.
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
    let outcome = common::dispatch(&args, args.device.device, args.seed, "09_fine_tuning");
    common::exit(outcome, Some(common::FASHION_MNIST_HINT))
}

impl OnDevice for Args {
    fn run<D: ExampleDevice>(&self, dev: D) -> typenet::Result<()> {
        transfer(self, dev)
    }
}

/// The images of classes `first..first + 5` of `data`, labelled `0..5`.
fn five_classes(
    data: &InMemory<Rank3<1, 28, 28>, Classes<10>, u8>,
    first: usize,
) -> typenet::Result<Images5> {
    let picked: Vec<usize> = (0..data.len())
        .filter(|&i| (first..first + 5).contains(&data.targets()[i]))
        .collect();
    let labels = picked.iter().map(|&i| data.targets()[i] - first).collect();
    InMemory::new(data.select(&picked)?.features().to_vec(), labels)
}

fn transfer<D: ExampleDevice>(args: &Args, dev: D) -> typenet::Result<()> {
    let data = FashionMnistImages::load(&args.data)?;
    let (old_train, old_test) = (five_classes(&data.train, 0)?, five_classes(&data.test, 0)?);
    let new_train = five_classes(&data.train, 5)?.take(args.tune_samples);
    let new_test = five_classes(&data.test, 5)?;
    let fit = |epochs| FitConfig {
        epochs,
        seed: args.seed,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };

    // 1. learn classes 0–4 and save the model
    let mut pre = Trainer::compile(
        &dev,
        dev.build_module::<Cnn, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    pre.fit(&old_train, &fit(args.epochs))?;
    let pretrain_accuracy = pre.evaluate(&old_test)?.metrics["accuracy"];
    println!(
        "classes 0-4: test accuracy {pretrain_accuracy:.4} after {} epochs",
        args.epochs
    );
    let dir = std::env::temp_dir().join(format!("typenet-fine-tuning-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.clone(),
        source,
    })?;
    let saved = dir.join("classes-0-4.safetensors");
    save_model(&pre.model, &saved)?;
    // the convolutions are the file's tensors named `0.…`
    let convs = LoadOptions {
        prefix: "0.".into(),
        ..LoadOptions::default()
    };

    // 2. frozen convolutions, new head
    let mut frozen = dev.build_module::<FrozenCnn, f32>();
    load_model_with(&mut frozen.0.inner, &saved, &convs)?;
    let frozen_accuracy = tune(&dev, frozen, &new_train, &new_test, &fit(args.tune_epochs))?;

    // 3. every layer fine-tuned from the same start
    let mut whole = dev.build_module::<Cnn, f32>();
    load_model_with(&mut whole.0, &saved, &convs)?;
    let fine_tuned_accuracy = tune(&dev, whole, &new_train, &new_test, &fit(args.tune_epochs))?;

    // 4. no transfer
    let scratch = dev.build_module::<Cnn, f32>();
    let scratch_accuracy = tune(&dev, scratch, &new_train, &new_test, &fit(args.tune_epochs))?;
    std::fs::remove_dir_all(&dir).ok();

    println!(
        "classes 5-9 from {} images, test accuracy: frozen convolutions {frozen_accuracy:.4}, \
         fine-tuned {fine_tuned_accuracy:.4}, from scratch {scratch_accuracy:.4}",
        new_train.len()
    );
    common::require(
        frozen_accuracy > scratch_accuracy && fine_tuned_accuracy > scratch_accuracy,
        "both transferred models beat the one trained from scratch",
        format!("frozen {frozen_accuracy:.4}, fine-tuned {fine_tuned_accuracy:.4}, scratch {scratch_accuracy:.4}"),
    );
    if args.json {
        let json = serde_json::json!({
            "pretrain_accuracy": pretrain_accuracy,
            "frozen_accuracy": frozen_accuracy,
            "fine_tuned_accuracy": fine_tuned_accuracy,
            "scratch_accuracy": scratch_accuracy,
            "tune_samples": new_train.len(),
            "seed": args.seed,
        });
        println!("{json}");
    }
    Ok(())
}

/// Trains `model` on `train` and returns its test accuracy on `test`.
fn tune<M, D>(
    dev: &D,
    model: M,
    train: &Images5,
    test: &Images5,
    cfg: &FitConfig,
) -> typenet::Result<f64>
where
    D: ExampleDevice,
    M: TrainModel<(usize, Const<1>, Const<28>, Const<28>), D, Out = (usize, Const<5>)>
        + TensorCollection<f32, D>,
{
    let mut t = Trainer::compile(
        dev,
        model,
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    t.fit(train, cfg)?;
    Ok(t.evaluate(test)?.metrics["accuracy"])
}
