//! Reading a model's tensors out, and writing validated values back in.

use super::TensorSpec;
use dfdx::nn::tensor_collection::{
    RecursiveWalker, ScalarOptions, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
    ViewTensorName, ViewTensorRef,
};
use dfdx::prelude::*;
use num_traits::NumCast;
use std::collections::HashMap;

/// One named tensor of a model: its spec, whether the optimizer trains it, and its values
/// (little-endian bytes, `f32`, or `f64` for the scalars dfdx stores, e.g. batch-norm momentum).
pub(crate) struct Entry {
    pub spec: TensorSpec,
    pub trainable: bool,
    pub bytes: Vec<u8>,
}

/// Every tensor and scalar of `model` in dfdx's visiting order (the names dfdx's own
/// `save_safetensors` uses), with their values when `with_data`.
pub(crate) fn entries<M, D>(model: &M, with_data: bool) -> Result<Vec<Entry>, D::Err>
where
    D: Device<f32>,
    M: TensorCollection<f32, D>,
{
    let mut op = Collect {
        with_data,
        out: Vec::new(),
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut op,
    })?;
    Ok(op.out)
}

struct Collect {
    with_data: bool,
    out: Vec<Entry>,
}

impl<D: Device<f32>> TensorVisitor<f32, D> for Collect {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        let bytes = if self.with_data {
            t.as_vec().iter().flat_map(|v| v.to_le_bytes()).collect()
        } else {
            Vec::new()
        };
        self.out.push(Entry {
            spec: TensorSpec::f32(name, t.shape().concrete().into()),
            trainable: opts.do_gradient_update,
            bytes,
        });
        Ok(None)
    }

    fn visit_scalar<N: NumCast>(
        &mut self,
        _opts: ScalarOptions<N>,
        (n, name): (&N, String),
    ) -> Result<Option<N>, D::Err> {
        // dfdx stores scalars as 0-d F64 tensors; every numeric scalar converts to f64.
        let value = n.to_f64().unwrap_or(f64::NAN);
        self.out.push(Entry {
            spec: TensorSpec::f64_scalar(name),
            trainable: false,
            bytes: value.to_le_bytes().to_vec(),
        });
        Ok(None)
    }
}

/// Values of each tensor by name, already checked against the model's specs.
pub(crate) enum Values {
    F32(Vec<f32>),
    F64(f64),
}

/// Copies `values` into `model`. Every name must have been validated against [`entries`]:
/// tensors without a value are left as they are.
pub(crate) fn assign<M, D>(model: &mut M, values: &HashMap<String, Values>) -> Result<(), D::Err>
where
    D: Device<f32>,
    M: TensorCollection<f32, D>,
{
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut Assign(values),
    })?;
    Ok(())
}

struct Assign<'a>(&'a HashMap<String, Values>);

impl<D: Device<f32>> TensorVisitor<f32, D> for Assign<'_> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _opts: TensorOptions<S, f32, D>,
        (t, name): (&mut Tensor<S, f32, D>, String),
    ) -> Result<Option<Tensor<S, f32, D>>, D::Err> {
        if let Some(Values::F32(v)) = self.0.get(&name) {
            if v.len() == t.shape().num_elements() {
                t.copy_from(v);
            }
        }
        Ok(None)
    }

    fn visit_scalar<N: NumCast>(
        &mut self,
        _opts: ScalarOptions<N>,
        (n, name): (&mut N, String),
    ) -> Result<Option<N>, D::Err> {
        if let Some(Values::F64(v)) = self.0.get(&name) {
            if let Some(x) = N::from(*v) {
                *n = x;
            }
        }
        Ok(None)
    }
}
