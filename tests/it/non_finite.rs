//! The guard during training: a NaN in the data, in the weights or in a gradient stops `fit`
//! with an error naming the tensor, the epoch and the batch — also where dfdx's ReLU maps NaN to
//! 0 and the loss stays finite.

use typenet::prelude::*;

type Relu = (Linear<4, 8>, ReLU, Linear<8, 3>);

fn quiet() -> FitConfig {
    FitConfig {
        epochs: 2,
        batch_size: 16,
        shuffle: false,
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

fn ones(n: usize) -> InMemory<Rank1<4>, Classes<3>> {
    let x: Vec<f32> = (0..n * 4).map(|i| (i % 5) as f32 / 5.0).collect();
    InMemory::new(x, (0..n).map(|i| i % 3).collect()).unwrap()
}

fn relu_trainer() -> Trainer<Built<Relu>, Adam<Built<Relu>, f32, Cpu>, SparseCategoricalCrossentropy>
{
    let dev = Cpu::seed_from_u64(0);
    Trainer::compile(
        &dev,
        dev.build_module::<Relu, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &[],
    )
    .unwrap()
}

/// `(what, tensor, epoch, batch)` of a `NonFinite` error.
fn non_finite(err: Error) -> (String, Option<String>, usize, usize) {
    match err {
        Error::NonFinite {
            what,
            tensor,
            epoch,
            batch,
            ..
        } => (what, tensor, epoch, batch),
        other => panic!("expected NonFinite, got {other}"),
    }
}

#[test]
fn a_nan_feature_stops_fit_naming_the_input_row_and_batch() {
    let mut x: Vec<f32> = (0..40 * 4).map(|i| (i % 5) as f32 / 5.0).collect();
    x[20 * 4 + 2] = f32::NAN; // sample 20, feature 2: batch 2 of 16, row 4
    let data = InMemory::<Rank1<4>, Classes<3>>::new(x, (0..40).map(|i| i % 3).collect()).unwrap();
    let mut t = relu_trainer();
    let before = t.model.0.weight.as_vec();
    let err = t.fit(&data, &quiet()).unwrap_err();
    let msg = err.to_string();
    let (what, tensor, epoch, batch) = non_finite(err);
    assert_eq!((epoch, batch), (1, 2), "{msg}");
    assert_eq!(tensor.as_deref(), Some("input"));
    assert_eq!(what, "input feature 2 of row 4 of the batch");
    assert!(msg.contains("is NaN at epoch 1, batch 2"), "{msg}");
    // one step was taken (batch 1), none with the bad batch: every weight is finite
    let after = t.model.0.weight.as_vec();
    assert!(after.iter().all(|w| w.is_finite()));
    assert_ne!(before, after);
}

#[test]
fn a_nan_weight_stops_fit_naming_the_parameter() {
    let mut t = relu_trainer();
    let mut w = t.model.0.weight.as_vec();
    w[5] = f32::NAN; // unit 1 of the first layer; the ReLU turns its NaN output into 0
    t.model.0.weight.copy_from(&w);
    let err = t.fit(&ones(40), &quiet()).unwrap_err();
    let msg = err.to_string();
    let (what, tensor, epoch, batch) = non_finite(err);
    assert_eq!(tensor.as_deref(), Some("0.weight"), "{msg}");
    assert_eq!(what, "parameter 0.weight after the optimizer step");
    assert_eq!((epoch, batch), (1, 1));
}

#[test]
fn an_infinite_weight_in_a_later_layer_is_named_too() {
    let mut t = relu_trainer();
    let mut b = t.model.2.bias.as_vec();
    b[1] = f32::INFINITY; // the loss is NaN (∞ − ∞ in the softmax) or infinite: caught first
    t.model.2.bias.copy_from(&b);
    let err = t.fit(&ones(40), &quiet()).unwrap_err();
    let (what, _, epoch, batch) = non_finite(err);
    assert_eq!((what.as_str(), epoch, batch), ("loss", 1, 1));
}

/// `relu(0) = 0` and `√0 = 0` give finite outputs and loss, but the gradient of √ at 0 is ∞
/// and ReLU's is 0: ∞ · 0 = NaN in the first layer's gradients, with or without clipping.
#[test]
fn a_nan_gradient_stops_fit_naming_the_tensor() {
    type Sqrt0 = (Linear<4, 3>, ReLU, Sqrt);
    for clip in [None, Some(GradClip::Norm(1.0)), Some(GradClip::Value(1.0))] {
        let dev = Cpu::seed_from_u64(0);
        let mut m = dev.build_module::<Sqrt0, f32>();
        m.0.weight = dev.zeros();
        m.0.bias = dev.zeros();
        let mut t = Trainer::compile(
            &dev,
            m,
            AdamConfig::default(),
            SparseCategoricalCrossentropy,
            &[],
        )
        .unwrap();
        let cfg = FitConfig { clip, ..quiet() };
        let err = t.fit(&ones(40), &cfg).unwrap_err();
        let msg = err.to_string();
        let (what, tensor, epoch, batch) = non_finite(err);
        assert_eq!(tensor.as_deref(), Some("0.weight"), "{clip:?}: {msg}");
        assert_eq!(what, "the gradient of 0.weight");
        assert_eq!((epoch, batch), (1, 1));
        assert!(msg.contains("is NaN"), "{msg}");
        // the step was not taken
        assert!(t.model.0.weight.as_vec().iter().all(|&w| w == 0.0));
    }
}

#[test]
fn finite_training_is_untouched_by_the_guard() {
    let mut t = relu_trainer();
    let h = t.fit(&ones(40), &quiet()).unwrap();
    assert_eq!(h.epochs.len(), 2);
    assert!(h.epochs.iter().all(|e| e.values["loss"].is_finite()));
}
