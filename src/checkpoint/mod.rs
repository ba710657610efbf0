//! Saving models to safetensors files, atomically, and loading them back with every tensor
//! checked first.
//!
//! A model file is a standard safetensors file (readable by Python's `safetensors`, and by
//! dfdx's `load_safetensors`) whose `__metadata__` records the model type (`typenet.model`), its
//! trainable parameter count (`typenet.params`), the typenet version (`typenet.version`) and
//! every tensor's shape (`typenet.shapes`, JSON). [`load_model`] compares the file's header with
//! the model (names, dtypes, shapes) before it touches a single parameter, and reports every
//! disagreement at once as [`Error::CheckpointMismatch`].
//!
//! Training state (optimizer moments, epoch, History) is saved by
//! [`Trainer::save_state`](crate::train::Trainer::save_state); see [`crate::optim`].

mod architecture;
mod atomic;
mod file;
mod lock;
mod npz;
mod snapshot;
mod spec;
mod tensors;

pub use crate::error::{TensorMismatch, TensorSpec};
pub use architecture::architecture;
pub(crate) use atomic::{write_dir, write_file};
pub use file::CheckpointInfo;
pub(crate) use file::{read, read_checked, write};
pub use lock::DirLock;
pub use npz::{export_npz, import_npz, import_npz_with};
pub use snapshot::Snapshot;
pub(crate) use tensors::{assign, entries, Entry, Values};

use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// Saves `model`'s tensors to `path` (safetensors with typenet metadata) so that `path` always
/// holds either the old file or the complete new one: the data goes to a temporary file in the
/// same directory, is flushed to disk (`fsync`), then renamed over `path`.
///
/// # Errors
/// [`Error::Io`] naming the file if writing, syncing or renaming fails.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::default();
/// let model = dev.build_module::<Linear<3, 2>, f32>();
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-linear-{}.safetensors", std::process::id()));
/// typenet::checkpoint::save_model(&model, &path)?;
/// let mut loaded = dev.build_module::<Linear<3, 2>, f32>();
/// typenet::checkpoint::load_model(&mut loaded, &path)?;
/// assert_eq!(loaded.weight.array(), model.weight.array());
///
/// // a model of another shape is refused before anything is overwritten
/// let mut wider = dev.build_module::<Linear<3, 4>, f32>();
/// let err = typenet::checkpoint::load_model(&mut wider, &path).unwrap_err();
/// assert!(err.to_string().contains("weight: expected F32 [4, 3], found F32 [2, 3]"));
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `safetensors.torch.save_file(model.state_dict(), path)`.
pub fn save_model<E, M, D>(model: &M, path: impl AsRef<Path>) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let entries = tensors::entries(model, true).map_err(Error::device)?;
    write(path.as_ref(), &entries, metadata::<E, D, M>(&entries))
}

/// The `__metadata__` of a model file.
fn metadata<E, D, M>(entries: &[Entry]) -> HashMap<String, String>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let params: usize = entries
        .iter()
        .filter(|e| e.trainable)
        .map(|e| e.spec.numel())
        .sum();
    let shapes: BTreeMap<&str, &[usize]> = entries
        .iter()
        .map(|e| (e.spec.name.as_str(), e.spec.shape.as_slice()))
        .collect();
    HashMap::from([
        (
            "typenet.model".to_string(),
            std::any::type_name::<M>().to_string(),
        ),
        (
            "typenet.architecture".to_string(),
            architecture::<E, D, M>(),
        ),
        ("typenet.params".to_string(), params.to_string()),
        (
            "typenet.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (
            "typenet.shapes".to_string(),
            serde_json::to_string(&shapes).unwrap_or_default(),
        ),
    ])
}

