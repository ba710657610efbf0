//! The Trainer on small synthetic problems: determinism, validation, callbacks, guards.

use typenet::prelude::*;
use typenet::train::metrics::metric;

type Net = (Linear<4, 16>, ReLU, Linear<16, 3>);

/// Three Gaussian-ish blobs in 4-D, labelled by the blob (deterministic, no RNG crate needed).
fn blobs(n: usize) -> InMemory<Rank1<4>, Classes<3>> {
    let mut x = Vec::with_capacity(n * 4);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let c = i % 3;
        for d in 0..4 {
            let jitter = (((i * 7 + d * 13) % 17) as f32 / 17.0 - 0.5) * 0.8;
            x.push(if d == c { 2.0 } else { 0.0 } + jitter);
        }
        y.push(c);
    }
    InMemory::new(x, y).unwrap()
}

fn trainer(seed: u64, metrics: &[&str]) -> AdamTrainer<Net, SparseCategoricalCrossentropy> {
    let dev = Cpu::seed_from_u64(seed);
    Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
        SparseCategoricalCrossentropy,
        metrics,
    )
    .unwrap()
}

fn quiet(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 16,
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

#[test]
fn learns_separable_blobs() {
    let data = blobs(300);
    let mut m = trainer(0, &["accuracy", "f1"]);
    let h = m.fit(&data, &quiet(10)).unwrap();
    let losses = h.series("loss").unwrap();
    assert!(losses[9] < losses[0] / 4.0, "{losses:?}");
    let ev = m.evaluate(&data).unwrap();
    assert!(ev.metrics["accuracy"] > 0.95, "{ev}");
    let preds = m.predict(&data).unwrap();
    assert_eq!((preds.len(), preds.width), (300, 3));
    let hits = preds
        .classes()
        .iter()
        .zip(data.targets())
        .filter(|(a, b)| a == b)
        .count();
    assert_eq!(hits as f64 / 300.0, ev.metrics["accuracy"]);
    let p = preds.probabilities();
    assert!((p[0] + p[1] + p[2] - 1.0).abs() < 1e-5);
}

#[test]
fn same_seed_gives_bit_identical_history_and_weights() {
    let data = blobs(200);
    let cfg = FitConfig {
        validation_split: Some(0.2),
        ..quiet(3)
    };
    let mut a = trainer(7, &["accuracy"]);
    let mut b = trainer(7, &["accuracy"]);
    let (ha, hb) = (a.fit(&data, &cfg).unwrap(), b.fit(&data, &cfg).unwrap());
    let strip = |h: &History| {
        h.epochs
            .iter()
            .map(|e| e.values.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&ha), strip(&hb));
    assert_eq!(a.model.0.weight.as_vec(), b.model.0.weight.as_vec());
    // and a different seed gives a different run
    let mut c = trainer(8, &["accuracy"]);
    assert_ne!(strip(&c.fit(&data, &cfg).unwrap()), strip(&ha));
}

#[test]
fn validation_split_logs_val_figures() {
    let mut m = trainer(0, &["accuracy"]);
    let h = m
        .fit(
            &blobs(100),
            &FitConfig {
                validation_split: Some(0.25),
                ..quiet(2)
            },
        )
        .unwrap();
    let keys: Vec<&String> = h.epochs[0].values.keys().collect();
    assert_eq!(keys, ["accuracy", "loss", "val_accuracy", "val_loss"]);
}

#[test]
fn unknown_metric_fails_at_compile_and_wrong_kind_at_fit() {
    let dev = Cpu::default();
    let err = Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["acc_top"],
    )
    .err()
    .unwrap();
    assert!(
        err.to_string().contains("unknown metric `acc_top`"),
        "{err}"
    );
    let mut m = trainer(0, &["mse"]);
    let err = m.fit(&blobs(30), &quiet(1)).unwrap_err();
    assert!(
        err.to_string()
            .contains("metric `mse` needs one real target per output"),
        "{err}"
    );
}

