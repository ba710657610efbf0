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
    tensors: BTreeMap<String, SnapshotValues>,
    shapes: BTreeMap<String, Vec<usize>>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum SnapshotValues {
    F32(Vec<f32>),
    F64(f64),
}

impl Snapshot {
    /// Copies every tensor of `model`.
    ///
    /// # Errors
    /// Device errors.
    pub fn of<M, D>(model: &M) -> Result<Self>
    where
        D: Device<f32>,
        M: TensorCollection<f32, D>,
    {
        let mut tensors = BTreeMap::new();
        let mut shapes = BTreeMap::new();
        for e in tensors::entries(model, true).map_err(Error::device)? {
            let values = if e.spec.dtype == "F64" {
                let mut b = [0u8; 8];
                b.copy_from_slice(&e.bytes[..8.min(e.bytes.len())]);
                SnapshotValues::F64(f64::from_le_bytes(b))
            } else {
                SnapshotValues::F32(
                    e.bytes
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                )
            };
            shapes.insert(e.spec.name.clone(), e.spec.shape);
            tensors.insert(e.spec.name, values);
        }
        Ok(Snapshot { tensors, shapes })
    }

    /// Puts the values back into `model`, which must have the same tensors (names, shapes).
    ///
    /// # Errors
    /// [`Error::CheckpointMismatch`] listing every tensor that differs (nothing is changed);
    /// device errors.
    pub fn restore<M, D>(&self, model: &mut M) -> Result<()>
    where
        D: Device<f32>,
        M: TensorCollection<f32, D>,
    {
        let expected: Vec<TensorSpec> = tensors::entries(&*model, false)
            .map_err(Error::device)?
            .into_iter()
            .map(|e| e.spec)
            .collect();
        let found: Vec<TensorSpec> = self
            .tensors
            .iter()
            .map(|(name, v)| match v {
                SnapshotValues::F64(_) => TensorSpec::f64_scalar(name.clone()),
                SnapshotValues::F32(values) => {
                    let shape = self.shapes.get(name).cloned().unwrap_or_default();
                    let mut spec = TensorSpec::f32(name.clone(), shape);
                    if spec.numel() != values.len() {
                        // a snapshot edited by hand: its length is what it holds
                        spec.shape = vec![values.len()];
                    }
                    spec
                }
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
            .map(|(k, v)| {
                let v = match v {
                    SnapshotValues::F32(x) => Values::F32(x.clone()),
                    SnapshotValues::F64(x) => Values::F64(*x),
                };
                (k.clone(), v)
            })
            .collect();
        tensors::assign(model, &values).map_err(Error::device)
    }
}
