//! Visitors over a model's trainable parameter tensors (those with `do_gradient_update`), in
//! the order dfdx's `TensorCollection` visits them.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorName,
    ViewTensorRef,
};
use dfdx::prelude::{Device, Gradients, HasShape, Shape, Tensor};

/// Allocates a (zero) gradient for every parameter that has none yet, so that reading the
/// gradients afterwards never misses one: a parameter the tape never touched reads as zero.
pub(crate) fn alloc_grads<M: TensorCollection<f64, D>, D: Device<f64>>(
    model: &M,
    grads: &mut Gradients<f64, D>,
) -> Result<(), D::Err> {
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut AllocOp(grads),
    })?;
    Ok(())
}

struct AllocOp<'a, D: Device<f64>>(&'a mut Gradients<f64, D>);

impl<D: Device<f64>> TensorVisitor<f64, D> for AllocOp<'_, D> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = f64;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f64, D>,
        t: &Tensor<S, f64, D>,
    ) -> Result<Option<Tensor<S, f64, D>>, D::Err> {
        if opts.do_gradient_update {
            self.0.try_alloc_for(t)?;
        }
        Ok(None)
    }
}

/// One parameter's name, dimensions, values and gradient (both row-major).
pub(crate) struct ParamGrad {
    pub name: String,
    pub dims: Vec<usize>,
    pub values: Vec<f64>,
    pub grad: Vec<f64>,
}

/// Reads every parameter's gradient. `grads` must hold one for each (see [`alloc_grads`]).
pub(crate) fn read_grads<M: TensorCollection<f64, D>, D: Device<f64>>(
    model: &M,
    grads: &Gradients<f64, D>,
) -> Result<Vec<ParamGrad>, D::Err> {
    let mut op = ReadOp {
        grads,
        out: Vec::new(),
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: (model, String::new()),
        f: &mut op,
    })?;
    Ok(op.out)
}

struct ReadOp<'a, D: Device<f64>> {
    grads: &'a Gradients<f64, D>,
    out: Vec<ParamGrad>,
}

impl<D: Device<f64>> TensorVisitor<f64, D> for ReadOp<'_, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f64;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f64, D>,
        (t, name): (&Tensor<S, f64, D>, String),
    ) -> Result<Option<Tensor<S, f64, D>>, D::Err> {
        if opts.do_gradient_update {
            self.out.push(ParamGrad {
                name,
                dims: t.shape().concrete().into(),
                values: t.as_vec(),
                // Cannot panic: `alloc_grads` ran on this model after the backward pass.
                grad: self.grads.get(t).as_vec(),
            });
        }
        Ok(None)
    }
}

/// Sets element `index` (row-major) of the `target`-th parameter to `value`, returning the value
/// it had (`None` if there is no such parameter or element).
///
/// Parameters built by dfdx are contiguous, so their logical order (`as_vec`) is their physical
/// order (`copy_from`), and the tensor keeps its id.
pub(crate) fn set_param<M: TensorCollection<f64, D>, D: Device<f64>>(
    model: &mut M,
    target: usize,
    index: usize,
    value: f64,
) -> Result<Option<f64>, D::Err> {
    let mut op = SetOp {
        target,
        seen: 0,
        index,
        value,
        old: None,
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut op,
    })?;
    Ok(op.old)
}

struct SetOp {
    target: usize,
    seen: usize,
    index: usize,
    value: f64,
    old: Option<f64>,
}

impl<D: Device<f64>> TensorVisitor<f64, D> for SetOp {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f64;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f64, D>,
        t: &mut Tensor<S, f64, D>,
    ) -> Result<Option<Tensor<S, f64, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        if self.seen == self.target {
            let mut values = t.as_vec();
            if let Some(slot) = values.get_mut(self.index) {
                self.old = Some(std::mem::replace(slot, self.value));
                t.copy_from(&values);
            }
        }
        self.seen += 1;
        Ok(None)
    }
}
