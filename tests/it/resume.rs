//! Typenet's optimizers step exactly like dfdx's, and a run interrupted after 2 epochs and
//! resumed in a new process ends bit-for-bit where an uninterrupted 4-epoch run ends.

use crate::support::{data, figures, params, Net};
use typenet::prelude::*;

fn cfg(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 10,
        seed: 5,
        validation_split: Some(0.25),
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

fn trainer<C: OptimizerConfig<Built<Net>, Cpu>>(
    opt: C,
) -> Trainer<Built<Net>, C::Optimizer, SparseCategoricalCrossentropy> {
    let dev = Cpu::seed_from_u64(3);
    Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        opt,
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )
    .unwrap()
}

#[test]
fn resumable_optimizers_step_exactly_like_dfdx() {
    let data = data();
    let sgd = SgdConfig {
        lr: 0.05,
        momentum: Some(Momentum::Nesterov(0.9)),
        weight_decay: Some(WeightDecay::L2(1e-3)),
    };
    let adamw = AdamConfig {
        weight_decay: Some(WeightDecay::Decoupled(1e-2)),
        ..Default::default()
    };
    let rms = RMSpropConfig {
        lr: 1e-3,
        momentum: Some(0.5),
        centered: true,
        ..Default::default()
    };
    let c = cfg(2);
    macro_rules! same {
        ($cfg:expr) => {{
            let mut a = trainer($cfg);
            let mut b = trainer(Resumable($cfg));
            let (ha, hb) = (a.fit(&data, &c).unwrap(), b.fit(&data, &c).unwrap());
            assert_eq!(params(&a), params(&b));
            assert_eq!(figures(&ha), figures(&hb));
        }};
    }
    same!(adamw);
    same!(sgd);
    same!(rms);
}

#[test]
fn initial_epoch_continues_with_the_same_shuffles() {
    let data = data();
    let mut whole = trainer(Resumable(AdamConfig::default()));
    let hw = whole.fit(&data, &cfg(4)).unwrap();
    let mut split = trainer(Resumable(AdamConfig::default()));
    let mut h = split.fit(&data, &cfg(2)).unwrap();
    let rest = split
        .fit(
            &data,
            &FitConfig {
                initial_epoch: 2,
                ..cfg(4)
            },
        )
        .unwrap();
    h.epochs.extend(rest.epochs);
    assert_eq!(params(&whole), params(&split));
    assert_eq!(figures(&hw), figures(&h));
}

/// Child process of `resume_in_a_new_process_is_bit_for_bit`, which runs it:
/// `TYPENET_RESUME=<dir>:<epochs>` runs a `fit` backed up to `<dir>` (resuming from the newest
/// state there) to `epochs` and writes the final parameters and History figures to
/// `<dir>/result.json`.
#[test]
#[ignore = "child process: run by resume_in_a_new_process_is_bit_for_bit"]
fn resume_child() {
    let arg = std::env::var("TYPENET_RESUME")
        .expect("TYPENET_RESUME is `<dir>:<epochs>`; the parent test sets it");
    let (dir, epochs) = arg.rsplit_once(':').unwrap();
    let mut t = trainer(Resumable(AdamConfig::default()));
    let mut sched = LearningRateScheduler::new(Schedule::StepDecay {
        every: 1,
        factor: 0.5,
    });
    let h = t
        .fitting(&data())
        .callback(&mut sched)
        .backup(dir, true)
        .run(&cfg(epochs.parse().unwrap()))
        .unwrap();
    let out = serde_json::json!({ "params": params(&t), "figures": figures(&h) });
    std::fs::write(
        std::path::Path::new(dir).join("result.json"),
        out.to_string(),
    )
    .unwrap();
}

fn run_child(dir: &std::path::Path, epochs: usize) -> serde_json::Value {
    let status = crate::support::child_test("resume::resume_child")
        .stdout(std::process::Stdio::null()) // the child's test-runner lines; a panic goes to stderr
        .env("TYPENET_RESUME", format!("{}:{epochs}", dir.display()))
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_slice(&std::fs::read(dir.join("result.json")).unwrap()).unwrap()
}

#[test]
fn resume_in_a_new_process_is_bit_for_bit() {
    let base = std::env::temp_dir().join(format!("typenet-resume-{}", std::process::id()));
    let (a, b) = (base.join("straight"), base.join("split"));
    let straight = run_child(&a, 4);
    let first = run_child(&b, 2);
    assert_eq!(first["figures"].as_array().unwrap().len(), 2);
    assert!(b.join("epoch-0002/optimizer.safetensors").is_file());
    let resumed = run_child(&b, 4);
    assert_eq!(straight, resumed);
    assert_eq!(
        typenet::train::latest_state(&b).unwrap(),
        Some(b.join("epoch-0004"))
    );
    std::fs::remove_dir_all(&base).ok();
}

#[test]
fn optimizer_state_of_another_model_is_refused() {
    let data = data();
    let mut t = trainer(Resumable(AdamConfig::default()));
    let h = t.fit(&data, &cfg(1)).unwrap();
    let dir = std::env::temp_dir().join(format!("typenet-refuse-{}", std::process::id()));
    let saved = t.save_state(&dir, &h, &cfg(1)).unwrap();
    let mut sgd = trainer(Resumable(SgdConfig::default()));
    let msg = sgd.load_state(&saved).unwrap_err().to_string();
    assert!(
        msg.contains("holds `adam` optimizer state, not `sgd`"),
        "{msg}"
    );
    let dev = Cpu::seed_from_u64(0);
    let mut wider = Trainer::compile(
        &dev,
        dev.build_module::<(Linear<4, 8>, Tanh, Linear<8, 3>), f32>(),
        Resumable(AdamConfig::default()),
        SparseCategoricalCrossentropy,
        &[],
    )
    .unwrap();
    let msg = wider.load_state(&dir).unwrap_err().to_string();
    assert!(
        msg.contains("0.weight: expected F32 [8, 4], found F32 [16, 4]"),
        "{msg}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
