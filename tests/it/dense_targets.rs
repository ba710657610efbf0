//! Targets shaped like the output (sequences, images) and data sets that are their own targets:
//! loss values against hand arithmetic, and linear autoencoders against what PCA
//! (Eckart–Young) says the best reconstruction of a given width is.

use typenet::prelude::*;

/// MSE, MAE and BCE-with-logits on a `(2, 1, 2, 2)` output against `ValueImages<1, 2, 2>`: the
/// means of the eight element-wise terms, computed by hand.
#[test]
fn value_losses_take_image_targets() {
    let dev = Cpu::default();
    let y: Tensor<(usize, Const<1>, Const<2>, Const<2>), f32, Cpu> = dev.tensor_from_vec(
        vec![0.0, 1.0, 2.0, -1.0, 0.5, 0.5, 0.0, 3.0],
        (2, Const, Const, Const),
    );
    let items = [[[[0.0, 0.0], [1.0, 1.0]]], [[[1.0, 0.0], [0.0, 1.0]]]];
    let t = <ValueImages<1, 2, 2> as Target>::to_device::<f32, Cpu>(&dev, &items).unwrap();
    // differences 0, 1, 1, -2, -0.5, 0.5, 0, 2: squares sum 0+1+1+4+0.25+0.25+0+4 = 10.5
    let mse = Loss::<_, ValueImages<1, 2, 2>>::try_loss(&MeanSquaredError, y.clone(), &t).unwrap();
    assert_eq!(mse.array(), 10.5 / 8.0);
    // absolute values sum 0+1+1+2+0.5+0.5+0+2 = 7
    let mae = Loss::<_, ValueImages<1, 2, 2>>::try_loss(&MeanAbsoluteError, y.clone(), &t).unwrap();
    assert_eq!(mae.array(), 7.0 / 8.0);
    // max(z,0) - z t + ln(1 + e^-|z|), element by element
    let z = [0.0f64, 1.0, 2.0, -1.0, 0.5, 0.5, 0.0, 3.0];
    let tt = [0.0f64, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0];
    let expected: f64 = z
        .iter()
        .zip(tt)
        .map(|(&z, t)| z.max(0.0) - z * t + (1.0 + (-z.abs()).exp()).ln())
        .sum::<f64>()
        / 8.0;
    let bce = Loss::<_, ValueImages<1, 2, 2>>::try_loss(&BinaryCrossentropyWithLogits, y, &t)
        .unwrap()
        .array();
    assert!((bce as f64 - expected).abs() < 1e-6, "{bce} vs {expected}");
}

#[test]
fn sequence_targets_batch_row_major_and_refuse_non_finite_values() {
    let dev = Cpu::default();
    let items = [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]];
    let t = <ValueSequences<3, 2> as Target>::to_device::<f64, Cpu>(&dev, &items).unwrap();
    assert_eq!(t.as_vec(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    assert_eq!(t.shape().concrete(), [1, 3, 2]);
    let bad = vec![[[0.0, 1.0], [f32::NAN, 0.0], [0.0, 0.0]]];
    let err = InMemory::<Rank2<3, 2>, ValueSequences<3, 2>>::new(vec![0.0; 6], bad).unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFiniteTarget {
                sample: 0,
                position: 2,
                ..
            }
        ),
        "{err}"
    );
}

/// 16 points `a·u + b·v` in R⁴ with `a ∈ {±1, ±2}`, `b ∈ {±½}` each paired with each (mean 0,
/// `a` and `b` uncorrelated; variances 2.5 and 0.25) and `u`, `v` orthonormal.
fn plane() -> InMemory<Rank1<4>, NoLabels> {
    let u = [0.5f32, 0.5, 0.5, 0.5];
    let v = [0.5f32, -0.5, 0.5, -0.5];
    let mut xs = Vec::new();
    for a in [-2.0f32, -1.0, 1.0, 2.0] {
        for b in [-0.5f32, 0.5] {
            for _ in 0..2 {
                xs.extend((0..4).map(|i| a * u[i] + b * v[i]));
            }
        }
    }
    InMemory::unlabeled(xs).unwrap()
}

fn reconstruction_loss<M>(model: M, epochs: usize) -> f64
where
    M: TrainModel<(usize, Const<4>), Cpu, Out = (usize, Const<4>)>,
{
    let data = plane();
    let dev = Cpu::seed_from_u64(1);
    let mut t = Trainer::compile(
        &dev,
        model,
        AdamConfig {
            lr: 0.02,
            ..Default::default()
        },
        MeanSquaredError,
        &["mse"],
    )
    .unwrap();
    let cfg = FitConfig {
        epochs,
        batch_size: 16,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    t.fit(&Reconstruction::of(&data), &cfg).unwrap();
    let e = t.evaluate(&Reconstruction::of(&data)).unwrap();
    // the metric and the loss are two computations of the same mean
    assert!((e.metrics["mse"] - e.loss).abs() < 1e-6, "{e:?}");
    e.loss
}

/// `fit(x, x)`: a width-2 linear code reproduces points of a plane exactly; a width-1 code can do
/// no better than dropping the smaller principal component, variance 0.25 over 4 coordinates:
/// MSE 0.0625 (Eckart–Young), which training reaches.
#[test]
fn linear_autoencoders_reach_the_pca_bound_of_their_width() {
    let dev = Cpu::seed_from_u64(2);
    let wide = reconstruction_loss(dev.build_module::<(Linear<4, 2>, Linear<2, 4>), f32>(), 400);
    assert!(wide < 1e-4, "width 2: {wide}");
    let narrow = reconstruction_loss(dev.build_module::<(Linear<4, 1>, Linear<1, 4>), f32>(), 400);
    assert!(narrow > 0.0625 - 1e-4, "width 1 beat PCA: {narrow}");
    assert!(
        narrow < 0.0625 + 2e-3,
        "width 1 far from PCA's 0.0625: {narrow}"
    );
}

/// A convolutional model whose output is an image trains against image targets through `fit`.
#[test]
fn a_convolutional_autoencoder_trains_on_its_own_images() {
    // 32 images of one bright row on a dark 1×4×4 canvas
    let mut pixels = Vec::new();
    for i in 0..32 {
        let row = i % 4;
        pixels.extend((0..16).map(|p| if p / 4 == row { 0.9 } else { 0.1 }));
    }
    let images = InMemory::<Rank3<1, 4, 4>, NoLabels>::unlabeled(pixels).unwrap();
    let pairs = Reconstruction::of(&images);
    assert_eq!(pairs.target(1)[0][1], [0.9; 4]);
    type Ae = (Conv2D<1, 4, 3, 1, 1>, Tanh, Conv2D<4, 1, 3, 1, 1>);
    let dev = Cpu::seed_from_u64(4);
    let mut t = Trainer::compile(
        &dev,
        dev.build_module::<Ae, f32>(),
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
        MeanSquaredError,
        &[],
    )
    .unwrap();
    let before = t.evaluate(&pairs).unwrap().loss;
    let cfg = FitConfig {
        epochs: 60,
        batch_size: 8,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    t.fit(&pairs, &cfg).unwrap();
    let after = t.evaluate(&pairs).unwrap().loss;
    assert!(after < before / 10.0, "{before} -> {after}");
}
