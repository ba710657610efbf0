//! A process killed (SIGKILL) while saving leaves the previous checkpoint loadable.
//!
//! The test binary re-invokes itself: `save_loop`, an ignored test that only this one runs, saves
//! a ~1 MB model over and over to the file named by `TYPENET_SAVE_LOOP` until killed; the parent
//! kills it at varied moments and loads the file each time.

use std::process::Stdio;
use std::time::{Duration, Instant};
use typenet::checkpoint::{load_model, save_model};
use typenet::prelude::*;

/// Big enough (256·1024 + 1024 floats) that a save takes a while, so kills land mid-write.
type Big = Linear<256, 1024>;

/// Child process of `killed_mid_save_leaves_the_previous_checkpoint`, which runs it.
#[test]
#[ignore = "child process: run by killed_mid_save_leaves_the_previous_checkpoint"]
fn save_loop() {
    let path = std::env::var("TYPENET_SAVE_LOOP")
        .expect("TYPENET_SAVE_LOOP names the checkpoint file; the parent test sets it");
    let dev = Cpu::seed_from_u64(1);
    let mut model = dev.build_module::<Big, f32>();
    for i in 0u32.. {
        // every version is a constant tensor, so a torn write would show as mixed values
        model.weight = dev.ones() * i as f32;
        model.bias = dev.ones() * i as f32;
        save_model(&model, &path).unwrap();
    }
}

#[test]
fn killed_mid_save_leaves_the_previous_checkpoint() {
    let dir = crate::support::tmp_dir("kill");
    let path = dir.join("model.safetensors");
    let dev = Cpu::default();
    let mut last = -1.0f32;
    for round in 0..6u64 {
        let mut child = crate::support::child_test("checkpoint_kill::save_loop")
            .env("TYPENET_SAVE_LOOP", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // wait for this child's first complete save, then kill it at a varied moment
        let start = Instant::now();
        let before = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        while std::fs::metadata(&path).and_then(|m| m.modified()).ok() == before {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "child never saved"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(3 + 7 * round));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let mut model = dev.build_module::<Big, f32>();
        load_model(&mut model, &path).unwrap();
        let w = model.weight.as_vec();
        let v = w[0];
        assert!(
            w.iter().all(|&x| x == v),
            "torn checkpoint in round {round}"
        );
        assert!(model.bias.as_vec().iter().all(|&x| x == v));
        last = last.max(v);
    }
    assert!(last >= 0.0);
    // leftover temporary files of killed writers do not disturb anything; clean them up
    std::fs::remove_dir_all(&dir).ok();
}

/// The backed-up run of the tests below: the shared small classifier, Adam, a learning-rate
/// schedule (callback state), a validation split, backed up to `dir` every epoch.
fn backup_run(
    dir: &std::path::Path,
    epochs: usize,
    resume: bool,
    slow: Duration,
) -> typenet::Result<serde_json::Value> {
    use crate::support::{data, figures, params, Net};
    struct Slow(Duration);
    impl<M> Callback<M> for Slow {
        fn on_epoch_end(
            &mut self,
            _: &EpochLog,
            _: &mut Context<'_, M>,
        ) -> typenet::Result<Control> {
            std::thread::sleep(self.0);
            Ok(Control::Continue)
        }
    }
    let dev = Cpu::seed_from_u64(3);
    let mut t = Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        Resumable(AdamConfig::default()),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    let mut sched = LearningRateScheduler::new(Schedule::StepDecay {
        every: 1,
        factor: 0.5,
    });
    let cfg = FitConfig {
        epochs,
        batch_size: 10,
        seed: 5,
        validation_split: Some(0.25),
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let h = t
        .fitting(&data())
        .callback(&mut sched)
        .callback(&mut Slow(slow))
        .backup(dir, resume)
        .run(&cfg)?;
    Ok(serde_json::json!({ "params": params(&t), "figures": figures(&h) }))
}

/// Child process of the tests below: `TYPENET_BACKUP_RUN=<dir>|<epochs>|<resume 0/1>|<slow
/// ms>|<result file>` prints `TYPENET-READY` and runs [`backup_run`], then writes its result.
#[test]
#[ignore = "child process: run by the backup kill and lock tests"]
fn backup_child() {
    let arg = std::env::var("TYPENET_BACKUP_RUN").expect("the parent test sets TYPENET_BACKUP_RUN");
    let f: Vec<&str> = arg.split('|').collect();
    println!("TYPENET-READY");
    let out = backup_run(
        std::path::Path::new(f[0]),
        f[1].parse().unwrap(),
        f[2] == "1",
        Duration::from_millis(f[3].parse().unwrap()),
    )
    .unwrap();
    std::fs::write(f[4], out.to_string()).unwrap();
}

/// Spawns [`backup_child`] and waits until it is about to train.
fn spawn_backup(
    dir: &std::path::Path,
    epochs: usize,
    resume: bool,
    slow_ms: u64,
    result: &std::path::Path,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
) {
    use std::io::BufRead;
    let mut child = crate::support::child_test("checkpoint_kill::backup_child")
        .env(
            "TYPENET_BACKUP_RUN",
            format!(
                "{}|{epochs}|{}|{slow_ms}|{}",
                dir.display(),
                u8::from(resume),
                result.display()
            ),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("TYPENET-READY") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "child ended early");
    }
    (child, out)
}

/// Runs [`backup_child`] to its end and returns its result.
fn finish_backup(dir: &std::path::Path, epochs: usize, resume: bool) -> serde_json::Value {
    let result = dir.with_extension("result.json");
    let (mut child, _out) = spawn_backup(dir, epochs, resume, 0, &result);
    assert!(
        child.wait().unwrap().success(),
        "run in {} failed",
        dir.display()
    );
    serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Runs killed (SIGKILL) at random moments of training and backing up, half of them fresh runs
/// rewriting the states of earlier ones: after every kill, a run resumed from what is left ends
/// bit for bit where an uninterrupted run ends.
#[test]
fn killed_backups_always_resume_bit_for_bit() {
    use rand::{Rng, SeedableRng};
    const EPOCHS: usize = 4;
    const KILLS: usize = 50;
    let base = crate::support::tmp_dir("backup-kill");
    let reference = finish_backup(&base.join("reference"), EPOCHS, true);
    let live = base.join("live");
    // how long a fresh 2-epoch run trains and saves: the window kills land in
    let start = Instant::now();
    finish_backup(&live, 2, false);
    let window = start.elapsed().as_micros() as u64;
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let (mut kills, mut rounds) = (0, 0);
    while kills < KILLS {
        rounds += 1;
        assert!(
            rounds < 4 * KILLS,
            "only {kills} of {rounds} runs were killed (seed {seed})"
        );
        // a fresh run rewrites epoch 1 over the last one's states; a resumed one extends them
        let fresh = rounds % 2 == 0;
        let epochs = if fresh { 2 } else { EPOCHS };
        let result = base.join("killed.json");
        let (mut child, _out) = spawn_backup(&live, epochs, !fresh, 0, &result);
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..=window)));
        if child.try_wait().unwrap().is_some() {
            continue;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        // resume from a copy of what the kill left, so the next kill meets it as it was
        let probe = base.join(format!("probe-{rounds}"));
        copy_dir(&live, &probe);
        let left = typenet::train::latest_state(&probe).unwrap();
        let resumed = finish_backup(&probe, EPOCHS, true);
        assert_eq!(
            resumed, reference,
            "round {rounds} (seed {seed}): resumed from {left:?} after a kill"
        );
        std::fs::remove_dir_all(&probe).unwrap();
    }
    std::fs::remove_dir_all(&base).ok();
}

