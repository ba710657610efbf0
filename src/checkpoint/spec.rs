//! How a checkpoint file can disagree with a model: [`compare`] lists every [`TensorMismatch`].
//! The types themselves are error payload, defined beside [`Error`](crate::Error).

use crate::error::{TensorMismatch, TensorSpec};

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
