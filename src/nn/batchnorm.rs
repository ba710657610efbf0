//! [`BatchNorm2D`] and [`BatchNorm1D`]: batch normalisation on [`LayerKernels`] (fused kernels
//! on the CPU), with dfdx's fields, tensor names, initialisation and conventions, so models,
//! checkpoints and PyTorch `state_dict`s written for dfdx's layers of the same names load
//! unchanged.

use super::device::{BatchNormGeom, LayerKernels};
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;

/// The builder types (what model type aliases name).
pub mod builder {
    /// Batch normalisation of images `(C, H, W)` or batches `(B, C, H, W)` over `C` channels:
    /// each channel is normalised with the mean and variance of its values over the batch and
    /// the plane, then scaled and shifted by the trainable `scale` (starts at 1) and `bias`
    /// (starts at 0).
    ///
    /// - **Training** (`forward_mut` on a tensor with a tape; what the trainer runs): the batch's
    ///   statistics (variance divided by `N`), and the running statistics updated:
    ///   `running = running·(1 − momentum) + batch·momentum`, the variance's batch term unbiased
    ///   (divided by `N − 1`). `momentum` 0.1 and `epsilon` 1e-5 by default.
    /// - **Inference** (`forward` without a tape): the running statistics, unchanged.
    ///
    /// Tensors `scale`, `bias`, `running_mean`, `running_var` (all `(C,)`) and the scalars
    /// `epsilon`, `momentum`: the names, defaults and numbers of dfdx's `BatchNorm2D`, whose
    /// checkpoints load into it. On the CPU it runs typenet's fused kernels (statistics,
    /// normalisation and the closed-form backward pass in a few passes over the data).
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// let mut bn = dev.build_module::<BatchNorm2D<2>, f32>();
    /// // channel 0 holds 1 and 3, channel 1 holds 5 and 5: normalised to ∓1 and 0
    /// let x = dev.tensor([[[[1.0f32]], [[5.0]]], [[[3.0]], [[5.0]]]]);
    /// let y = bn.forward_mut(x.traced(bn.alloc_grads()));
    /// let y = y.retaped::<NoneTape>().as_vec();
    /// assert!((y[0] + 1.0).abs() < 1e-4 && (y[2] - 1.0).abs() < 1e-4 && y[1] == 0.0);
    /// // running mean: 0.9·0 + 0.1·2 for channel 0
    /// assert!((bn.running_mean.as_vec()[0] - 0.2).abs() < 1e-6);
    /// const _: () = assert!(<BatchNorm2D<2> as Params>::PARAMS == 4);
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.BatchNorm2d(C)` (`scale` is its `weight`).
    /// **Keras equivalent**: `BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct BatchNorm2D<const C: usize>;

    /// Batch normalisation of features `(B, C)` or sequences `(B, C, L)` over `C` channels: as
    /// [`BatchNorm2D`], with the statistics over the batch (and `L`).
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::default();
    /// let bn = dev.build_module::<BatchNorm1D<3>, f32>();
    /// // inference with the initial running statistics (mean 0, variance 1): y = x/√(1 + 1e-5)
    /// let y = bn.forward(dev.tensor([[2.0f32, 0.0, -4.0]]));
    /// assert!((y.as_vec()[0] - 2.0).abs() < 1e-4);
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.BatchNorm1d(C)` (`scale` is its `weight`).
    /// **Keras equivalent**: `BatchNormalization(momentum=0.9, epsilon=1e-5)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct BatchNorm1D<const C: usize>;
}

