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
