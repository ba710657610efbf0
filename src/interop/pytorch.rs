//! PyTorch `state_dict`s in safetensors files: [`load_state_dict`] and [`save_state_dict`].
//!
//! A typenet model's tensors carry dfdx's names (`0.weight`, `1.0.running_mean`), which are
//! already PyTorch's for a model written as nested `nn.Sequential`s with the same layers in the
//! same places (activations, pooling and flatten take an index in both). Three leaf names
//! differ, and are translated both ways:
//!
//! | typenet (dfdx)                     | PyTorch                               |
//! |------------------------------------|---------------------------------------|
//! | `BatchNorm1D`/`2D` `scale`         | `weight`                              |
//! | `LayerNorm1D` `gamma` / `beta`     | `weight` / `bias`                     |
//! | batch norm `epsilon`, `momentum`   | (module attributes, not in the dict)  |
//! | —                                  | batch norm `num_batches_tracked` (I64)|
//!
//! `Linear` (`(out, in)`) and `Conv2D` (`(out, in, kh, kw)`) weights have PyTorch's layout, so
//! values are copied as they are.

use crate::checkpoint::{TensorMismatch, TensorSpec, Values};
use crate::{Error, Result};
use ::safetensors::tensor::{Dtype as StDtype, TensorView};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// The PyTorch key of the model tensor named `name` by dfdx, or `None` for the scalars dfdx keeps
/// among the tensors (batch norm's `epsilon` and `momentum`, layer norm's `epsilon`).
pub fn torch_key(name: &str) -> Option<String> {
    let (prefix, leaf) = match name.rfind('.') {
        Some(i) => (&name[..=i], &name[i + 1..]),
        None => ("", name),
    };
    let leaf = match leaf {
        "epsilon" | "momentum" => return None,
        "scale" | "gamma" => "weight",
        "beta" => "bias",
        other => other,
    };
    Some(format!("{prefix}{leaf}"))
}

/// The `num_batches_tracked` key PyTorch keeps beside a batch norm's `running_var`.
fn batches_tracked_key(torch_key: &str) -> Option<String> {
    torch_key
        .strip_suffix("running_var")
        .map(|prefix| format!("{prefix}num_batches_tracked"))
}

/// One model tensor as PyTorch names it.
struct Slot {
    dfdx: String,
    spec: TensorSpec,
}

/// Each tensor's slot and its little-endian bytes (empty unless asked for).
type Slots = Vec<(Slot, Vec<u8>)>;

/// The model's tensors under their PyTorch keys, and the `num_batches_tracked` keys it accepts.
fn slots<E, M, D>(model: &M, with_data: bool) -> Result<(Slots, Vec<String>)>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let entries = crate::checkpoint::entries(model, with_data).map_err(Error::device)?;
    let mut slots = Vec::with_capacity(entries.len());
    let mut counters = Vec::new();
    for e in entries {
        let Some(key) = torch_key(&e.spec.name) else {
            continue;
        };
        if let Some(counter) = batches_tracked_key(&key) {
            counters.push(counter);
        }
        let spec = TensorSpec {
            name: key,
            ..e.spec.clone()
        };
        slots.push((
            Slot {
                dfdx: e.spec.name,
                spec,
            },
            e.bytes,
        ));
    }
    Ok((slots, counters))
}

/// The PyTorch keys of `model`'s tensors with their shapes, in dfdx's visiting order (what a
/// `state_dict` must hold to load into it, `num_batches_tracked` aside).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<(Linear<4, 3>, ReLU, BatchNorm1D<3>), f32>();
/// let keys = typenet::interop::pytorch::state_dict_keys(&model)?;
/// let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
/// assert_eq!(
///     names,
///     ["0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var"]
/// );
/// # Ok::<(), typenet::Error>(())
/// ```
///
/// # Errors
/// [`Error::Device`] if the device fails while the tensors are visited.
pub fn state_dict_keys<E, M, D>(model: &M) -> Result<Vec<(String, Vec<usize>)>>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let (slots, _) = slots(model, false)?;
    Ok(slots
        .into_iter()
        .map(|(s, _)| (s.spec.name, s.spec.shape))
        .collect())
}

