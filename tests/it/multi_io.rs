//! Models with several inputs and several outputs: a two-input model against the one-input model
//! on the concatenated features (the same numbers, bit for bit), each output's loss reaching only
//! its own head (a zero weight leaves the other head untouched), and per-output metrics.

use typenet::prelude::*;
use typenet::train::metrics::on_output;

const SAMPLES: usize = 64;

/// Features in `[0, 1)` of `SAMPLES` samples with 5 values each (2 for the first input, 3 for the
/// second), and a regression target `y = Σ w_j x_j` with known weights.
fn regression() -> (Vec<f32>, Vec<[f32; 1]>) {
    let w = [0.5f32, -1.0, 2.0, 0.25, -0.75];
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let x: Vec<f32> = (0..SAMPLES * 5).map(|_| rng.gen_range(0.0..1.0)).collect();
    let y = x
        .chunks_exact(5)
        .map(|r| [r.iter().zip(w).map(|(a, b)| a * b).sum()])
        .collect();
    (x, y)
}

fn config(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 16,
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

/// Two inputs joined by `Concat` before one `Linear` compute exactly what that `Linear` computes
/// on the five features in one input (the branches are `ReLU`s, which leave non-negative
/// features as they are): the same initial weights (same seed), the same batches, and after
/// training the same weights, bit for bit.
#[test]
fn two_inputs_train_exactly_like_their_concatenation() {
    type TwoInputs = (Unpack, Parallel<(ReLU, ReLU)>, Concat<5>, Linear<5, 1>);
    let (x, y) = regression();
    let flat = InMemory::<Rank1<5>, Values<1>>::new(x.clone(), y.clone()).unwrap();
    let two = InMemory::<Inputs<(Rank1<2>, Rank1<3>)>, Values<1>>::new(x.clone(), y).unwrap();

    let dev = Cpu::seed_from_u64(9);
    let mut one = Trainer::compile(
        &dev,
        dev.build_module::<Linear<5, 1>, f32>(),
        AdamConfig::default(),
        MeanSquaredError,
        &["mae"],
    )
    .unwrap();
    let dev = Cpu::seed_from_u64(9);
    let mut joined = Trainer::compile(
        &dev,
        dev.build_module::<TwoInputs, f32>(),
        AdamConfig::default(),
        MeanSquaredError,
        &["mae"],
    )
    .unwrap();
    assert_eq!(one.model.weight.as_vec(), joined.model.3.weight.as_vec());
    let h1 = one.fit(&flat, &config(3)).unwrap();
    let h2 = joined.fit(&two, &config(3)).unwrap();
    assert_eq!(one.model.weight.as_vec(), joined.model.3.weight.as_vec());
    assert_eq!(one.model.bias.as_vec(), joined.model.3.bias.as_vec());
    assert_eq!(h1.series("loss"), h2.series("loss"));
    assert_eq!(h1.series("mae"), h2.series("mae"));
}

/// `Zip` of an image set and a set of extra numbers is the same data set as the packed
/// `InMemory`, and refuses sets of different lengths.
#[test]
fn zip_pairs_samples_and_refuses_different_lengths() {
    let (x, y) = regression();
    let first: Vec<f32> = x.chunks_exact(5).flat_map(|r| r[..2].to_vec()).collect();
    let second: Vec<f32> = x.chunks_exact(5).flat_map(|r| r[2..].to_vec()).collect();
    let a = InMemory::<Rank1<2>, Values<1>>::new(first, y.clone()).unwrap();
    let b = InMemory::<Rank1<3>, NoLabels>::unlabeled(second).unwrap();
    let zipped = Zip::new(&a, &b).unwrap();
    let packed = InMemory::<Inputs<(Rank1<2>, Rank1<3>)>, Values<1>>::new(x, y).unwrap();
    assert_eq!(zipped.len(), SAMPLES);
    for i in [0, 17, SAMPLES - 1] {
        let (mut p, mut q) = ([0.0; 5], [0.0; 5]);
        zipped.write_features(i, &mut p);
        packed.write_features(i, &mut q);
        assert_eq!((p, zipped.target(i)), (q, packed.target(i)));
    }
    let short = b.take(10);
    let err = Zip::new(&a, &short).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LengthMismatch {
                expected: SAMPLES,
                found: 10,
                ..
            }
        ),
        "{err:?}"
    );
}

type TwoHeads = (
    Linear<4, 16>,
    ReLU,
    SplitInto<(Linear<16, 3>, Linear<16, 1>)>,
    Pack,
);

/// 4 features; a class (which of the first three features is largest) and a value (their sum).
fn two_targets() -> InMemory<Rank1<4>, PerOutput<(Classes<3>, Values<1>)>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let x: Vec<f32> = (0..256 * 4).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let t = x
        .chunks_exact(4)
        .map(|r| {
            let class = (0..3).fold(0, |b, i| if r[i] > r[b] { i } else { b });
            (class, [r.iter().sum::<f32>()])
        })
        .collect();
    InMemory::new(x, t).unwrap()
}

type TwoHeadTrainer =
    AdamTrainer<TwoHeads, Losses<(SparseCategoricalCrossentropy, MeanSquaredError), 2>>;