macro_rules! batch_norm_layer {
    ($name:ident, $what:literal) => {
        #[doc = concat!("A built [`builder::", stringify!($name), "`] (", $what, ") on device `D`")]
        /// with element type `E`.
        #[derive(Clone, Debug)]
        pub struct $name<const C: usize, E: Dtype, D: Storage<E>> {
            /// Scale of the affine transform (PyTorch's `weight`). Starts at 1.
            pub scale: Tensor<Rank1<C>, E, D>,
            /// Shift of the affine transform. Starts at 0.
            pub bias: Tensor<Rank1<C>, E, D>,
            /// Running mean, updated in training. Starts at 0.
            pub running_mean: Tensor<Rank1<C>, E, D>,
            /// Running (unbiased) variance, updated in training. Starts at 1.
            pub running_var: Tensor<Rank1<C>, E, D>,
            /// Added to the variance before its square root. Defaults to 1e-5.
            pub epsilon: f64,
            /// The weight of a batch's statistics in the running ones
            /// (`running·(1 − momentum) + batch·momentum`). Defaults to 0.1.
            pub momentum: f64,
        }

        impl<const C: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E> for builder::$name<C>
        where
            $name<C, E, D>: BuildModule<D, E>,
        {
            type Built = $name<C, E, D>;
            fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
                Self::Built::try_build(device)
            }
        }

        impl<const C: usize, E: Dtype, D: Device<E>> TensorCollection<E, D> for $name<C, E, D> {
            type To<E2: Dtype, D2: Device<E2>> = $name<C, E2, D2>;

            fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
                visitor: &mut V,
            ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
                visitor.visit_fields(
                    (
                        Self::tensor(
                            "scale",
                            |s| &s.scale,
                            |s| &mut s.scale,
                            TensorOptions::reset_to_ones(),
                        ),
                        Self::tensor(
                            "bias",
                            |s| &s.bias,
                            |s| &mut s.bias,
                            TensorOptions::reset_to_zeros(),
                        ),
                        Self::tensor(
                            "running_mean",
                            |s| &s.running_mean,
                            |s| &mut s.running_mean,
                            TensorOptions::detached(|t| t.try_fill_with_zeros()),
                        ),
                        Self::tensor(
                            "running_var",
                            |s| &s.running_var,
                            |s| &mut s.running_var,
                            TensorOptions::detached(|t| t.try_fill_with_ones()),
                        ),
                        Self::scalar(
                            "epsilon",
                            |s| &s.epsilon,
                            |s| &mut s.epsilon,
                            ScalarOptions::from_default(1e-5),
                        ),
                        Self::scalar(
                            "momentum",
                            |s| &s.momentum,
                            |s| &mut s.momentum,
                            ScalarOptions::from_default(0.1),
                        ),
                    ),
                    |(scale, bias, running_mean, running_var, epsilon, momentum)| $name {
                        scale,
                        bias,
                        running_mean,
                        running_var,
                        epsilon,
                        momentum,
                    },
                )
            }
        }

        impl<const C: usize, E: Dtype, D: LayerKernels<E>> $name<C, E, D> {
            /// The geometry of `batch` blocks of `plane` values per channel.
            fn geom(&self, batch: usize, plane: usize) -> BatchNormGeom {
                BatchNormGeom {
                    batch,
                    plane,
                    epsilon: self.epsilon,
                    momentum: self.momentum,
                }
            }

            /// Inference: the running statistics.
            fn infer<S: Shape>(
                &self,
                x: Tensor<S, E, D>,
                batch: usize,
                plane: usize,
            ) -> Result<Tensor<S, E, D>, D::Err> {
                let g = self.geom(batch, plane);
                let running = (&self.running_mean, &self.running_var);
                D::try_batch_norm_infer(x, &self.scale, &self.bias, running, g)
            }

            /// Training: the batch statistics; updates the running ones.
            fn train<S: Shape, T: Tape<E, D>>(
                &mut self,
                x: Tensor<S, E, D, T>,
                batch: usize,
                plane: usize,
            ) -> Result<Tensor<S, E, D, T>, D::Err> {
                let g = self.geom(batch, plane);
                let running = (&mut self.running_mean, &mut self.running_var);
                D::try_batch_norm_train(x, &self.scale, &self.bias, running, g)
            }
        }

        impl<const C: usize> Params for builder::$name<C> {
            const PARAMS: usize = 2 * C;
        }

        impl<In: ConstShape, const C: usize> Summarize<In> for builder::$name<C> {
            type Output = In;
        }
    };
}

batch_norm_layer!(BatchNorm2D, "images");
batch_norm_layer!(BatchNorm1D, "features");

/// The four input forms of a batch norm: inference ([`Module`], no tape) and training
/// ([`ModuleMut`], an owned tape), each with its `(batch, plane)` sizes.
macro_rules! batch_norm_forms {
    ($name:ident, [$($dims:ident),*], $shape:ty, |$x:ident| $sizes:expr) => {
        impl<const C: usize, $($dims: Dim,)* E: Dtype, D: LayerKernels<E>>
            Module<Tensor<$shape, E, D, NoneTape>> for $name<C, E, D>
        {
            type Output = Tensor<$shape, E, D, NoneTape>;
            type Error = D::Err;

            /// Inference: normalises with the running statistics, which it leaves unchanged.
            fn try_forward(&self, x: Tensor<$shape, E, D, NoneTape>) -> Result<Self::Output, D::Err> {
                let (batch, plane) = {
                    let $x = x.shape();
                    $sizes
                };
                self.infer(x, batch, plane)
            }
        }

        impl<const C: usize, $($dims: Dim,)* E: Dtype, D: LayerKernels<E>>
            ModuleMut<Tensor<$shape, E, D, OwnedTape<E, D>>> for $name<C, E, D>
        {
            type Output = Tensor<$shape, E, D, OwnedTape<E, D>>;
            type Error = D::Err;

            /// Training: normalises with the batch statistics and updates the running ones.
            fn try_forward_mut(
                &mut self,
                x: Tensor<$shape, E, D, OwnedTape<E, D>>,
            ) -> Result<Self::Output, D::Err> {
                let (batch, plane) = {
                    let $x = x.shape();
                    $sizes
                };
                self.train(x, batch, plane)
            }
        }
    };
}

batch_norm_forms!(BatchNorm2D, [H, W], (Const<C>, H, W), |s| (
    1,
    s.1.size() * s.2.size()
));
batch_norm_forms!(BatchNorm2D, [B, H, W], (B, Const<C>, H, W), |s| (
    s.0.size(),
    s.2.size() * s.3.size()
));
batch_norm_forms!(BatchNorm1D, [B], (B, Const<C>), |s| (s.0.size(), 1));
batch_norm_forms!(BatchNorm1D, [B, L], (B, Const<C>, L), |s| (
    s.0.size(),
    s.2.size()
));
