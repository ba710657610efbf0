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
pub(crate) use linear::{linear_op, LinearGeom};
pub use pool2d::{
    avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward, Pool2dGeom,
};
pub use scratch::Pooled;
pub(crate) use tape::{conv2d_op, pool2d_op};

/// `c (m×n) = a (m×k) · b (k×n)`, all row-major and contiguous, on the CPU GEMM typenet's layers
/// use (`gemm` 0.19, AVX-512 where the CPU has it), on every rayon thread from 2¹⁸ multiply-adds
/// up.
///
/// Errors (`CpuError::WrongNumElements`, `c` untouched) when a slice's length is not its sizes'
/// product.
///
/// # Example
/// ```
/// # use typenet::nn::kernels::matmul;
/// let a = [1.0f32, 2.0, 3.0, 4.0]; // [[1, 2], [3, 4]]
/// let b = [1.0f32, 0.0, 0.0, 1.0]; // identity
/// let mut c = [0.0f32; 4];
/// matmul(2, 2, 2, &a, &b, &mut c).unwrap();
/// assert_eq!(c, a);
/// ```
pub fn matmul<E: KernelFloat>(
    m: usize,
    k: usize,
    n: usize,
    a: &[E],
    b: &[E],
    c: &mut [E],
) -> Result<(), dfdx::tensor::CpuError> {
    let fits = |len: usize, r: usize, s: usize| r.checked_mul(s) == Some(len);
    if !(fits(a.len(), m, k) && fits(b.len(), k, n) && fits(c.len(), m, n)) {
        return Err(dfdx::tensor::CpuError::WrongNumElements);
    }
    let lhs = gemm::Mat {
        data: a,
        rs: k,
        cs: 1,
    };
    let rhs = gemm::Mat {
        data: b,
        rs: n,
        cs: 1,
    };
    gemm::matmul(m, n, k, c, lhs, rhs, false);
    Ok(())
}

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