#[test]
fn early_stopping_stops_and_rejects_unknown_monitor() {
    let data = blobs(90);
    let mut m = trainer(0, &["accuracy"]);
    let mut bad = EarlyStopping {
        monitor: "val_acc".into(),
        ..Default::default()
    };
    let err = m
        .fitting(&data)
        .validation(&data)
        .callback(&mut bad)
        .run(&quiet(5))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("monitors `val_acc`, which this fit does not log"),
        "{err}"
    );

    // A monitor that never improves (loss of a constant-lr=0 model) stops after patience + 1.
    let mut frozen = trainer(0, &["accuracy"]);
    frozen.optimizer.set_lr(0.0);
    let mut stop = EarlyStopping {
        monitor: "val_loss".into(),
        patience: 1,
        ..Default::default()
    };
    let h = frozen
        .fitting(&data)
        .validation(&data)
        .callback(&mut stop)
        .run(&quiet(10))
        .unwrap();
    assert_eq!(h.epochs.len(), 3);
    assert_eq!(stop.stopped_epoch, Some(3));
}

#[test]
fn restore_best_weights_puts_back_the_best_epoch() {
    let data = blobs(90);
    let mut m = trainer(0, &["accuracy"]);
    let mut stop = EarlyStopping {
        monitor: "val_loss".into(),
        patience: 100,
        restore_best_weights: true,
        ..Default::default()
    };
    // lr schedule that explodes after epoch 3 so later epochs are worse
    let mut sched = LearningRateScheduler::new(Schedule::StepDecay {
        every: 3,
        factor: 50.0,
    });
    let h = m
        .fitting(&data)
        .validation(&data)
        .callback(&mut sched)
        .callback(&mut stop)
        .run(&quiet(6))
        .unwrap();
    let (best, epoch) = stop.best.unwrap();
    let now = m.evaluate(&data).unwrap().loss;
    assert!(
        (now - best).abs() < 1e-5,
        "restored loss {now} vs best {best} at epoch {epoch}; history {:?}",
        h.series("val_loss")
    );
}

#[test]
fn schedules_set_the_learning_rate() {
    let mut m = trainer(0, &[]);
    let mut sched = LearningRateScheduler::new(Schedule::Exponential { gamma: 0.5 });
    m.fitting(&blobs(30))
        .callback(&mut sched)
        .run(&quiet(3))
        .unwrap();
    // epochs 0, 1, 2 → 0.01 · 0.5² on the last
    assert!(
        (m.optimizer.lr() - 0.0025).abs() < 1e-12,
        "{}",
        m.optimizer.lr()
    );
}

#[test]
fn non_finite_loss_names_epoch_and_batch() {
    let mut x = vec![0.5f32; 40 * 4];
    x[20 * 4] = f32::NAN; // sample 20 → batch 2 of 16 without shuffling
    let data = InMemory::<Rank1<4>, Classes<3>>::new(x, vec![0; 40]).unwrap();
    // No ReLU here: dfdx's relu maps NaN to 0 and would hide the bad sample.
    let dev = Cpu::default();
    let mut m = Trainer::compile(
        &dev,
        dev.build_module::<Linear<4, 3>, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &[],
    )
    .unwrap();
    let err = m
        .fit(
            &data,
            &FitConfig {
                shuffle: false,
                ..quiet(1)
            },
        )
        .unwrap_err();
    match err {
        Error::NonFinite { epoch, batch, .. } => assert_eq!((epoch, batch), (1, 2)),
        other => panic!("expected NonFinite, got {other}"),
    }
}

