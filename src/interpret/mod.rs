//! Interpretability: which input values a model's decision depends on.
//!
//! - [`saliency`]: the gradient of one class score with respect to the input (Simonyan et al.
//!   2014, "Deep Inside Convolutional Networks"), one backward pass.
//! - [`integrated_gradients`]: the gradient integrated along the straight path from a baseline to
//!   the input, times the input's distance from the baseline (Sundararajan et al. 2017,
//!   "Axiomatic Attribution for Deep Networks"). Its attributions add up to the change of the
//!   score, `f(x) − f(baseline)` (completeness).
//! - [`heatmap_png`]: images next to their attributions as heat maps, in one PNG.
//!
//! Both attribution methods work for any model whose forward pass dfdx can record on a tape, in
//! inference mode (dropout off): the bound is named [`Explainable`]. The sample's shape is part
//! of the input tensor's type, so a sample that does not fit the model is a compile error.
//!
//! # Example
//! ```
//! # use typenet::prelude::*;
//! # fn main() -> typenet::Result<()> {
//! let dev = Cpu::seed_from_u64(0);
//! let model = dev.build_module::<(Linear<4, 8>, Tanh, Linear<8, 3>), f32>();
//! let x: Tensor<Rank1<4>, f32, _> = dev.tensor([0.5, -1.0, 2.0, 0.0]);
//! let grad = saliency(&model, &x, 2)?; // ∂ score₂ / ∂ xᵢ
//! assert_eq!(grad.len(), 4);
//! let ig = integrated_gradients(&model, &x, &dev.zeros(), 2, 64)?;
//! assert!(ig.completeness_gap().abs() < 1e-3);
//! # Ok(()) }
//! ```
//!
//! **PyTorch equivalent**: Captum's `Saliency` and `IntegratedGradients`.
//! **Keras equivalent**: `tf.GradientTape` on `model(x)[:, class]`, then `tape.gradient(score, x)`.

mod explainable;
mod heatmap;
mod integrated;
mod saliency;

pub use explainable::Explainable;
pub use heatmap::{heatmap_png, HeatmapRow};
pub use integrated::{integrated_gradients, IntegratedGradients};
pub use saliency::saliency;
