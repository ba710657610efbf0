//! The `fit` builder: user metrics, metric directions, backups that resume callbacks exactly,
//! prediction without labels.

use crate::support::{data, figures, params, tmp_dir, Net};
use typenet::data::Targets;
use typenet::prelude::*;
use typenet::train::metrics::metric;

fn quiet(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 10,
        seed: 5,
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

fn resumable(
    lr: f64,
    metrics: impl Into<MetricList>,
) -> Trainer<Built<Net>, ResumableOptimizer<Built<Net>, AdamConfig>, SparseCategoricalCrossentropy>
{
    let dev = Cpu::seed_from_u64(3);
    Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        Resumable(AdamConfig {
            lr,
            ..Default::default()
        }),
        SparseCategoricalCrossentropy,
        metrics,
    )
    .unwrap()
}

/// The fraction of samples whose arg-max output is not their class, written here from its
/// definition (an oracle for the built-in `accuracy`: the two must add up to 1).
#[derive(Default)]
struct ErrorRate {
    wrong: usize,
    total: usize,
}

impl Metric for ErrorRate {
    fn name(&self) -> String {
        "error_rate".into()
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn check(&self, _width: usize, targets: Targets<'_>) -> typenet::Result<()> {
        match targets {
            Targets::Classes(_) => Ok(()),
            Targets::Values(..) => Err(Error::MetricMismatch {
                metric: "error_rate".into(),
                needs: "classes".into(),
            }),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        if let Targets::Classes(classes) = targets {
            for (row, &c) in outputs.chunks(width).zip(classes) {
                let best = (0..width).fold(0, |b, i| if row[i] > row[b] { i } else { b });
                self.wrong += usize::from(best != c);
                self.total += 1;
            }
        }
    }
    fn compute(&self) -> f64 {
        self.wrong as f64 / self.total as f64
    }
    fn reset(&mut self) {
        *self = ErrorRate::default();
    }
}

/// Records what `Mode::Auto` makes of some names, at the start of training.
struct Directions(Vec<(String, Option<bool>)>);

impl<M> Callback<M> for Directions {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> typenet::Result<()> {
        for (name, up) in &mut self.0 {
            *up = ctx.higher_is_better("Directions", name, Mode::Auto).ok();
        }
        Ok(())
    }
}

#[test]
fn a_user_metric_trains_through_fit_and_gives_its_direction() {
    let data = data();
    let metrics: Vec<Box<dyn Metric>> =
        vec![Box::new(ErrorRate::default()), metric("accuracy").unwrap()];
    let mut t = resumable(0.01, metrics);
    let mut dirs = Directions(
        [
            "val_error_rate",
            "error_rate",
            "val_accuracy",
            "val_loss",
            "val_f1",
        ]
        .map(|n| (n.to_string(), None))
        .to_vec(),
    );
    let h = t
        .fitting(&data)
        .validation(&data)
        .callback(&mut dirs)
        .run(&quiet(3))
        .unwrap();
    for e in &h.epochs {
        for prefix in ["", "val_"] {
            let (err, acc) = (
                e.values[&format!("{prefix}error_rate")],
                e.values[&format!("{prefix}accuracy")],
            );
            assert!(
                (err + acc - 1.0).abs() < 1e-12,
                "epoch {}: {err} + {acc}",
                e.epoch
            );
        }
    }
    let got: Vec<Option<bool>> = dirs.0.iter().map(|d| d.1).collect();
    // error rate goes down (it says so), accuracy up, the loss down; f1 is not compiled
    assert_eq!(
        got,
        [Some(false), Some(false), Some(true), Some(false), None]
    );
    let ev = t.evaluate(&data).unwrap();
    assert!((ev.metrics["error_rate"] + ev.metrics["accuracy"] - 1.0).abs() < 1e-12);
}

#[test]
fn early_stopping_on_a_metric_without_a_known_direction_is_refused_before_training() {
    let data = data();
    let mut t = resumable(0.01, &["accuracy"]);
    let mut stop = EarlyStopping {
        monitor: "val_accuracy".into(),
        ..Default::default()
    };
    // `val_accuracy` is logged only when validating
    let err = t
        .fitting(&data)
        .callback(&mut stop)
        .run(&quiet(2))
        .unwrap_err();
    assert!(
        matches!(err, Error::UnknownMonitor { ref monitor, .. } if monitor == "val_accuracy"),
        "{err}"
    );
    assert_eq!(t.optimizer.step(), 0, "no step before the check");
}

/// A run stopped by early stopping in the middle of its patience window and resumed from its
/// backup stops where an uninterrupted run stops, with the same weights and History.
#[test]
fn early_stopping_resumes_exactly_across_its_patience_window() {
    let data = data();
    // A frozen model (lr 0): `val_loss` is best at epoch 1 and never improves, so patience 3
    // stops after epoch 5 (waits at 2, 3, 4, 5). Interrupted after epoch 3, a callback that
    // forgot its progress would start over and stop at epoch 4 + 4 = 8.
    let stopping = || EarlyStopping {
        monitor: "val_loss".into(),
        patience: 3,
        ..Default::default()
    };
    let dir = tmp_dir("frozen");
    let mut stop = stopping();
    let mut first = resumable(0.0, &["accuracy"]);
    let h = first
        .fitting(&data)
        .validation(&data)
        .callback(&mut stop)
        .backup(&dir, true)
        .run(&quiet(3))
        .unwrap();
    assert_eq!(
        (h.epochs.len(), stop.wait, stop.stopped_epoch),
        (3, 2, None)
    );
    let mut stop = stopping();
    let mut resumed = resumable(0.0, &["accuracy"]);
    let h = resumed
        .fitting(&data)
        .validation(&data)
        .callback(&mut stop)
        .backup(&dir, true)
        .run(&quiet(20))
        .unwrap();
    assert_eq!(stop.stopped_epoch, Some(5));
    assert_eq!(
        h.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    std::fs::remove_dir_all(&dir).ok();

    // A learning model whose rate explodes from epoch 4 (0.01 · 50): it gets worse, stops, and
    // puts back the best epoch's weights, which the backup must carry across the interruption.
    // each part of a run is a new process's worth of objects, resuming from `dir`
    let run = |dir: &std::path::Path, parts: &[usize]| {
        let mut last = None;
        for &epochs in parts {
            last = Some(early_stopped_run(dir, epochs, std::time::Duration::ZERO));
        }
        last.unwrap()
    };
    let (a, b) = (tmp_dir("straight"), tmp_dir("split"));
    let straight = run(&a, &[12]);
    assert!(
        straight.2.is_some_and(|e| e < 12),
        "the exploding rate stops training: {:?}",
        straight.2
    );
    let (best, best_epoch) = straight.3.unwrap();
    assert!(best_epoch < straight.2.unwrap());
    // interrupted inside the patience window (after the best epoch), then resumed
    let split = run(&b, &[best_epoch + 1, 12]);
    assert_eq!(straight, split);
    // the restored weights are the best epoch's: evaluating them gives the best val_loss
    assert!((straight.4 - best).abs() < 1e-5, "{} vs {best}", straight.4);
    std::fs::remove_dir_all(&a).ok();
    std::fs::remove_dir_all(&b).ok();
}

#[test]
fn predict_needs_features_only() {
    let data = data();
    let mut t = resumable(0.01, &[]);
    t.fit(&data, &quiet(1)).unwrap();
    let features: Vec<f32> = data.features().to_vec();
    let unlabeled = InMemory::<Rank1<4>, NoLabels>::unlabeled(features).unwrap();
    let (with, without) = (t.predict(&data).unwrap(), t.predict(&unlabeled).unwrap());
    assert_eq!((without.len(), without.width), (96, 3));
    assert_eq!(with, without);
    // and evaluation batches the same way: the mean loss does not depend on the batch size
    t.eval_batch_size = 7;
    let a = t.evaluate(&data).unwrap().loss;
    t.eval_batch_size = 96;
    let b = t.evaluate(&data).unwrap().loss;
    assert!((a - b).abs() < 1e-6, "{a} vs {b}");
}

#[test]
fn a_validation_split_of_zero_or_one_is_refused() {
    let data = data();
    let mut t = resumable(0.01, &[]);
    for f in [0.0, 1.0, -0.5] {
        let err = t
            .fit(
                &data,
                &FitConfig {
                    validation_split: Some(f),
                    ..quiet(1)
                },
            )
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument { ref expected, .. } if expected == "in (0, 1)"),
            "{err}"
        );
    }
}

type Net64 = (
    modules::Linear<4, 16, f64, Cpu>,
    Tanh,
    modules::Linear<16, 3, f64, Cpu>,
);

/// The f32 network's weights, widened to f64.
fn widened(m: &Built<Net>, dev: &Cpu) -> Net64 {
    let mut w = dev.build_module::<Net, f64>();
    let wide = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<f64>>();
    w.0.weight.copy_from(&wide(m.0.weight.as_vec()));
    w.0.bias.copy_from(&wide(m.0.bias.as_vec()));
    w.2.weight.copy_from(&wide(m.2.weight.as_vec()));
    w.2.bias.copy_from(&wide(m.2.bias.as_vec()));
    w
}

/// An f64 model trains through the same `fit` as an f32 one; started from the same weights
/// with the same shuffles, the two runs differ only by f32 rounding.
#[test]
fn an_f64_model_trains_through_fit_as_its_f32_twin_does() {
    let data = data();
    let dev = Cpu::seed_from_u64(3);
    let m32 = dev.build_module::<Net, f32>();
    let m64 = widened(&m32, &dev);
    let sgd = SgdConfig {
        lr: 0.1,
        ..Default::default()
    };
    let mut t32 =
        Trainer::compile(&dev, m32, sgd, SparseCategoricalCrossentropy, &["accuracy"]).unwrap();
    let mut t64: Trainer<Net64, Sgd<Net64, f64, Cpu>, _, Cpu, f64> =
        Trainer::compile(&dev, m64, sgd, SparseCategoricalCrossentropy, &["accuracy"]).unwrap();
    let mut stop = EarlyStopping {
        monitor: "val_loss".into(),
        patience: 50,
        restore_best_weights: true,
        ..Default::default()
    };
    let h64 = t64
        .fitting(&data)
        .validation(&data)
        .callback(&mut stop)
        .run(&quiet(8))
        .unwrap();
    let h32 = t32.fitting(&data).validation(&data).run(&quiet(8)).unwrap();
    let (l32, l64) = (h32.series("loss").unwrap(), h64.series("loss").unwrap());
    assert!(
        l64[7] < l64[0] * 0.8,
        "f64 training lowers the loss: {l64:?}"
    );
    for (a, b) in l32.iter().zip(&l64) {
        assert!(
            (a - b).abs() < 1e-4 * b.abs().max(1.0),
            "f32 {a} vs f64 {b}"
        );
    }
    // the best epoch's f64 weights were snapshotted and put back (the last epoch is the best
    // here, so they are also the final ones): evaluating gives the best val_loss
    let (best, _) = stop.best.unwrap();
    assert!((t64.evaluate(&data).unwrap().loss - best).abs() < 1e-12);
    // f64 models save F64 tensors and load back exactly; an f32 model refuses them
    let dir = tmp_dir("f64");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.safetensors");
    typenet::checkpoint::save_model(&t64.model, &path).unwrap();
    let mut back = dev.build_module::<Net, f64>();
    typenet::checkpoint::load_model(&mut back, &path).unwrap();
    assert_eq!(back.2.weight.as_vec(), t64.model.2.weight.as_vec());
    let mut narrow = dev.build_module::<Net, f32>();
    let err = typenet::checkpoint::load_model(&mut narrow, &path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("0.weight: expected F32 [16, 4], found F64 [16, 4]"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// What an early-stopped run ends with: weights, History figures, stop epoch, best value and
/// the loss of the weights put back.
type EarlyStopOutcome = (
    Vec<Vec<f32>>,
    Vec<(usize, Vec<(String, u64)>)>,
    Option<usize>,
    Option<(f64, usize)>,
    f64,
);

/// Slows every epoch down so a parent can kill the run in the middle of it.
struct Slow(std::time::Duration);

impl<M> Callback<M> for Slow {
    fn on_batch_end(&mut self, _: &BatchLog, _: &mut Context<'_, M>) -> typenet::Result<()> {
        std::thread::sleep(self.0);
        Ok(())
    }
}

/// A learning run whose rate explodes from epoch 4 (0.01 · 50), stopped early with the best
/// weights put back, backed up to `dir` and resumed from it, to epoch `epochs`.
fn early_stopped_run(
    dir: &std::path::Path,
    epochs: usize,
    slow: std::time::Duration,
) -> EarlyStopOutcome {
    let data = data();
    let mut stop = EarlyStopping {
        monitor: "val_loss".into(),
        patience: 2,
        restore_best_weights: true,
        ..Default::default()
    };
    let mut sched = LearningRateScheduler::new(Schedule::StepDecay {
        every: 3,
        factor: 50.0,
    });
    let mut t = resumable(0.01, &["accuracy"]);
    let h = t
        .fitting(&data)
        .validation(&data)
        .callback(&mut sched)
        .callback(&mut stop)
        .callback(&mut Slow(slow))
        .backup(dir, true)
        .run(&quiet(epochs))
        .unwrap();
    let restored = t.evaluate(&data).unwrap().loss;
    (
        params(&t),
        figures(&h),
        stop.stopped_epoch,
        stop.best,
        restored,
    )
}

/// Child process of `a_killed_run_resumes_early_stopping_exactly`, which runs it.
#[test]
#[ignore = "child process: run by a_killed_run_resumes_early_stopping_exactly"]
fn early_stopping_child() {
    let dir = std::env::var("TYPENET_EARLY_STOP_DIR")
        .expect("the parent test sets TYPENET_EARLY_STOP_DIR");
    early_stopped_run(
        std::path::Path::new(&dir),
        12,
        std::time::Duration::from_millis(3),
    );
}

/// A run killed (SIGKILL) at varied moments, its backups and early stopping's patience
/// included, resumes to the weights and History of an uninterrupted run.
#[test]
fn a_killed_run_resumes_early_stopping_exactly() {
    use std::time::{Duration, Instant};
    let straight = early_stopped_run(&crate::support::tmp_dir("es-straight"), 12, Duration::ZERO);
    assert!(straight.2.is_some(), "the run stops early");
    for round in 0..3u64 {
        let dir = crate::support::tmp_dir("es-killed");
        let mut child = crate::support::child_test("fit_api::early_stopping_child")
            .env("TYPENET_EARLY_STOP_DIR", &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // kill once the first backup is there, a little later each round
        let start = Instant::now();
        while typenet::train::latest_state(&dir).unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "child never backed up"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(5 + 25 * round));
        child.kill().unwrap();
        child.wait().unwrap();
        let saved = typenet::train::latest_state(&dir).unwrap().unwrap();
        let resumed = early_stopped_run(&dir, 12, Duration::ZERO);
        assert_eq!(straight, resumed, "killed after {}", saved.display());
        std::fs::remove_dir_all(&dir).ok();
    }
}