/// What loading a checkpoint accepts beyond a well-formed file saved from the same architecture.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// use typenet::checkpoint::{load_model, load_model_with, save_model, LoadOptions};
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::default();
/// let mut model = dev.build_module::<Linear<2, 1>, f32>();
/// model.bias = dev.tensor([f32::NAN]);
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-nan-{}.safetensors", std::process::id()));
/// save_model(&model, &path)?;
/// // refused by default, naming the tensor
/// let err = load_model(&mut model, &path).unwrap_err();
/// assert!(matches!(&err, Error::NonFiniteTensor { tensor, .. } if tensor == "bias"));
/// // read anyway when asked to (to inspect a diverged run, say)
/// let inspect = LoadOptions { allow_non_finite: true, ..LoadOptions::default() };
/// load_model_with(&mut model, &path, &inspect)?;
/// assert!(model.bias.array()[0].is_nan());
/// # Ok(()) }
/// ```
///
/// Loading part of a larger model (the feature extractor of a trained classifier, say) by the
/// prefix of its tensors' names:
/// ```
/// # use typenet::prelude::*;
/// use typenet::checkpoint::{load_model_with, save_model, LoadOptions};
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// type Body = (Linear<4, 8>, ReLU);
/// let classifier = dev.build_module::<(Body, Linear<8, 3>), f32>();
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-prefix-{}.safetensors", std::process::id()));
/// save_model(&classifier, &path)?;
///
/// let mut body = dev.build_module::<Body, f32>();
/// load_model_with(&mut body, &path, &LoadOptions { prefix: "0.".into(), ..Default::default() })?;
/// assert_eq!(body.0.weight.array(), classifier.0 .0.weight.array());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadOptions {
    /// Load tensors holding NaN or infinite values. Default `false`: such a file is refused
    /// with [`Error::NonFiniteTensor`] naming the file and the tensor, and nothing is loaded.
    pub allow_non_finite: bool,
    /// Load a file saved from another architecture whose tensors fit by name and shape (a
    /// deliberate transfer). Default `false`: such a file is refused with
    /// [`Error::ArchitectureMismatch`] naming both architectures. Files that record no
    /// architecture (written by dfdx, or by typenet before it recorded one) are never refused
    /// for it.
    pub allow_architecture_change: bool,
    /// Load only the file's tensors whose names start with this prefix, with the prefix removed,
    /// into a model that is part of the one saved (`"0."`: the first element of a saved tuple).
    /// Every tensor of the model must be found under the prefix; the file's other tensors are
    /// ignored, and so is its recorded architecture. Default `""`: the whole file.
    pub prefix: String,
}

/// Loads tensors saved by [`save_model`] (or by dfdx's `save_safetensors`) into `model`.
///
/// The file's header is checked against the model first: every tensor's name, dtype and shape
/// must match and the file must hold no other tensors; then every value must be finite (see
/// [`load_model_with`] to accept NaN and infinities). On any error the model is unchanged.
///
/// # Errors
/// [`Error::CheckpointMismatch`] listing each tensor that differs (expected vs found);
/// [`Error::ArchitectureMismatch`] when the tensors fit but the file records another
/// architecture (see [`architecture`]);
/// [`Error::NonFiniteTensor`] naming the file and the first tensor holding NaN or an infinity;
/// [`Error::Checkpoint`] naming the file if it is truncated or not a safetensors file;
/// [`Error::Io`] if it cannot be read.
pub fn load_model<E, M, D>(model: &mut M, path: impl AsRef<Path>) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    load_model_with(model, path, &LoadOptions::default())
}

/// [`load_model`] with [`LoadOptions`]: `allow_non_finite` loads a file holding NaN or
/// infinite values, `allow_architecture_change` a file saved from another architecture, and
/// `prefix` part of a larger model's file.
///
/// # Errors
/// As [`load_model`].
pub fn load_model_with<E, M, D>(
    model: &mut M,
    path: impl AsRef<Path>,
    options: &LoadOptions,
) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let expected = tensors::specs(&*model)?;
    let (_, values) = file::read_checked_with(
        path.as_ref(),
        &expected,
        std::any::type_name::<M>(),
        Some(&architecture::<E, D, M>()),
        options,
    )?;
    tensors::assign(model, &values).map_err(Error::device)
}

/// Reads a checkpoint file's header (metadata and tensor specs) without loading it.
///
/// # Errors
/// [`Error::Checkpoint`] if the file is truncated or not a safetensors file; [`Error::Io`].
pub fn read_info(path: impl AsRef<Path>) -> Result<CheckpointInfo> {
    file::read(path.as_ref()).map(|(_, info)| info)
}
