//! A copy of a model's tensors in host memory, to put back later (best weights, rollbacks).

use super::tensors::{self, Values};
use super::{spec, TensorSpec};
use crate::{Error, Result};
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// Every tensor and scalar of a model, by name, in host memory.
///
/// It serialises (serde) without loss: `f32` values go through JSON's shortest round-trip form.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// use typenet::checkpoint::Snapshot;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let mut model = dev.build_module::<Linear<3, 2>, f32>();
/// let saved = Snapshot::of(&model)?;
/// let before = model.weight.array();
/// model.weight = dev.zeros();
/// saved.restore(&mut model)?;
/// assert_eq!(model.weight.array(), before);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    tensors: BTreeMap<String, SnapshotTensor>,
}

/// One tensor of a [`Snapshot`]: its safetensors dtype (`F32`, `F64`), shape and values
/// (widened to `f64`, which holds every `f32` exactly).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct SnapshotTensor {
    dtype: String,
    shape: Vec<usize>,
    values: Vec<f64>,
}

impl Snapshot {
    /// Copies every tensor of `model` (`f32` or `f64`).
    ///
    /// # Errors
    /// Device errors.
    pub fn of<E, M, D>(model: &M) -> Result<Self>
    where
        E: Dtype,
        D: Device<E>,
        M: TensorCollection<E, D>,
    {
        let mut tensors = BTreeMap::new();
        for e in tensors::entries(model, true).map_err(Error::device)? {
            let values = match Values::from_le_bytes(&e.spec.dtype, &e.bytes) {
                Values::F32(v) => v.into_iter().map(f64::from).collect(),
                Values::F64(v) => v,
            };
            let t = SnapshotTensor {
                dtype: e.spec.dtype,
                shape: e.spec.shape,
                values,
            };
            tensors.insert(e.spec.name, t);
        }
        Ok(Snapshot { tensors })
    }

    /// Puts the values back into `model`, which must have the same tensors (names, dtypes,
    /// shapes).
    ///
    /// # Errors
    /// [`Error::CheckpointMismatch`] listing every tensor that differs (nothing is changed);
    /// device errors.
    pub fn restore<E, M, D>(&self, model: &mut M) -> Result<()>
    where
        E: Dtype,
        D: Device<E>,
        M: TensorCollection<E, D>,
    {
        let expected = tensors::specs(&*model)?;
        let found: Vec<TensorSpec> = self
            .tensors
            .iter()
            .map(|(name, t)| TensorSpec {
                name: name.clone(),
                dtype: t.dtype.clone(),
                // a snapshot edited by hand: its length is what it holds
                shape: if t.shape.iter().product::<usize>() == t.values.len() {
                    t.shape.clone()
                } else {
                    vec![t.values.len()]
                },
            })
            .collect();
        let mismatches = spec::compare(&expected, &found);
        if !mismatches.is_empty() {
            return Err(Error::CheckpointMismatch {
                path: "<snapshot>".into(),
                target: std::any::type_name::<M>().into(),
                saved_from: None,
                mismatches,
            });
        }
        let values: HashMap<String, Values> = self
            .tensors
            .iter()
            .map(|(k, t)| {
                let v = if t.dtype == "F64" {
                    Values::F64(t.values.clone())
                } else {
                    Values::F32(t.values.iter().map(|&x| x as f32).collect())
                };
                (k.clone(), v)
            })
            .collect();
        tensors::assign(model, &values).map_err(Error::device)
    }
}
