//! Freezing a sub-model: `Frozen<M>` keeps `M`'s tensors bit for bit through `fit`, passes the
//! gradient to the layers before it (the unfrozen twin's gradients are the oracle), runs batch
//! normalisation in inference mode, keeps tensor names, and counts no trainable parameters.

use dfdx::nn::tensor_collection::TensorCollection;
use rand::rngs::StdRng;
use typenet::checkpoint::{load_model, load_model_with, save_model, LoadOptions, Snapshot};
use typenet::prelude::*;

fn regression_data() -> InMemory<Rank1<3>, Values<2>> {
    let mut rng = StdRng::seed_from_u64(11);
    let xs: Vec<f32> = (0..3 * 32).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let ys: Vec<[f32; 2]> = xs
        .chunks(3)
        .map(|x| [x[0] - 2.0 * x[1], x[1] * x[2]])
        .collect();
    InMemory::new(xs, ys).unwrap()
}

/// Every tensor of `m` (batch-norm statistics and scalars included), by name.
fn flat<M: TensorCollection<f32, Cpu>>(m: &M) -> Snapshot {
    Snapshot::of(m).unwrap()
}

type Plain = (Linear<3, 4>, Tanh, Linear<4, 4>, Tanh, Linear<4, 2>);
type MiddleFrozen = (
    Linear<3, 4>,
    Tanh,
    Frozen<(Linear<4, 4>, Tanh)>,
    Linear<4, 2>,
);

/// One full-batch SGD step on the model with a frozen middle and on its unfrozen twin from the
/// same weights: the layers around the frozen block get exactly the twin's update (the gradient
/// flows through the frozen block unchanged), and the frozen block keeps its weights bit for bit.
#[test]
fn a_frozen_middle_keeps_its_weights_and_passes_the_gradient_through() {
    let data = regression_data();
    let dev = Cpu::seed_from_u64(5);
    let plain = dev.build_module::<Plain, f32>();
    let mut frozen = dev.build_module::<MiddleFrozen, f32>();
    frozen.0 = plain.0.clone();
    frozen.2.inner.0 = plain.2.clone();
    frozen.3 = plain.4.clone();
    let middle_before = frozen.2.inner.0.weight.as_vec();
    let sgd = SgdConfig {
        lr: 0.5,
        ..Default::default()
    };
    let cfg = FitConfig {
        epochs: 1,
        batch_size: 32,
        shuffle: false,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let mut t_plain = Trainer::compile(&dev, plain, sgd, MeanSquaredError, &[]).unwrap();
    let mut t_frozen = Trainer::compile(&dev, frozen, sgd, MeanSquaredError, &[]).unwrap();
    let before_plain = t_plain.model.0.weight.as_vec();
    t_plain.fit(&data, &cfg).unwrap();
    t_frozen.fit(&data, &cfg).unwrap();

    let (p, f) = (&t_plain.model, &t_frozen.model);
    assert_ne!(p.0.weight.as_vec(), before_plain, "the step moved nothing");
    assert_eq!(f.2.inner.0.weight.as_vec(), middle_before);
    assert_ne!(
        p.2.weight.as_vec(),
        middle_before,
        "the twin's middle trains"
    );
    assert_eq!(f.0.weight.as_vec(), p.0.weight.as_vec());
    assert_eq!(f.0.bias.as_vec(), p.0.bias.as_vec());
    assert_eq!(f.3.weight.as_vec(), p.4.weight.as_vec());
    assert_eq!(f.3.bias.as_vec(), p.4.bias.as_vec());
}

type Body = (Linear<3, 6>, LayerNorm1D<6>, ReLU);
type Classifier = (Body, Linear<6, 2>);
type Tuned = (Frozen<Body>, Linear<6, 2>);

/// Fine-tuning: the body of a trained model, loaded into a frozen body, keeps every tensor
/// through epochs of Adam; the new head trains.
#[test]
fn a_frozen_body_stays_bit_identical_through_fit() {
    let data = regression_data();
    let dev = Cpu::seed_from_u64(6);
    // a "trained" body: moved away from initialisation so the check is not about defaults
    let mut trained = dev.build_module::<Classifier, f32>();
    trained.0 .1.gamma = dev.tensor([1.1, 0.9, 1.3, 1.0, 0.5, 2.0]);
    trained.0 .1.beta = dev.tensor([0.1, -0.2, 0.3, 0.0, 0.5, -0.6]);
    let path = crate::support::tmp_dir("frozen").join("trained.safetensors");
    save_model(&trained, &path).unwrap();

    let mut tuned = dev.build_module::<Tuned, f32>();
    // the frozen model is another architecture: refused as a whole file unless asked …
    assert!(matches!(
        load_model(&mut tuned, &path),
        Err(Error::ArchitectureMismatch { .. })
    ));
    // … but the body loads by its prefix: `Frozen` keeps the names `0.…`
    let body = LoadOptions {
        prefix: "0.".into(),
        ..LoadOptions::default()
    };
    load_model_with(&mut tuned.0.inner, &path, &body).unwrap();
    let body_before = flat(&tuned.0);
    assert_eq!(body_before, flat(&trained.0));
    let head_before = tuned.1.weight.as_vec();

    let mut t =
        Trainer::compile(&dev, tuned, AdamConfig::default(), MeanSquaredError, &[]).unwrap();
    let cfg = FitConfig {
        epochs: 5,
        batch_size: 8,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let history = t.fit(&data, &cfg).unwrap();
    assert_eq!(flat(&t.model.0), body_before);
    assert_ne!(t.model.1.weight.as_vec(), head_before);
    let loss = history.series("loss").unwrap();
    assert!(loss[4] < loss[0], "the head did not learn: {loss:?}");
}

#[test]
fn frozen_parameters_are_not_trainable_parameters() {
    // Keras's "trainable params": the head only
    assert_eq!(<Tuned as Params>::PARAMS, 6 * 2 + 2);
    assert_eq!(
        <Classifier as Params>::PARAMS,
        (3 * 6 + 6) + 2 * 6 + (6 * 2 + 2)
    );
    let s = summary::<Tuned, Rank1<3>>();
    assert_eq!(s.total, 14);
    let frozen: Vec<&str> = s
        .rows
        .iter()
        .filter(|r| r.layer.ends_with("(frozen)"))
        .map(|r| r.layer.as_str())
        .collect();
    assert_eq!(frozen.len(), 3, "{s}");
    assert!(s
        .rows
        .iter()
        .all(|r| !r.layer.ends_with("(frozen)") || r.params == 0));
    // a checkpoint counts what the optimizer trains
    let dev = Cpu::seed_from_u64(0);
    let path = crate::support::tmp_dir("frozen").join("tuned.safetensors");
    save_model(&dev.build_module::<Tuned, f32>(), &path).unwrap();
    let info = typenet::checkpoint::read_info(&path).unwrap();
    assert_eq!(info.metadata["typenet.params"], "14");
    let names: Vec<&str> = info.tensors.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "0.0.bias",
            "0.0.weight",
            "0.1.beta",
            "0.1.epsilon",
            "0.1.gamma",
            "1.bias",
            "1.weight"
        ]
    );
}