#[test]
fn checkpoint_and_loggers_write_files() {
    let dir = std::env::temp_dir().join(format!("typenet-trainer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = blobs(60);
    let mut m = trainer(0, &["accuracy"]);
    let mut ckpt = ModelCheckpoint::every_epoch(dir.join("model-{epoch}.safetensors"));
    let mut csv = CsvLogger::new(dir.join("log.csv"));
    let mut jsonl = JsonLinesLogger::new(dir.join("log.jsonl"));
    m.fitting(&data)
        .validation(&data)
        .callback(&mut ckpt)
        .callback(&mut csv)
        .callback(&mut jsonl)
        .run(&quiet(2))
        .unwrap();
    assert_eq!(ckpt.saved.len(), 2);
    let dev = Cpu::default();
    let mut loaded = dev.build_module::<Net, f32>();
    loaded.load_safetensors(&ckpt.saved[1]).unwrap();
    assert_eq!(loaded.2.weight.as_vec(), m.model.2.weight.as_vec());
    let csv_text = std::fs::read_to_string(dir.join("log.csv")).unwrap();
    let lines: Vec<&str> = csv_text.lines().collect();
    assert_eq!(
        lines[0],
        "epoch,seconds,loss,accuracy,val_loss,val_accuracy"
    );
    assert_eq!(lines.len(), 3);
    let jl = std::fs::read_to_string(dir.join("log.jsonl")).unwrap();
    assert_eq!(jl.lines().count(), 2);
    assert!(jl.lines().all(|l| l.contains("\"val_loss\"")));
}

#[test]
fn metric_factory_knows_keras_names() {
    for name in [
        "accuracy",
        "top_2_accuracy",
        "precision",
        "recall",
        "f1",
        "mse",
        "mae",
        "r2",
    ] {
        assert_eq!(metric(name).unwrap().name(), name);
    }
}

#[test]
fn history_plots_to_png() {
    let mut m = trainer(0, &["accuracy"]);
    let h = m
        .fit(
            &blobs(60),
            &FitConfig {
                validation_split: Some(0.2),
                ..quiet(3)
            },
        )
        .unwrap();
    let path = std::env::temp_dir().join(format!("typenet-curves-{}.png", std::process::id()));
    h.plot_png(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        bytes.len() > 5_000,
        "a chart with axes and two curves, not a blank image"
    );
    let empty = History::default().plot_png(&path).unwrap_err();
    assert!(empty.to_string().contains("empty history"));
}

#[test]
fn gradient_clipping_changes_the_steps_and_keeps_training_stable() {
    let data = blobs(60);
    let mut plain = trainer(3, &[]);
    let mut clipped = trainer(3, &[]);
    plain.fit(&data, &quiet(1)).unwrap();
    let cfg = FitConfig {
        clip: Some(GradClip::Norm(1e-3)),
        ..quiet(1)
    };
    clipped.fit(&data, &cfg).unwrap();
    assert_ne!(
        plain.model.0.weight.as_vec(),
        clipped.model.0.weight.as_vec()
    );
    let bad = FitConfig {
        clip: Some(GradClip::Value(-1.0)),
        ..quiet(1)
    };
    assert!(clipped
        .fit(&data, &bad)
        .unwrap_err()
        .to_string()
        .contains("must be positive"));
}

#[test]
fn prefetch_gives_the_same_run_as_reading_inline() {
    let data = blobs(150);
    let mut a = trainer(5, &["accuracy"]);
    let mut b = trainer(5, &["accuracy"]);
    let ha = a
        .fit(
            &data,
            &FitConfig {
                prefetch: true,
                ..quiet(2)
            },
        )
        .unwrap();
    let hb = b
        .fit(
            &data,
            &FitConfig {
                prefetch: false,
                ..quiet(2)
            },
        )
        .unwrap();
    let figures = |h: &History| {
        h.epochs
            .iter()
            .map(|e| e.values.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(figures(&ha), figures(&hb));
    assert_eq!(a.model.2.weight.as_vec(), b.model.2.weight.as_vec());
}

/// A one-wide model that outputs its input (`Linear<1, 1>` with weight 1 and bias 0, never
/// updated: SGD with learning rate 0), compiled with `loss`.
fn identity<L>(loss: L) -> Trainer<Built<Linear<1, 1>>, Sgd<Built<Linear<1, 1>>, f32, Cpu>, L> {
    let dev = Cpu::seed_from_u64(0);
    let mut net = dev.build_module::<Linear<1, 1>, f32>();
    net.weight = dev.tensor([[1.0]]);
    net.bias = dev.tensor([0.0]);
    let sgd = SgdConfig {
        lr: 0.0,
        ..Default::default()
    };
    Trainer::compile(&dev, net, sgd, loss, &["accuracy"]).unwrap()
}

#[test]
fn binary_accuracy_thresholds_logits_at_zero_and_probabilities_at_one_half() {
    // outputs 0.2 and -0.3 for targets 1 and 0: as probabilities both are below 0.5 (one hit);
    // as logits 0.2 means p = sigmoid(0.2) > 0.5 (two hits)
    let data = InMemory::<Rank1<1>, Values<1>>::new(vec![0.2, -0.3], vec![[1.0], [0.0]]).unwrap();
    let cfg = FitConfig {
        batch_size: 2,
        ..quiet(1)
    };
    let mut logits = identity(BinaryCrossentropyWithLogits);
    assert_eq!(logits.evaluate(&data).unwrap().metrics["accuracy"], 1.0);
    assert_eq!(
        logits.fit(&data, &cfg).unwrap().epochs[0].values["accuracy"],
        1.0
    );
    let mut probabilities = identity(BinaryCrossentropy);
    assert_eq!(
        probabilities.evaluate(&data).unwrap().metrics["accuracy"],
        0.5
    );
    assert_eq!(
        probabilities.fit(&data, &cfg).unwrap().epochs[0].values["accuracy"],
        0.5
    );
}