/// A second run on a directory that a running run backs up to fails at once, naming the first
/// (process id and host); once the first is killed, its stale lock is taken over.
#[test]
fn a_second_run_on_a_locked_directory_fails_naming_the_first() {
    let dir = crate::support::tmp_dir("backup-lock");
    let live = dir.join("run");
    // 200 epochs of 50 ms: far longer than this test waits
    let (mut first, _out) = spawn_backup(&live, 200, true, 50, &dir.join("first.json"));
    let start = Instant::now();
    while typenet::train::latest_state(&live).unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "first run never backed up"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let start = Instant::now();
    let err = backup_run(&live, 3, true, Duration::ZERO).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "refused only after {:?}",
        start.elapsed()
    );
    let msg = err.to_string();
    match &err {
        Error::CheckpointLocked { dir: d, holder } => {
            assert_eq!(d, &live);
            assert!(
                holder.starts_with(&format!("pid {} on host ", first.id())),
                "{msg}"
            );
        }
        e => panic!("{e}"),
    }
    assert!(msg.contains(&*live.to_string_lossy()), "{msg}");
    first.kill().unwrap();
    first.wait().unwrap();
    // the killed run's lock is stale: a run takes it over (starting afresh)
    let h = backup_run(&live, 3, false, Duration::ZERO).unwrap();
    assert_eq!(h["figures"].as_array().unwrap().len(), 3);
    let lock = std::fs::read_to_string(live.join("lock")).unwrap();
    assert!(
        lock.starts_with(&format!("pid {} on host ", std::process::id())),
        "{lock}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
