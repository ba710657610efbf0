//! typenet's own update rules where no PyTorch fixture reaches: Keras's conventions against
//! their formulas worked out for one or two steps, the difference from dfdx's RMSprop, and
//! resuming a run of each rule bit for bit.

use crate::support::{data, params, tmp_dir, Net};
use typenet::prelude::*;

type W = Tensor<Rank1<1>, f32, Cpu>;

/// `opt`'s steps on one weight starting at 0, with gradients `gs` (and learning rates `lrs`).
fn steps<C: OptimizerConfig<W, Cpu>>(cfg: C, gs: &[f32], lrs: &[f64]) -> Vec<f64> {
    let dev = Cpu::default();
    let mut w: W = dev.zeros();
    let mut opt = cfg.build(&w);
    let mut out = Vec::new();
    for (&g, &lr) in gs.iter().zip(lrs) {
        opt.set_lr(lr);
        let grads = (w.leaky_trace() * g).sum().backward();
        opt.update(&mut w, &grads).unwrap();
        out.push(w.array()[0] as f64);
    }
    out
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-6 * want.abs().max(1e-12)
}

/// Keras: `s = (1 − ρ) g² = 0.1 · 0.25 = 0.025` after one step from 0, `w = −lr g / √(s + ε)`.
/// PyTorch's default rule on the same numbers: `s = 0.01 · 0.25`, `w = −lr g / (√s + ε)`.
#[test]
fn rmsprop_first_step_keras_and_pytorch() {
    let keras = steps(RmsProp::keras(), &[0.5], &[1e-3])[0];
    let want = -1e-3 * 0.5 / (0.025f64 + 1e-7).sqrt();
    assert!(close(keras, want), "Keras {keras} vs {want}");
    let torch = steps(RmsProp::default(), &[0.5], &[1e-2])[0];
    let want = -1e-2 * 0.5 / ((0.0025f64).sqrt() + 1e-8);
    assert!(close(torch, want), "PyTorch {torch} vs {want}");
    // dfdx's rule (square average from 1, ε inside the root): ≈ 0.0052 lr, 19 times smaller
    let dfdx = steps(RMSpropConfig::default(), &[0.5], &[1e-2])[0];
    let want = -1e-2 * 0.5 / (0.9 + 0.1 * 0.25f64 + 1e-8).sqrt();
    assert!(close(dfdx, want), "dfdx {dfdx} vs {want}");
    assert!(torch / dfdx > 15.0);
}

/// Keras puts the learning rate inside the momentum (`b ← μ b + lr g / d`, `w ← w − b`),
/// PyTorch outside (`b ← μ b + g / d`, `w ← w − lr b`): with the rate changed between two steps
/// of gradient 1 (μ = 0.5) the results differ. d₁ = √(0.1 + ε), d₂ = √(0.19 + ε) (Keras) and
/// √0.01 + ε, √0.0199 + ε (PyTorch, α = 0.99).
#[test]
fn rmsprop_momentum_keras_keeps_the_learning_rate_inside() {
    let (l1, l2) = (0.1, 0.2);
    let keras = steps(
        RmsProp {
            momentum: 0.5,
            ..RmsProp::keras()
        },
        &[1.0, 1.0],
        &[l1, l2],
    );
    let (d1, d2) = ((0.1f64 + 1e-7).sqrt(), (0.19f64 + 1e-7).sqrt());
    let b1 = l1 / d1;
    let b2 = 0.5 * b1 + l2 / d2;
    assert!(
        close(keras[0], -b1) && close(keras[1], -b1 - b2),
        "{keras:?}"
    );
    let torch = steps(
        RmsProp {
            momentum: 0.5,
            ..Default::default()
        },
        &[1.0, 1.0],
        &[l1, l2],
    );
    let (d1, d2) = (0.01f64.sqrt() + 1e-8, 0.0199f64.sqrt() + 1e-8);
    let b1 = 1.0 / d1;
    let b2 = 0.5 * b1 + 1.0 / d2;
    assert!(
        close(torch[0], -l1 * b1) && close(torch[1], -l1 * b1 - l2 * b2),
        "{torch:?}"
    );
}

