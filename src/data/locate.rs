//! Finding a data set's file among the places its packages and archives put it.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The first of `candidates` (paths relative to `dir`) that is a file; `None` when none exists.
///
/// # Errors
/// [`Error::Io`] with the operating system's reason when `dir` or a candidate exists but cannot
/// be looked at (no permission, a symbolic-link loop, …): such a data set is there but
/// unreadable, not missing.
pub(crate) fn locate<S: AsRef<Path>>(dir: &Path, candidates: &[S]) -> Result<Option<PathBuf>> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        // a missing directory, or a file where the directory should be: not installed there
        Ok(_) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(dir, e)),
    }
    // a directory that cannot be listed cannot be searched either
    std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for path in candidates.iter().map(|c| dir.join(c)) {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_file() => return Ok(Some(path)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
    }
    Ok(None)
}
