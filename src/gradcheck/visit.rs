//! Visitors over a model's trainable parameter tensors (those with `do_gradient_update`), in
//! the order dfdx's `TensorCollection` visits them.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorName,
    ViewTensorRef,
};
use dfdx::prelude::{Cpu, CpuError, Gradients, HasShape, Shape, Tensor};

/// Allocates a (zero) gradient for every parameter that has none yet, so that reading the
/// gradients afterwards never misses one: a parameter the tape never touched reads as zero.
pub(crate) fn alloc_grads<M: TensorCollection<f64, Cpu>>(
    model: &M,
    grads: &mut Gradients<f64, Cpu>,
) -> Result<(), CpuError> {
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut AllocOp(grads),
    })?;
    Ok(())
}

struct AllocOp<'a>(&'a mut Gradients<f64, Cpu>);

impl TensorVisitor<f64, Cpu> for AllocOp<'_> {
    type Viewer = ViewTensorRef;
    type Err = CpuError;
    type E2 = f64;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f64, Cpu>,
        t: &Tensor<S, f64, Cpu>,
    ) -> Result<Option<Tensor<S, f64, Cpu>>, CpuError> {
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
pub(crate) fn read_grads<M: TensorCollection<f64, Cpu>>(
    model: &M,
    grads: &Gradients<f64, Cpu>,
) -> Result<Vec<ParamGrad>, CpuError> {
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

struct ReadOp<'a> {
    grads: &'a Gradients<f64, Cpu>,
    out: Vec<ParamGrad>,
}

impl TensorVisitor<f64, Cpu> for ReadOp<'_> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = CpuError;
    type E2 = f64;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f64, Cpu>,
        (t, name): (&Tensor<S, f64, Cpu>, String),
    ) -> Result<Option<Tensor<S, f64, Cpu>>, CpuError> {
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
pub(crate) fn set_param<M: TensorCollection<f64, Cpu>>(
    model: &mut M,
    target: usize,
    index: usize,
    value: f64,
) -> Result<Option<f64>, CpuError> {
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

impl TensorVisitor<f64, Cpu> for SetOp {
    type Viewer = ViewTensorMut;
    type Err = CpuError;
    type E2 = f64;
    type D2 = Cpu;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f64, Cpu>,
        t: &mut Tensor<S, f64, Cpu>,
    ) -> Result<Option<Tensor<S, f64, Cpu>>, CpuError> {
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
