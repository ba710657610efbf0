//! safetensors files with typenet metadata: written atomically, validated before use.

use super::atomic::write_file;
use super::spec::compare;
use super::tensors::{Entry, Values};
use super::{LoadOptions, TensorSpec};
use crate::{Error, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Writes `entries` and `metadata` to `path` atomically.
pub(crate) fn write(
    path: &Path,
    entries: &[Entry],
    metadata: HashMap<String, String>,
) -> Result<()> {
    let bad = |reason: String| Error::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let mut views = Vec::with_capacity(entries.len());
    for e in entries {
        let dtype = if e.spec.dtype == "F64" {
            Dtype::F64
        } else {
            Dtype::F32
        };
        let view = TensorView::new(dtype, e.spec.shape.clone(), &e.bytes)
            .map_err(|err| bad(format!("tensor {}: {err:?}", e.spec.name)))?;
        views.push((e.spec.name.clone(), view));
    }
    let bytes = safetensors::serialize(views, &Some(metadata))
        .map_err(|err| bad(format!("cannot serialise: {err:?}")))?;
    write_file(path, |tmp| {
        std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
    })
}

/// A checkpoint file's header: its metadata and the spec of every tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointInfo {
    /// The file read.
    pub path: PathBuf,
    /// The `__metadata__` strings (for a typenet model: `typenet.model`, `typenet.params`,
    /// `typenet.version`, `typenet.shapes`).
    pub metadata: HashMap<String, String>,
    /// Every tensor in the file, by name.
    pub tensors: Vec<TensorSpec>,
}

/// Reads `path` whole and parses its header, checking that the data section has exactly the
/// length the header promises (so a truncated file is caught here).
pub(crate) fn read(path: &Path) -> Result<(Vec<u8>, CheckpointInfo)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        reason: format!(
            "not a complete safetensors file ({} bytes): {e:?}",
            bytes.len()
        ),
    })?;
    let mut tensors: Vec<TensorSpec> = meta
        .tensors()
        .into_iter()
        .map(|(name, info)| TensorSpec {
            name,
            dtype: format!("{:?}", info.dtype),
            shape: info.shape.clone(),
        })
        .collect();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    let metadata = meta.metadata().clone().unwrap_or_default();
    let info = CheckpointInfo {
        path: path.to_path_buf(),
        metadata,
        tensors,
    };
    Ok((bytes, info))
}

/// Reads `path`, checks every tensor of `expected` (name, dtype, shape) and that the file holds
/// no others, and returns the values; a tensor holding NaN or an infinity is refused
/// ([`Error::NonFiniteTensor`]). `owner` names what the file is loaded into (for errors).
pub(crate) fn read_checked(
    path: &Path,
    expected: &[TensorSpec],
    owner: &str,
) -> Result<(CheckpointInfo, HashMap<String, Values>)> {
    read_checked_with(path, expected, owner, None, &LoadOptions::default())
}

/// [`read_checked`] with the checks `options` asks for, and, when `architecture` is given and the
/// whole file is read, a check that the file records that architecture (if it records one).
pub(crate) fn read_checked_with(
    path: &Path,
    expected: &[TensorSpec],
    owner: &str,
    architecture: Option<&str>,
    options: &LoadOptions,
) -> Result<(CheckpointInfo, HashMap<String, Values>)> {
    let (bytes, info) = read(path)?;
    let prefix = options.prefix.as_str();
    let found: Vec<TensorSpec> = info
        .tensors
        .iter()
        .filter_map(|t| {
            t.name.strip_prefix(prefix).map(|name| TensorSpec {
                name: name.to_string(),
                ..t.clone()
            })
        })
        .collect();
    let mut mismatches = compare(expected, &found);
    if !prefix.is_empty() {
        // the file's other tensors belong to the rest of the saved model
        mismatches.retain(|m| m.expected.is_some());
    }
    if !mismatches.is_empty() {
        return Err(Error::CheckpointMismatch {
            path: path.to_path_buf(),
            target: owner.to_string(),
            saved_from: info.metadata.get("typenet.model").cloned(),
            mismatches,
        });
    }
    let saved = info.metadata.get("typenet.architecture");
    if let (Some(expected), Some(saved)) = (architecture, saved)
        && prefix.is_empty()
        && !options.allow_architecture_change
        && saved != expected
    {
        return Err(Error::ArchitectureMismatch {
            path: path.to_path_buf(),
            saved: saved.clone(),
            expected: expected.to_string(),
        });
    }
    let file = SafeTensors::deserialize(&bytes).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("{e:?}"),
    })?;
    let mut values = HashMap::with_capacity(expected.len());
    for spec in expected {
        let data = file
            .tensor(&format!("{prefix}{}", spec.name))
            .map(|t| t.data())
            .map_err(|e| Error::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("tensor {}: {e:?}", spec.name),
            })?;
        let v = Values::from_le_bytes(&spec.dtype, data);
        if !options.allow_non_finite {
            v.check_finite(path, &spec.name)?;
        }
        values.insert(spec.name.clone(), v);
    }
    Ok((info, values))
}
