//! What a gradient check found, tensor by tensor.

use super::GradCheckConfig;
use crate::{Error, Result};
use std::fmt;

/// The comparison of one tensor's gradient (a parameter, or the input) with finite differences.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorCheck {
    /// The parameter's path in the model as dfdx names it (`0.weight`, `1.0.bias`), or `input`.
    pub name: String,
    /// The tensor's dimensions.
    pub dims: Vec<usize>,
    /// Number of elements of the tensor.
    pub elements: usize,
    /// Number of elements compared (fewer than `elements` when sampled).
    pub checked: usize,
    /// Largest `|analytic − numeric|` over the checked elements.
    pub max_abs_err: f64,
    /// Largest `|analytic − numeric| / max(|analytic|, |numeric|)` (0 where both are 0).
    pub max_rel_err: f64,
    /// Index (per dimension) of the element furthest outside `atol + rtol · |numeric|`.
    pub worst_index: Vec<usize>,
    /// The tape's gradient at `worst_index`.
    pub analytic: f64,
    /// The finite-difference estimate at `worst_index`.
    pub numeric: f64,
    /// Whether every checked element is within tolerance.
    pub passed: bool,
}

impl TensorCheck {
    /// Compares `analytic[i]` with `numeric[i]` at each flat index in `indices`.
    pub(crate) fn compare(
        name: String,
        dims: Vec<usize>,
        indices: &[usize],
        analytic: &[f64],
        numeric: &[f64],
        config: &GradCheckConfig,
    ) -> Self {
        let mut check = TensorCheck {
            elements: dims.iter().product(),
            name,
            dims,
            checked: indices.len(),
            max_abs_err: 0.0,
            max_rel_err: 0.0,
            worst_index: Vec::new(),
            analytic: f64::NAN,
            numeric: f64::NAN,
            passed: true,
        };
        let mut worst = (f64::NEG_INFINITY, 0usize);
        for (&i, (&a, &n)) in indices.iter().zip(analytic.iter().zip(numeric)) {
            let abs = (a - n).abs();
            let scale = a.abs().max(n.abs());
            let rel = if scale > 0.0 { abs / scale } else { abs };
            // NaN compares false everywhere: map it to +inf so a NaN gradient always fails.
            let excess = if abs.is_nan() {
                f64::INFINITY
            } else {
                abs / (config.atol + config.rtol * n.abs())
            };
            check.max_abs_err =
                check
                    .max_abs_err
                    .max(if abs.is_nan() { f64::INFINITY } else { abs });
            check.max_rel_err =
                check
                    .max_rel_err
                    .max(if rel.is_nan() { f64::INFINITY } else { rel });
            if excess > worst.0 {
                worst = (excess, i);
                check.analytic = a;
                check.numeric = n;
            }
        }
        check.passed = worst.0 <= 1.0 || indices.is_empty();
        check.worst_index = unflatten(worst.1, &check.dims);
        check
    }
}

/// The multi-index of flat (row-major) index `flat` in a tensor of dimensions `dims`.
fn unflatten(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (slot, &d) in index.iter_mut().zip(dims).rev() {
        if d > 0 {
            *slot = flat % d;
            flat /= d;
        }
    }
    index
}

/// The result of [`gradcheck`](super::gradcheck): one [`TensorCheck`] per parameter tensor (in
/// the model's visiting order) and one for the input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GradCheckReport {
    /// Every tensor checked.
    pub tensors: Vec<TensorCheck>,
}

impl GradCheckReport {
    /// Whether every tensor passed.
    pub fn passed(&self) -> bool {
        self.tensors.iter().all(|t| t.passed)
    }

    /// The check of the tensor called `name` (`0.weight`, `input`), if there is one.
    pub fn get(&self, name: &str) -> Option<&TensorCheck> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// `Ok(self)` if every tensor passed, else [`Error::GradCheck`] naming the first tensor that
    /// failed and its worst element.
    pub fn ensure(self) -> Result<Self> {
        match self.tensors.iter().find(|t| !t.passed) {
            Some(t) => Err(Error::GradCheck {
                tensor: t.name.clone(),
                index: t.worst_index.clone(),
                analytic: t.analytic,
                numeric: t.numeric,
            }),
            None => Ok(self),
        }
    }
}

impl fmt::Display for GradCheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<20} {:>9} {:>9} {:>11} {:>11} {:>14}  status",
            "tensor", "elements", "checked", "max abs err", "max rel err", "worst index"
        )?;
        for t in &self.tensors {
            writeln!(
                f,
                "{:<20} {:>9} {:>9} {:>11.3e} {:>11.3e} {:>14}  {}",
                t.name,
                t.elements,
                t.checked,
                t.max_abs_err,
                t.max_rel_err,
                format!("{:?}", t.worst_index),
                if t.passed { "ok" } else { "FAILED" }
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unflatten_is_row_major() {
        assert_eq!(unflatten(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unflatten(0, &[]), Vec::<usize>::new());
    }

    #[test]
    fn one_bad_element_fails_and_is_named() {
        let cfg = GradCheckConfig::default();
        let t = TensorCheck::compare(
            "w".into(),
            vec![2, 2],
            &[0, 1, 2, 3],
            &[1.0, 2.0, 3.0, 4.1],
            &[1.0, 2.0, 3.0, 4.0],
            &cfg,
        );
        assert!(!t.passed);
        assert_eq!(t.worst_index, vec![1, 1]);
        let err = GradCheckReport { tensors: vec![t] }.ensure();
        assert!(matches!(err, Err(Error::GradCheck { ref tensor, .. }) if tensor == "w"));
    }

    #[test]
    fn nan_gradient_fails() {
        let cfg = GradCheckConfig::default();
        let t = TensorCheck::compare("w".into(), vec![1], &[0], &[f64::NAN], &[1.0], &cfg);
        assert!(!t.passed);
    }
}
