//! What a tensor in a checkpoint is (name, dtype, shape) and how a file can disagree with a model.

use std::fmt;

/// A tensor's name, element type and shape, as a safetensors header lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Path in the model, e.g. `0.weight` (dfdx's naming).
    pub name: String,
    /// Element type as safetensors spells it: `F32` for tensors, `F64` for dfdx's scalars.
    pub dtype: String,
    /// Dimensions, outermost first (`[]` for a scalar).
    pub shape: Vec<usize>,
}

impl TensorSpec {
    pub(crate) fn f32(name: String, shape: Vec<usize>) -> Self {
        TensorSpec {
            name,
            dtype: "F32".into(),
            shape,
        }
    }

    pub(crate) fn f64_scalar(name: String) -> Self {
        TensorSpec {
            name,
            dtype: "F64".into(),
            shape: Vec::new(),
        }
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// `F32 [128, 784]`.
    fn describe(&self) -> String {
        format!("{} {:?}", self.dtype, self.shape)
    }
}

/// One way a checkpoint file disagrees with the model it is loaded into.
///
/// # Example
/// ```
/// # use typenet::checkpoint::{TensorMismatch, TensorSpec};
/// let m = TensorMismatch {
///     name: "0.weight".into(),
///     expected: Some(TensorSpec { name: "0.weight".into(), dtype: "F32".into(), shape: vec![4, 3] }),
///     found: Some(TensorSpec { name: "0.weight".into(), dtype: "F32".into(), shape: vec![5, 3] }),
/// };
/// assert_eq!(m.to_string(), "0.weight: expected F32 [4, 3], found F32 [5, 3]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorMismatch {
    /// The tensor's name.
    pub name: String,
    /// What the model holds (`None`: the file has a tensor the model lacks).
    pub expected: Option<TensorSpec>,
    /// What the file holds (`None`: the file lacks a tensor of the model).
    pub found: Option<TensorSpec>,
}

impl fmt::Display for TensorMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |s: &Option<TensorSpec>| match s {
            Some(s) => s.describe(),
            None => "nothing".into(),
        };
        write!(
            f,
            "{}: expected {}, found {}",
            self.name,
            show(&self.expected),
            show(&self.found)
        )
    }
}

/// Every disagreement between `expected` (in the model's order) and `found`, then the file's
/// extra tensors by name.
pub(crate) fn compare(expected: &[TensorSpec], found: &[TensorSpec]) -> Vec<TensorMismatch> {
    let mut out = Vec::new();
    for e in expected {
        let f = found.iter().find(|f| f.name == e.name);
        if f != Some(e) {
            out.push(TensorMismatch {
                name: e.name.clone(),
                expected: Some(e.clone()),
                found: f.cloned(),
            });
        }
    }
    let mut extra: Vec<&TensorSpec> = found
        .iter()
        .filter(|f| !expected.iter().any(|e| e.name == f.name))
        .collect();
    extra.sort_by(|a, b| a.name.cmp(&b.name));
    out.extend(extra.into_iter().map(|f| TensorMismatch {
        name: f.name.clone(),
        expected: None,
        found: Some(f.clone()),
    }));
    out
}

/// The mismatches, one per line, for [`Error::CheckpointMismatch`](crate::Error).
pub(crate) fn list(mismatches: &[TensorMismatch]) -> String {
    mismatches
        .iter()
        .map(|m| format!("\n  {m}"))
        .collect::<String>()
}
