//! Atomic writes: a file or directory is either absent, the old version, or complete.

use crate::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The directory holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A hidden sibling of `path` for writing: `.name.tmp-<pid>` in the same directory, so the final
/// `rename` never crosses a file system.
fn temporary_sibling(path: &Path) -> Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
        )
    })?;
    Ok(parent_of(path).join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

/// Flushes a file or directory to disk.
fn sync(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// Writes `path` through `write`, which receives a temporary path in the same directory: the
/// temporary file is flushed to disk (`fsync`), renamed over `path`, and the directory flushed,
/// so that a crash at any moment leaves either the old file or the complete new one.
pub(crate) fn write_file(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary_sibling(path)?;
    let result = write(&tmp)
        .and_then(|()| sync(&tmp))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    // Makes the rename itself durable; some file systems cannot sync a directory.
    let _ = sync(parent_of(path));
    Ok(())
}

/// Creates directory `path` through `fill`, which receives a temporary directory to write into;
/// the directory appears under its final name only once complete (flushed to disk, then
/// renamed). `path` must not exist: an existing directory is never removed here, so that a
/// crash at any moment leaves it as it was.
pub(crate) fn write_dir(path: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::AlreadyExists, "already exists"),
        ));
    }
    let tmp = temporary_sibling(path)?;
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let result = fill(&tmp)
        .and_then(|()| sync(&tmp))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
        return result;
    }
    let _ = sync(parent_of(path));
    Ok(())
}
