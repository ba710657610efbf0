//! The parsers read files: each input is written to one scratch file per process.

use std::path::PathBuf;

/// Writes `data` to this process's scratch file named `name` and returns its path.
pub fn scratch(name: &str, data: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("typenet-fuzz-{}-{name}", std::process::id()));
    std::fs::write(&path, data).expect("the temp dir is writable");
    path
}
