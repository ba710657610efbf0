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

/// A backed-up `fit` of `trainer(Resumable(opt))` on the first `n` samples: its History and
/// final parameters.
fn backed_up(
    dir: &std::path::Path,
    opt: AdamConfig,
    n: usize,
    cfg: &FitConfig,
    resume: bool,
) -> (typenet::Result<History>, Vec<Vec<f32>>) {
    let all = data();
    let x: Vec<f32> = all.features()[..4 * n].to_vec();
    let y: Vec<usize> = all.targets()[..n].to_vec();
    let part = InMemory::<Rank1<4>, Classes<3>>::new(x, y).unwrap();
    let mut t = trainer(Resumable(opt));
    let h = t.fitting(&part).backup(dir, resume).run(cfg);
    (h, params(&t))
}

#[test]
fn resuming_with_other_settings_is_refused_naming_the_setting() {
    let dir = crate::support::tmp_dir("settings");
    let adam = AdamConfig::default();
    let (h, _) = backed_up(&dir, adam, 96, &cfg(2), true);
    h.unwrap();
    let untouched = params(&trainer(Resumable(adam)));
    let refused = |err: Error, setting: &str, saved: &str, current: &str| match err {
        Error::ResumeSettings {
            setting: s,
            saved: a,
            current: b,
            path,
        } => {
            assert_eq!(
                (s.as_str(), a.as_str(), b.as_str()),
                (setting, saved, current)
            );
            assert_eq!(path, dir.join("epoch-0002"));
        }
        e => panic!("{setting}: {e}"),
    };
    let other = FitConfig {
        batch_size: 12,
        ..cfg(4)
    };
    let (h, p) = backed_up(&dir, adam, 96, &other, true);
    refused(h.unwrap_err(), "batch_size", "10", "12");
    assert_eq!(p, untouched, "a refused resume loads nothing");
    let (h, _) = backed_up(&dir, adam, 96, &FitConfig { seed: 6, ..cfg(4) }, true);
    refused(h.unwrap_err(), "seed", "5", "6");
    let (h, _) = backed_up(&dir, adam, 80, &cfg(4), true);
    refused(h.unwrap_err(), "training samples", "72", "60");
    let amsgrad = AdamConfig {
        betas: [0.8, 0.999],
        ..adam
    };
    let (h, _) = backed_up(&dir, amsgrad, 96, &cfg(4), true);
    match h.unwrap_err() {
        Error::ResumeSettings {
            setting,
            saved,
            current,
            ..
        } => {
            assert_eq!(setting, "optimizer");
            assert!(saved.contains("betas: [0.9, 0.999]"), "{saved}");
            assert!(current.contains("betas: [0.8, 0.999]"), "{current}");
        }
        e => panic!("{e}"),
    }
    // the learning rate is part of the state (schedules change it), not a setting
    let faster = AdamConfig { lr: 0.01, ..adam };
    let (h, _) = backed_up(&dir, faster, 96, &cfg(3), true);
    assert_eq!(h.unwrap().epochs.len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn resuming_from_a_directory_without_a_usable_state_is_refused() {
    let adam = AdamConfig::default();
    // nothing there yet: a first run
    let empty = crate::support::tmp_dir("no-state");
    let (h, _) = backed_up(&empty, adam, 96, &cfg(1), true);
    assert_eq!(h.unwrap().epochs.len(), 1);
    // the remains of states, none complete: refused, naming what is there
    let broken = crate::support::tmp_dir("broken-state");
    std::fs::create_dir_all(broken.join("epoch-0003")).unwrap();
    std::fs::write(broken.join("epoch-0003/model.safetensors"), b"half").unwrap();
    std::fs::write(broken.join("latest"), "epoch-0003\n").unwrap();
    let (h, _) = backed_up(&broken, adam, 96, &cfg(4), true);
    match h.unwrap_err() {
        Error::NoUsableState { dir, reason } => {
            assert_eq!(dir, broken);
            assert!(reason.contains("epoch-0003, latest"), "{reason}");
        }
        e => panic!("{e}"),
    }
    // a damaged state file is an error, not a fresh start
    let damaged = crate::support::tmp_dir("damaged-state");
    backed_up(&damaged, adam, 96, &cfg(2), true).0.unwrap();
    std::fs::write(damaged.join("epoch-0002/model.safetensors"), b"garbage").unwrap();
    let err = backed_up(&damaged, adam, 96, &cfg(4), true).0.unwrap_err();
    assert!(matches!(err, Error::Checkpoint { .. }), "{err}");
    for d in [empty, broken, damaged] {
        std::fs::remove_dir_all(d).ok();
    }
}

#[test]
fn backups_keep_two_states_a_latest_pointer_and_no_temporaries() {
    let adam = AdamConfig::default();
    let dir = crate::support::tmp_dir("keep");
    backed_up(&dir, adam, 96, &cfg(4), true).0.unwrap();
    let names = |d: &std::path::Path| {
        let mut n: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        n.sort();
        n
    };
    assert_eq!(names(&dir), ["epoch-0003", "epoch-0004", "latest", "lock"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("latest")).unwrap(),
        "epoch-0004\n"
    );
    // what a killed writer leaves is cleaned up by the next run
    std::fs::create_dir_all(dir.join(".epoch-0005.tmp-999999")).unwrap();
    std::fs::write(dir.join(".latest.tmp-999999"), b"x").unwrap();
    backed_up(&dir, adam, 96, &cfg(5), true).0.unwrap();
    assert_eq!(names(&dir), ["epoch-0004", "epoch-0005", "latest", "lock"]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_rewritten_epoch_never_removes_the_state_it_replaces_first() {
    let data = data();
    let dir = crate::support::tmp_dir("rewrite");
    let mut t = trainer(Resumable(AdamConfig::default()));
    let h = t.fit(&data, &cfg(1)).unwrap();
    let first = t.save_state(&dir, &h, &cfg(1)).unwrap();
    let again = t.save_state(&dir, &h, &cfg(1)).unwrap();
    // the second state of epoch 1 goes beside the first, and `latest` names it
    assert_eq!(first, dir.join("epoch-0001"));
    assert_eq!(again, dir.join("epoch-0001-1"));
    assert!(first.join("state.json").is_file());
    assert_eq!(
        typenet::train::latest_state(&dir).unwrap(),
        Some(again.clone())
    );
    // a fresh run owns the directory: once its first state is complete, older ones go
    let adam = AdamConfig::default();
    backed_up(&dir, adam, 96, &cfg(1), false).0.unwrap();
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("epoch-"))
        .collect();
    assert_eq!(left, ["epoch-0001-2"]);
    assert_eq!(
        typenet::train::latest_state(&dir).unwrap(),
        Some(dir.join("epoch-0001-2"))
    );
    std::fs::remove_dir_all(&dir).ok();
}
