//! Saving models to safetensors files, atomically.

use crate::{Error, Result};
use dfdx::nn::{LoadFromSafetensors, SaveToSafetensors};
use dfdx::prelude::*;
use std::fs::File;
use std::path::Path;

/// Saves `model`'s tensors to `path` (safetensors) so that `path` always holds either the old
/// file or the complete new one: the data goes to a temporary file in the same directory, is
/// flushed to disk (`fsync`), then renamed over `path`.
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
/// let path = std::env::temp_dir().join("typenet-doc-linear.safetensors");
/// typenet::checkpoint::save_model(&model, &path)?;
/// let mut loaded = dev.build_module::<Linear<3, 2>, f32>();
/// typenet::checkpoint::load_model(&mut loaded, &path)?;
/// assert_eq!(loaded.weight.array(), model.weight.array());
/// # Ok(()) }
/// ```
pub fn save_model<M, D>(model: &M, path: impl AsRef<Path>) -> Result<()>
where
    D: Device<f32>,
    M: SaveToSafetensors<f32, D>,
{
    let path = path.as_ref();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::Config(format!("{} is not a file path", path.display())))?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        model
            .save_safetensors(&tmp)
            .map_err(|e| Error::io(&tmp, std::io::Error::other(format!("{e:?}"))))?;
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        // make the rename itself durable
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Loads tensors saved by [`save_model`] into `model`.
///
/// # Errors
/// [`Error::Io`] naming the file when it cannot be read or is not a safetensors file holding
/// every tensor of the model.
pub fn load_model<M, D>(model: &mut M, path: impl AsRef<Path>) -> Result<()>
where
    D: Device<f32>,
    M: LoadFromSafetensors<f32, D>,
{
    let path = path.as_ref();
    model.load_safetensors(path).map_err(|e| {
        Error::io(
            path,
            std::io::Error::other(format!("cannot load model: {e:?}")),
        )
    })
}
