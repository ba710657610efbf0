//! Tutorial 2: XOR, the function one neuron cannot learn. A single sigmoid neuron draws one
//! straight line through the plane, and no line puts (0, 1) and (1, 0) on one side and (0, 0) and
//! (1, 1) on the other; one hidden layer of four tanh units bends the boundary and learns it.
//!
//! ```text
//! cargo run --release --example 02_xor
//! ```
//!
//! Result (measured, seed 0, well under a second): the single neuron `(Linear<2, 1>, Sigmoid)`
//! stays at loss ln 2 = 0.6931 and accuracy 0.50 after 1,000 epochs, every output 0.500 (it can
//! never pass 0.75); the MLP `(Linear<2, 4>, Tanh, Linear<4, 1>, Sigmoid)` reaches accuracy 1.00
//! with loss 0.0002 (outputs 0.000, 1.000, 1.000, 0.000). Both are trained by the same
//! Keras-style `Trainer` (Adam, lr 0.05, binary cross-entropy). An MLP below accuracy 1.00 (or a
//! neuron above 0.75, which would contradict the geometry) fails the run (exit code 1).
use typenet::prelude::*;

mod common;

/// One neuron: `y = σ(w₁x₁ + w₂x₂ + b)`.
type Neuron = (Linear<2, 1>, Sigmoid);
/// A hidden layer of 4 tanh units, then one sigmoid output.
type Mlp = (Linear<2, 4>, Tanh, Linear<4, 1>, Sigmoid);

/// Trains model type `M` on `xor` and prints its truth table.
fn train<M>(name: &str, xor: &InMemory<Rank1<2>, Values<1>>) -> typenet::Result<f64>
where
    M: BuildOnDevice<Cpu, f32>,
    Built<M>: TrainModel<(usize, Const<2>), Cpu, Out = (usize, Const<1>)>,
{
    let dev = Cpu::seed_from_u64(0);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<M, f32>(),
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
        BinaryCrossentropy,
        &["accuracy"],
    )?;
    let cfg = FitConfig {
        epochs: 1000,
        batch_size: 4,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    model.fit(xor, &cfg)?;
    let eval = model.evaluate(xor)?;
    let outputs = model.predict(xor)?;
    println!("{name}: {eval}");
    for i in 0..xor.len() {
        let mut x = [0.0; 2];
        xor.write_features(i, &mut x);
        println!(
            "  xor({}, {}) = {:.3}  (target {})",
            x[0],
            x[1],
            outputs.row(i)[0],
            xor.target(i)[0]
        );
    }
    Ok(eval.metrics["accuracy"])
}

fn main() -> typenet::Result<()> {
    let xor = InMemory::<Rank1<2>, Values<1>>::new(
        vec![0., 0., 0., 1., 1., 0., 1., 1.],
        vec![[0.], [1.], [1.], [0.]],
    )?;
    let neuron = train::<Neuron>("single neuron", &xor)?;
    let mlp = train::<Mlp>("MLP with a hidden layer", &xor)?;
    println!("\naccuracy: single neuron {neuron:.2}, MLP {mlp:.2}");
    common::require(mlp >= 1.0, "MLP accuracy 1.00", format!("{mlp:.2}"));
    common::require(
        neuron <= 0.75,
        "single-neuron accuracy at most 0.75",
        format!("{neuron:.2}"),
    );
    Ok(())
}
