//! Finding a data set's file among the places its packages and archives put it.

use std::path::{Path, PathBuf};

/// The first of `candidates` (paths relative to `dir`) that is a file.
pub(crate) fn locate<S: AsRef<Path>>(dir: &Path, candidates: &[S]) -> Option<PathBuf> {
    candidates.iter().map(|c| dir.join(c)).find(|p| p.is_file())
}
