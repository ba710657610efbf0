//! Reading a model's tensors out, and writing validated values back in, for models in `f32`
//! (tensors stored as `F32`) or `f64` (`F64`).

use super::TensorSpec;
use dfdx::nn::tensor_collection::{
    RecursiveWalker, ScalarOptions, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut,
    ViewTensorName, ViewTensorRef,
};
use dfdx::prelude::*;
use num_traits::NumCast;
use std::collections::HashMap;

/// One named tensor of a model: its spec, whether the optimizer trains it, and its values
/// (little-endian bytes: `f32` or `f64` as the spec's dtype says; `f64` for the scalars dfdx
/// stores, e.g. batch-norm momentum).
pub(crate) struct Entry {
    pub spec: TensorSpec,
    pub trainable: bool,
    pub bytes: Vec<u8>,
}

/// Every tensor and scalar of `model` in dfdx's visiting order (the names dfdx's own
/// `save_safetensors` uses), with their values when `with_data`.
pub(crate) fn entries<E, M, D>(model: &M, with_data: bool) -> Result<Vec<Entry>, D::Err>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
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

/// The spec of every tensor and scalar of `model`, what a file must hold to load into it.
pub(crate) fn specs<E, M, D>(model: &M) -> crate::Result<Vec<TensorSpec>>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    let entries = entries(model, false).map_err(crate::Error::device)?;
    Ok(entries.into_iter().map(|e| e.spec).collect())
}

struct Collect {
    with_data: bool,
    out: Vec<Entry>,
}

/// `values` as little-endian bytes of `f64` when `E` is 8 bytes wide, of `f32` otherwise.
fn to_bytes<E: Dtype>(values: &[E]) -> Vec<u8> {
    if std::mem::size_of::<E>() == 8 {
        values
            .iter()
            .flat_map(|v| v.to_f64().unwrap_or(f64::NAN).to_le_bytes())
            .collect()
    } else {
        values
            .iter()
            .flat_map(|v| v.to_f32().unwrap_or(f32::NAN).to_le_bytes())
            .collect()
    }
}

impl<E: Dtype, D: Device<E>> TensorVisitor<E, D> for Collect {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, E, D>,
        (t, name): (&Tensor<S, E, D>, String),
    ) -> Result<Option<Tensor<S, E, D>>, D::Err> {
        let bytes = if self.with_data {
            to_bytes(&t.as_vec())
        } else {
            Vec::new()
        };
        self.out.push(Entry {
            spec: TensorSpec::float::<E>(name, t.shape().concrete().into()),
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

/// Values of each tensor by name, already checked against the model's specs: the elements as
/// stored (`F32` or `F64`); a scalar is one `F64`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Values {
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl Values {
    /// Decodes little-endian bytes of the safetensors dtype `dtype` (`F64`, else `F32`).
    pub(crate) fn from_le_bytes(dtype: &str, bytes: &[u8]) -> Self {
        if dtype == "F64" {
            Values::F64(
                bytes
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                    .collect(),
            )
        } else {
            Values::F32(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect(),
            )
        }
    }

    /// The first non-finite element (index, value) and how many there are, if any.
    pub(crate) fn non_finite(&self) -> Option<(usize, f64, usize)> {
        let all: Box<dyn Iterator<Item = f64> + '_> = match self {
            Values::F32(v) => Box::new(v.iter().map(|&x| <f64 as From<f32>>::from(x))),
            Values::F64(v) => Box::new(v.iter().copied()),
        };
        let mut first = None;
        let mut count = 0;
        for (i, x) in all.enumerate() {
            if !x.is_finite() {
                count += 1;
                first.get_or_insert((i, x));
            }
        }
        first.map(|(i, x)| (i, x, count))
    }

    /// Checks that every element is finite: [`Error::NonFiniteTensor`](crate::Error) naming
    /// `path` and `tensor` otherwise.
    pub(crate) fn check_finite(&self, path: &std::path::Path, tensor: &str) -> crate::Result<()> {
        match self.non_finite() {
            None => Ok(()),
            Some((index, value, count)) => Err(crate::Error::NonFiniteTensor {
                path: path.to_path_buf(),
                tensor: tensor.to_string(),
                index,
                value,
                count,
            }),
        }
    }

    fn len(&self) -> usize {
        match self {
            Values::F32(v) => v.len(),
            Values::F64(v) => v.len(),
        }
    }

    /// The elements converted to `E`.
    fn cast<E: Dtype>(&self) -> Vec<E> {
        match self {
            Values::F32(v) => v
                .iter()
                .map(|&x| E::from_f32(x).unwrap_or_default())
                .collect(),
            Values::F64(v) => v
                .iter()
                .map(|&x| E::from_f64(x).unwrap_or_default())
                .collect(),
        }
    }
}

/// Copies `values` into `model`. Every name must have been validated against [`entries`]:
/// tensors without a value are left as they are.
pub(crate) fn assign<E, M, D>(model: &mut M, values: &HashMap<String, Values>) -> Result<(), D::Err>
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut Assign(values),
    })?;
    Ok(())
}

struct Assign<'a>(&'a HashMap<String, Values>);

impl<E: Dtype, D: Device<E>> TensorVisitor<E, D> for Assign<'_> {
    type Viewer = (ViewTensorMut, ViewTensorName);
    type Err = D::Err;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        _opts: TensorOptions<S, E, D>,
        (t, name): (&mut Tensor<S, E, D>, String),
    ) -> Result<Option<Tensor<S, E, D>>, D::Err> {
        if let Some(v) = self.0.get(&name)
            && v.len() == t.shape().num_elements()
        {
            t.copy_from(&v.cast::<E>());
        }
        Ok(None)
    }

    fn visit_scalar<N: NumCast>(
        &mut self,
        _opts: ScalarOptions<N>,
        (n, name): (&mut N, String),
    ) -> Result<Option<N>, D::Err> {
        if let Some(Values::F64(v)) = self.0.get(&name)
            && let Some(x) = v.first().and_then(|&v| N::from(v))
        {
            *n = x;
        }
        Ok(None)
    }
}
