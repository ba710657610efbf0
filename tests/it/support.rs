//! Helpers shared by the test modules: temporary directories and child-process entry points.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

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
