//! Helpers shared by the test modules: temporary directories and child-process entry points.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use typenet::prelude::*;

/// A fresh, empty directory `typenet-<name>-<pid>-<n>` under the system's temporary directory.
/// The process id and a per-process counter make it unique to one call, so tests running at
/// the same time (in this process or in another run of the suite) never share files.
pub fn tmp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("typenet-{name}-{}-{n}", std::process::id()));
    // a directory left over from an earlier process with the same id
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A command running one `#[ignore]`d test of this test binary, `test` (its full path,
/// `module::name`), alone in a child process. Such tests are entry points for a parent test
/// that spawns them; a normal run lists them as ignored.
pub fn child_test(test: &str) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        test,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    c
}

/// The small classifier the training tests share: 4 features, 16 tanh units, 3 classes.
pub type Net = (Linear<4, 16>, Tanh, Linear<16, 3>);

/// 3 classes of 4 features, 96 samples: a fixed, noisy pattern (no RNG needed).
pub fn data() -> InMemory<Rank1<4>, Classes<3>> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..96u32 {
        let c = i % 3;
        for j in 0..4u32 {
            let noise = ((i * 7 + j * 13) % 17) as f32 / 17.0 - 0.5;
            x.push(if j == c { 1.0 } else { 0.0 } + noise);
        }
        y.push(c as usize);
    }
    InMemory::new(x, y).unwrap()
}

/// The model's parameters, in order.
pub fn params<O, L>(t: &Trainer<Built<Net>, O, L>) -> Vec<Vec<f32>> {
    let m = &t.model;
    vec![
        m.0.weight.as_vec(),
        m.0.bias.as_vec(),
        m.2.weight.as_vec(),
        m.2.bias.as_vec(),
    ]
}

/// History figures without the measured seconds (which no two runs share).
pub fn figures(h: &History) -> Vec<(usize, Vec<(String, u64)>)> {
    h.epochs
        .iter()
        .map(|e| {
            (
                e.epoch,
                e.values
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_bits()))
                    .collect(),
            )
        })
        .collect()
}