/// Adam's first step: `m = 0.1 g`, `v = 0.001 g²`. PyTorch: `lr · (m / 0.1) / (√v / √0.001 + ε)
/// = lr g / (|g| + ε)`; Keras: `lr √0.001 / 0.1 · m / (√v + ε) = lr √0.001 g / (√0.001 |g| + ε)`.
/// With g = 1e-5 the two differ by a quarter.
#[test]
fn adam_first_step_keras_and_pytorch() {
    let g = 1e-5f64;
    let torch = steps(AdamPrecise::default(), &[g as f32], &[0.01])[0];
    let want = -0.01 * g / (g + 1e-8);
    assert!(close(torch, want), "PyTorch {torch} vs {want}");
    let keras = steps(AdamPrecise::keras(), &[g as f32], &[0.01])[0];
    let r = 0.001f64.sqrt();
    let want = -0.01 * r * g / (r * g + 1e-7);
    assert!(close(keras, want), "Keras {keras} vs {want}");
}

/// Decoupled decay subtracts `lr λ w` besides the step; L2 adds `λ w` to the gradient. From
/// w = 0 the first step is the same; the second step is checked by the PyTorch fixtures
/// (`adamw`, `adam_weight_decay`); here Keras's RMSprop with decoupled decay on a weight moved
/// off zero: step 1 as above, step 2 `w₂ = w₁ − lr λ w₁ − lr g / √(s₂ + ε)`.
#[test]
fn decoupled_weight_decay_keras_rmsprop() {
    let (lr, lambda) = (0.1, 0.5);
    let got = steps(
        RmsProp {
            weight_decay: Some(WeightDecay::Decoupled(lambda)),
            ..RmsProp::keras()
        },
        &[1.0, 1.0],
        &[lr, lr],
    );
    let w1 = -lr / (0.1f64 + 1e-7).sqrt();
    let w2 = w1 - lr * lambda * w1 - lr / (0.19f64 + 1e-7).sqrt();
    assert!(
        close(got[0], w1) && close(got[1], w2),
        "{got:?} vs {w1}, {w2}"
    );
}

/// Saving a run's state after 2 epochs and loading it into a fresh trainer continues to the
/// same weights as 4 epochs straight, for each of typenet's rules.
#[test]
fn typenet_rules_resume_bit_for_bit() {
    fn run<C>(rule: C)
    where
        C: OptimizerConfig<Built<Net>, Cpu, Optimizer = ResumableOptimizer<Built<Net>, C>>,
        C: typenet::optim::UpdateRule + Copy,
    {
        let compile = || {
            let dev = Cpu::seed_from_u64(3);
            Trainer::compile(
                &dev,
                dev.build_module::<Net, f32>(),
                rule,
                SparseCategoricalCrossentropy,
                &[],
            )
            .unwrap()
        };
        let cfg = |epochs| FitConfig {
            epochs,
            batch_size: 16,
            verbosity: Verbosity::Silent,
            ..Default::default()
        };
        let data = data();
        let mut straight = compile();
        straight.fit(&data, &cfg(4)).unwrap();
        let mut first = compile();
        let h = first.fit(&data, &cfg(2)).unwrap();
        let dir = tmp_dir("conventions-resume");
        let saved = first.save_state(&dir, &h, &cfg(2)).unwrap();
        let mut resumed = compile();
        let dev = Cpu::seed_from_u64(99);
        resumed.model = dev.build_module::<Net, f32>(); // other weights, to be overwritten
        resumed.load_state(&saved).unwrap();
        resumed
            .fit(
                &data,
                &FitConfig {
                    initial_epoch: 2,
                    ..cfg(4)
                },
            )
            .unwrap();
        assert_eq!(params(&straight), params(&resumed));
        assert_ne!(params(&straight), params(&first));
        std::fs::remove_dir_all(&dir).ok();
    }
    run(RmsProp {
        momentum: 0.9,
        centered: true,
        ..Default::default()
    });
    run(RmsProp::keras());
    run(AdamPrecise {
        weight_decay: Some(WeightDecay::Decoupled(0.01)),
        ..Default::default()
    });
}
