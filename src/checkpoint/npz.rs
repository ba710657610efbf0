//! NumPy `.npz` export of a model's tensors (dfdx's `numpy` format).

use super::write_file;
use crate::{Error, Result};
use dfdx::nn::{LoadFromNpz, SaveToNpz};
use dfdx::prelude::*;
use std::path::Path;

/// Writes `model`'s tensors to a NumPy `.npz` archive at `path` (one `.npy` per tensor, named as
/// in safetensors files, e.g. `0.weight.npy`), atomically.
///
/// # Errors
/// [`Error::Io`] naming the file if it cannot be written.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::default();
/// let model = dev.build_module::<Linear<3, 2>, f32>();
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-linear-{}.npz", std::process::id()));
/// typenet::checkpoint::export_npz(&model, &path)?;
/// let mut back = dev.build_module::<Linear<3, 2>, f32>();
/// typenet::checkpoint::import_npz(&mut back, &path)?;
/// assert_eq!(back.weight.array(), model.weight.array());
/// # Ok(()) }
/// ```
///
/// **NumPy equivalent**: `np.load(path)["0.weight"]` reads a tensor back.
pub fn export_npz<M, D>(model: &M, path: impl AsRef<Path>) -> Result<()>
where
    D: Device<f32>,
    M: SaveToNpz<f32, D>,
{
    let path = path.as_ref();
    write_file(path, |tmp| {
        model
            .save(tmp)
            .map_err(|e| Error::io(tmp, std::io::Error::other(e.to_string())))
    })
}

/// Reads an `.npz` archive written by [`export_npz`] into `model`.
///
/// # Errors
/// [`Error::Checkpoint`] naming the file if it cannot be read or does not fit the model.
pub fn import_npz<M, D>(model: &mut M, path: impl AsRef<Path>) -> Result<()>
where
    D: Device<f32>,
    M: LoadFromNpz<f32, D>,
{
    let path = path.as_ref();
    model.load(path).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("cannot load .npz: {e:?}"),
    })
}
