//! typenet's CPU kernels, on slices and runtime sizes (one compiled kernel serves every shape):
//! the dense layer (`linear`), convolution by im2col + GEMM (`conv2d`) and, for the 3×3
//! stride-1 convolutions where it measured faster, by Winograd's F(2×2, 3×3) (`winograd`), max
//! and average pooling (`pool2d`), batch normalisation (`batchnorm`), the GRU's recurrence
//! (`gru`), layer normalisation (`layer_norm`), multi-head attention (`attention`), vectorised
//! gate activations (`activation`), the bounds-checked GEMM they share (`gemm`, with the
//! threading policy) and a pool of scratch buffers (`scratch`).
//!
//! Crate-private: the layers reach them through [`LayerKernels`](super::device::LayerKernels),
//! whose CPU implementation (`nn::device`'s `cpu.rs`) wires them into dfdx's tape. Their tests,
//! against a naive loop and central finite differences, are beside them (`tests.rs`).

mod activation;
mod attention;
mod batchnorm;
mod conv2d;
mod gemm;
mod gru;
mod layer_norm;
mod linear;
#[cfg(test)]
pub(crate) mod oracle;
mod pool2d;
mod scratch;
mod simd;
#[cfg(test)]
mod tests;
mod winograd;
#[cfg(target_arch = "x86_64")]
mod winograd_avx2;

pub(crate) use attention::{attention_backward, attention_forward, AttentionGeom};
pub use batchnorm::BatchNormGeom;
pub(crate) use batchnorm::{
    batch_norm_apply, batch_norm_backward, batch_norm_factors, batch_norm_stats, from_f64,
};
pub use conv2d::Conv2dGeom;
pub(crate) use conv2d::{conv2d_backward, conv2d_forward};
pub(crate) use gru::{gru_backward, gru_forward, GruGeom};
pub(crate) use layer_norm::{layer_norm_backward, layer_norm_forward};
pub(crate) use linear::{bias_grad, input_grad, linear_forward, weight_grad, LinearGeom};
pub use pool2d::Pool2dGeom;
pub(crate) use pool2d::{avg_pool_backward, avg_pool_forward, max_pool_backward, max_pool_forward};
pub(crate) use scratch::{give, take};

use dfdx::prelude::{Cpu, Dtype, Storage};

/// Element types typenet's CPU kernels run on: `f32` and `f64` (sealed).
pub trait KernelFloat:
    Dtype
    + num_traits::Float
    + Send
    + Sync
    + scratch::Pooled
    + sealed::GradSlice
    + activation::Activations
    + winograd::WinogradTiles
{
}
impl KernelFloat for f32 {}
impl KernelFloat for f64 {}

pub(crate) mod sealed {
    use dfdx::prelude::{Cpu, Storage};

    /// The elements of a CPU gradient buffer (dfdx's buffer type is opaque in generic code).
    /// Unnameable outside the crate, which seals [`KernelFloat`](super::KernelFloat).
    pub trait GradSlice: Sized {
        /// `v`'s elements.
        fn grad_slice(v: &mut <Cpu as Storage<Self>>::Vec) -> &mut [Self]
        where
            Cpu: Storage<Self>;
        /// `v`'s elements, shared.
        fn grad_slice_ref(v: &<Cpu as Storage<Self>>::Vec) -> &[Self]
        where
            Cpu: Storage<Self>;
    }
}

macro_rules! grad_slice {
    ($($t:ty),*) => {$(
        impl sealed::GradSlice for $t {
            fn grad_slice(v: &mut <Cpu as Storage<$t>>::Vec) -> &mut [$t] {
                &mut v[..]
            }

            fn grad_slice_ref(v: &<Cpu as Storage<$t>>::Vec) -> &[$t] {
                &v[..]
            }
        }
    )*};
}
grad_slice!(f32, f64);
