//! CPU kernels for convolution and pooling on runtime sizes (one compiled kernel serves every
//! shape), and their wiring into dfdx's tape.
//!
//! dfdx 0.13 gates its own conv/pool ops behind `nightly`; these use only dfdx's public tape API
//! (`split_tape`, `Tape::add_backward_op`, `ghost`, `Gradients::get_or_alloc_mut`,
//! `tensor_from_vec`), as measured in `shared/design/conv-shapes.md`.

use dfdx::prelude::{Cpu, Dtype, Storage};

mod conv2d;
mod gemm;
mod linear;
mod pool2d;
mod scratch;
mod tape;

pub use conv2d::{conv2d_backward, conv2d_forward, recycle, Conv2dGeom};
pub use pool2d::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward, Pool2dGeom,
};
pub use scratch::Pooled;
pub(crate) use linear::{linear_op, LinearGeom};
pub(crate) use tape::{conv2d_op, pool2d_op, PoolKind};

/// Element types the kernels run on: `f32` and `f64`.
pub trait KernelFloat:
    Dtype + num_traits::Float + Send + Sync + scratch::Pooled + sealed::Sealed
{
    /// The elements of a CPU gradient buffer (dfdx's buffer type is opaque in generic code).
    #[doc(hidden)]
    fn grad_slice(v: &mut <Cpu as Storage<Self>>::Vec) -> &mut [Self]
    where
        Cpu: Storage<Self>;
}
impl KernelFloat for f32 {
    fn grad_slice(v: &mut <Cpu as Storage<f32>>::Vec) -> &mut [f32] {
        &mut v[..]
    }
}
impl KernelFloat for f64 {
    fn grad_slice(v: &mut <Cpu as Storage<f64>>::Vec) -> &mut [f64] {
        &mut v[..]
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}