/// Loads a PyTorch `state_dict` saved as safetensors
/// (`safetensors.torch.save_file(model.state_dict(), path)`) into `model`.
///
/// Every tensor of the model must be in the file under its PyTorch key (see the
/// [module docs](self)) with the model's shape, as `F32` or `F64` (converted to the model's
/// element type); the file may hold no other tensors, except batch norm's `num_batches_tracked`
/// counters (read and ignored). Everything is checked before the first value is copied: on any
/// error the model is unchanged.
///
/// # Errors
/// [`Error::CheckpointMismatch`] listing every tensor that is missing, has another shape or an
/// element type other than `F32`/`F64`, and every tensor the model has no place for;
/// [`Error::NonFiniteTensor`] for a NaN or infinite value; [`Error::Checkpoint`] for a file that
/// is not safetensors; [`Error::Io`] if it cannot be read.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// use typenet::interop::pytorch::{load_state_dict, save_state_dict};
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::default();
/// let model = dev.build_module::<(Linear<3, 2>, ReLU, Linear<2, 1>), f32>();
/// let path = std::env::temp_dir()
///     .join(format!("typenet-doc-torch-{}.safetensors", std::process::id()));
/// save_state_dict(&model, &path)?;
/// let mut same = dev.build_module::<(Linear<3, 2>, ReLU, Linear<2, 1>), f32>();
/// load_state_dict(&mut same, &path)?;
/// assert_eq!(same.2.weight.array(), model.2.weight.array());
///
/// // another shape: every tensor that does not fit is named
/// let mut wider = dev.build_module::<(Linear<3, 4>, ReLU, Linear<4, 1>), f32>();
/// let err = load_state_dict(&mut wider, &path).unwrap_err().to_string();
/// assert!(err.contains("0.weight: expected F32 [4, 3], found F32 [2, 3]"), "{err}");
/// assert!(err.contains("2.weight: expected F32 [1, 4], found F32 [1, 2]"), "{err}");
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `model.load_state_dict(safetensors.torch.load_file(path))`.
pub fn load_state_dict<E, M, D>(model: &mut M, path: impl AsRef<Path>) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let path = path.as_ref();
    let (slots, counters) = slots(&*model, false)?;
    let (bytes, info) = crate::checkpoint::read(path)?;
    let found: HashMap<&str, &TensorSpec> =
        info.tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut mismatches = Vec::new();
    for (slot, _) in &slots {
        let f = found.get(slot.spec.name.as_str()).copied();
        let fits =
            f.is_some_and(|f| f.shape == slot.spec.shape && matches!(&*f.dtype, "F32" | "F64"));
        if !fits {
            mismatches.push(TensorMismatch {
                name: slot.spec.name.clone(),
                expected: Some(slot.spec.clone()),
                found: f.cloned(),
            });
        }
    }
    for t in &info.tensors {
        let known = slots.iter().any(|(s, _)| s.spec.name == t.name)
            || (counters.contains(&t.name) && t.shape.is_empty());
        if !known {
            mismatches.push(TensorMismatch {
                name: t.name.clone(),
                expected: None,
                found: Some(t.clone()),
            });
        }
    }
    if !mismatches.is_empty() {
        return Err(Error::CheckpointMismatch {
            path: path.to_path_buf(),
            target: std::any::type_name::<M>().to_string(),
            saved_from: None,
            mismatches,
        });
    }
    let file = ::safetensors::SafeTensors::deserialize(&bytes).map_err(|e| Error::Checkpoint {
        path: path.to_path_buf(),
        reason: format!("{e:?}"),
    })?;
    let mut values = HashMap::with_capacity(slots.len());
    for (slot, _) in &slots {
        let view = file
            .tensor(&slot.spec.name)
            .map_err(|e| Error::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("tensor {}: {e:?}", slot.spec.name),
            })?;
        let dtype = format!("{:?}", view.dtype());
        let v = Values::from_le_bytes(&dtype, view.data());
        v.check_finite(path, &slot.spec.name)?;
        values.insert(slot.dfdx.clone(), v);
    }
    crate::checkpoint::assign(model, &values).map_err(Error::device)
}

/// Saves `model`'s tensors under PyTorch's keys (see the [module docs](self)), as safetensors
/// with `{"format": "pt"}` metadata, atomically: `model.load_state_dict(load_file(path))`
/// loads it into the matching PyTorch model. Each batch norm gets a `num_batches_tracked` of 0
/// (`I64`), which PyTorch only reads when its momentum is `None`.
///
/// # Errors
/// [`Error::Io`] naming the file if it cannot be written; [`Error::Device`].
///
/// **PyTorch equivalent**: `safetensors.torch.save_file(model.state_dict(), path)`.
pub fn save_state_dict<E, M, D>(model: &M, path: impl AsRef<Path>) -> Result<()>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let path = path.as_ref();
    let (slots, counters) = slots(model, true)?;
    let bad = |reason: String| Error::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let zero = 0i64.to_le_bytes();
    let mut views = Vec::with_capacity(slots.len() + counters.len());
    for (slot, bytes) in &slots {
        let dtype = if slot.spec.dtype == "F64" {
            StDtype::F64
        } else {
            StDtype::F32
        };
        let view = TensorView::new(dtype, slot.spec.shape.clone(), bytes)
            .map_err(|e| bad(format!("tensor {}: {e:?}", slot.spec.name)))?;
        views.push((slot.spec.name.clone(), view));
    }
    for key in &counters {
        let view = TensorView::new(StDtype::I64, Vec::new(), &zero)
            .map_err(|e| bad(format!("tensor {key}: {e:?}")))?;
        views.push((key.clone(), view));
    }
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let bytes = ::safetensors::serialize(views, &Some(metadata))
        .map_err(|e| bad(format!("cannot serialise: {e:?}")))?;
    crate::checkpoint::write_file(path, |tmp| {
        std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
    })
}

#[cfg(test)]
mod tests {
    use super::torch_key;

    #[test]
    fn leaf_names_follow_pytorch() {
        assert_eq!(torch_key("0.weight").as_deref(), Some("0.weight"));
        assert_eq!(torch_key("1.2.scale").as_deref(), Some("1.2.weight"));
        assert_eq!(torch_key("3.gamma").as_deref(), Some("3.weight"));
        assert_eq!(torch_key("3.beta").as_deref(), Some("3.bias"));
        assert_eq!(torch_key("1.running_var").as_deref(), Some("1.running_var"));
        assert_eq!(torch_key("1.epsilon"), None);
        assert_eq!(torch_key("momentum"), None);
    }
}
