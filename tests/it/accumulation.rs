//! Gradient accumulation (`FitConfig::accumulation_steps`): a step of k micro-batches follows
//! the gradient of the mean loss over all their samples.

use typenet::distributed::Single;
use typenet::prelude::*;

/// Five samples of a 2-input regression.
fn five() -> InMemory<Rank1<2>, Values<1>> {
    let x = vec![1.0, 2.0, -1.0, 0.5, 0.0, -2.0, 3.0, 1.0, -0.5, -1.5];
    let y = vec![[1.0], [-1.0], [2.0], [0.5], [-2.0]];
    InMemory::new(x, y).unwrap()
}

type Lin = Linear<2, 1>;

fn sgd_line(lr: f64) -> Trainer<Built<Lin>, Sgd<Built<Lin>, f32, Cpu>, MeanSquaredError> {
    let dev = Cpu::seed_from_u64(0);
    let mut net = dev.build_module::<Lin, f32>();
    net.weight = dev.tensor([[0.5, -0.25]]);
    net.bias = dev.tensor([0.1]);
    let sgd = SgdConfig {
        lr,
        ..Default::default()
    };
    Trainer::compile(&dev, net, sgd, MeanSquaredError, &["mae"]).unwrap()
}

fn quiet(batch_size: usize, accumulation_steps: usize, epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size,
        accumulation_steps,
        shuffle: false,
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

#[test]
fn two_micro_batches_step_on_the_mean_gradient_of_all_four_samples() {
    // Hand derivation, in f64: with MSE over one output, ∂/∂w of the mean over a set S of
    // (w·x + b − y)² is (2/|S|) Σ_S (w·x + b − y)·x. Batch 2 × 2 micro-batches on 5 samples
    // (no shuffle): step 1 is plain SGD on the mean over samples 0–3 (each micro-batch's
    // gradient weighted by 2/4), step 2 on sample 4 alone (the remainder).
    let lr = 0.1;
    let data = five();
    let (xs, ys): (Vec<[f64; 2]>, Vec<f64>) = (0..5)
        .map(|i| {
            let x = &data.features()[2 * i..2 * i + 2];
            ([x[0] as f64, x[1] as f64], data.target(i)[0] as f64)
        })
        .unzip();
    let (mut w, mut b) = ([0.5f64, -0.25], 0.1f64);
    let (mut sq, mut abs) = (0.0, 0.0);
    for step in [0..4, 4..5] {
        let n = step.len() as f64;
        let (mut gw, mut gb) = ([0.0; 2], 0.0);
        for i in step {
            let e = w[0] * xs[i][0] + w[1] * xs[i][1] + b - ys[i];
            sq += e * e;
            abs += e.abs();
            gw[0] += 2.0 * e * xs[i][0] / n;
            gw[1] += 2.0 * e * xs[i][1] / n;
            gb += 2.0 * e / n;
        }
        w = [w[0] - lr * gw[0], w[1] - lr * gw[1]];
        b -= lr * gb;
    }
    let mut m = sgd_line(lr);
    let history = m.fit(&data, &quiet(2, 2, 1)).unwrap();
    let got = m.model.weight.as_vec();
    for (g, e) in got.iter().zip(w) {
        assert!(
            (*g as f64 - e).abs() < 1e-6,
            "weights {got:?}, expected {w:?}"
        );
    }
    assert!((m.model.bias.as_vec()[0] as f64 - b).abs() < 1e-6);
    // the History counts all five samples once, each at the weights of its step
    let log = &history.epochs[0].values;
    assert!((log["loss"] - sq / 5.0).abs() < 1e-6, "{log:?}");
    assert!((log["mae"] - abs / 5.0).abs() < 1e-6, "{log:?}");
}

type Net = (Linear<4, 8>, Tanh, Linear<8, 3>);

/// 61 samples of 4 features in 3 classes (deterministic, no generator).
fn blobs() -> InMemory<Rank1<4>, Classes<3>> {
    let n = 61;
    let x = (0..n * 4)
        .map(|i| ((i * 37 % 23) as f32 / 23.0 - 0.5) + if i % 4 == (i / 4) % 3 { 1.5 } else { 0.0 })
        .collect();
    InMemory::new(x, (0..n).map(|i| i % 3).collect()).unwrap()
}

fn sgd_net() -> Trainer<Built<Net>, Sgd<Built<Net>, f32, Cpu>, SparseCategoricalCrossentropy> {
    let dev = Cpu::seed_from_u64(3);
    let sgd = SgdConfig {
        lr: 0.2,
        ..Default::default()
    };
    let net = dev.build_module::<Net, f32>();
    Trainer::compile(&dev, net, sgd, SparseCategoricalCrossentropy, &["accuracy"]).unwrap()
}

fn weights(
    m: &Trainer<Built<Net>, Sgd<Built<Net>, f32, Cpu>, SparseCategoricalCrossentropy>,
) -> Vec<f32> {
    let mut w = m.model.0.weight.as_vec();
    w.extend(m.model.0.bias.as_vec());
    w.extend(m.model.2.weight.as_vec());
    w.extend(m.model.2.bias.as_vec());
    w
}

#[test]
fn four_micro_batches_of_8_match_one_batch_of_32_to_rounding() {
    // the oracle is the plain step on the whole batch: 61 samples give steps of 32 and 29
    // (micro-batches 8, 8, 8, 5 on the last); only the order of the additions differs
    let data = blobs();
    let mut whole = sgd_net();
    let hw = whole.fit(&data, &quiet(32, 1, 3)).unwrap();
    let mut micro = sgd_net();
    let hm = micro.fit(&data, &quiet(8, 4, 3)).unwrap();
    let (a, b) = (weights(&whole), weights(&micro));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(worst < 1e-5, "largest weight difference {worst}");
    assert!(a != vec![0.0; a.len()]);
    for (x, y) in hw.epochs.iter().zip(&hm.epochs) {
        assert!((x.values["loss"] - y.values["loss"]).abs() < 1e-5);
        assert_eq!(x.values["accuracy"], y.values["accuracy"]);
    }
}

#[test]
fn the_micro_batch_path_with_one_rank_and_one_micro_batch_is_the_plain_step_bit_for_bit() {
    // k = 1 on a Single communicator runs the micro-batch path: the gradient computed alone,
    // scaled by n/n = 1 (exact) and copied, is the plain step's gradient; the loss and metrics
    // read back from the exchanged records are the same numbers (0 + l·n is l·n)
    let data = blobs();
    let mut plain = sgd_net();
    let hp = plain.fit(&data, &quiet(8, 1, 2)).unwrap();
    let mut grouped = sgd_net();
    let hg = grouped
        .fitting(&data)
        .distributed(&Single)
        .run(&quiet(8, 1, 2))
        .unwrap();
    assert_eq!(weights(&plain), weights(&grouped));
    let figures = |h: &History| -> Vec<_> { h.epochs.iter().map(|e| e.values.clone()).collect() };
    assert_eq!(figures(&hp), figures(&hg));
    assert_eq!(hp.epochs.len(), 2);
}

#[test]
fn zero_accumulation_steps_is_refused() {
    let err = sgd_net().fit(&blobs(), &quiet(8, 0, 1)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                what: "accumulation_steps",
                ..
            }
        ),
        "{err}"
    );
}