fn two_head_trainer(seed: u64, weights: [f64; 2]) -> TwoHeadTrainer {
    let dev = Cpu::seed_from_u64(seed);
    Trainer::compile(
        &dev,
        dev.build_module::<TwoHeads, f32>(),
        AdamConfig {
            lr: 1e-2,
            ..Default::default()
        },
        Losses::weighted((SparseCategoricalCrossentropy, MeanSquaredError), weights),
        vec![
            metric("accuracy").unwrap(),
            on_output(1, metric("mae").unwrap()),
        ],
    )
    .unwrap()
}

/// Each output's loss trains its own head: with output 1 weighted 0 the value head's weights
/// end exactly as they started (no gradient reaches them), with output 0 weighted 0 the class
/// head's do; with both weighted, both heads learn (accuracy and MAE per output).
#[test]
fn each_output_loss_reaches_its_own_head() {
    let data = two_targets();
    let heads = |m: &Built<TwoHeads>| {
        let (class, value) = &m.2 .0;
        (class.weight.as_vec(), value.weight.as_vec())
    };

    let mut classes_only = two_head_trainer(1, [1.0, 0.0]);
    let before = heads(&classes_only.model);
    classes_only.fit(&data, &config(2)).unwrap();
    let after = heads(&classes_only.model);
    assert_ne!(before.0, after.0);
    assert_eq!(
        before.1, after.1,
        "a zero weight must leave the value head untouched"
    );

    let mut values_only = two_head_trainer(1, [0.0, 1.0]);
    values_only.fit(&data, &config(2)).unwrap();
    let after = heads(&values_only.model);
    assert_eq!(
        before.0, after.0,
        "a zero weight must leave the class head untouched"
    );
    assert_ne!(before.1, after.1);

    let mut both = two_head_trainer(1, [1.0, 0.5]);
    let history = both.fit(&data, &config(30)).unwrap();
    let names: Vec<&String> = history.epochs[0].values.keys().collect();
    assert_eq!(names, ["accuracy", "loss", "output1_mae"]);
    let eval = both.evaluate(&data).unwrap();
    assert!(eval.metrics["accuracy"] > 0.9, "{eval}");
    assert!(eval.metrics["output1_mae"] < 0.15, "{eval}");
}

/// The loss of two outputs is the weighted sum of each output's loss (computed here with the
/// single-output losses on the two heads' outputs, taken apart by hand).
#[test]
fn the_loss_of_two_outputs_is_the_weighted_sum() {
    let dev = Cpu::default();
    let y = vec![0.5f32, -1.0, 2.0, 0.3, 1.0, 1.0, 0.0, -0.2];
    let packed = dev.tensor_from_vec(y.clone(), (2, Packed::<(Rank1<3>, Rank1<1>)>::new()));
    let classes = dev.tensor_from_vec(vec![2usize, 0], (2,));
    let values = dev.tensor_from_vec(vec![1.0f32, 0.0], (2, Const::<1>));
    let loss = Losses::weighted(
        (SparseCategoricalCrossentropy, MeanSquaredError),
        [2.0, 0.25],
    )
    .try_loss(packed, &(classes, values))
    .unwrap()
    .array();
    // cross-entropy by hand: −log softmax(row)[class]
    let ce = |row: &[f32], c: usize| {
        let s: f64 = row.iter().map(|&v| (v as f64).exp()).sum();
        -((row[c] as f64).exp() / s).ln()
    };
    let ce = (ce(&y[0..3], 2) + ce(&y[4..7], 0)) / 2.0;
    let mse = ((0.3f64 - 1.0).powi(2) + (-0.2f64).powi(2)) / 2.0;
    let want = 2.0 * ce + 0.25 * mse;
    assert!((loss as f64 - want).abs() < 1e-5, "{loss} vs {want}");
}

/// A metric of an output the model does not have is refused before the first step.
#[test]
fn a_metric_of_a_missing_output_is_refused() {
    let (x, y) = regression();
    let data = InMemory::<Rank1<5>, Values<1>>::new(x, y).unwrap();
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Linear<5, 1>, f32>(),
        AdamConfig::default(),
        MeanSquaredError,
        &["output1_mae"],
    )
    .unwrap();
    let err = model.fit(&data, &config(1)).unwrap_err();
    assert!(
        matches!(&err, Error::MetricMismatch { metric, .. } if metric == "output1_mae"),
        "{err:?}"
    );
    assert!(err.to_string().contains("which has 1 output"), "{err}");
}

/// A model of two inputs in `summary` and its cost constants: hand counts.
#[test]
fn a_two_input_model_has_a_summary() {
    type Net = (
        Unpack,
        Parallel<(Linear<2, 3>, Linear<3, 4>)>,
        Concat<7>,
        Linear<7, 1>,
    );
    type Sample = Inputs<(Rank1<2>, Rank1<3>)>;
    // weights and biases: 2·3 + 3, 3·4 + 4, 7·1 + 1
    assert_eq!(<Net as Params>::PARAMS, 9 + 16 + 8);
    // multiply-adds per sample: 2·3 + 3·4 in the branches, 7 in the head
    assert_eq!(<Net as Summarize<Sample>>::MACS, 6 + 12 + 7);
    let s = summary::<Net, Sample>();
    assert_eq!(s.rows.last().map(|r| r.output.clone()), Some(vec![1]));
}
