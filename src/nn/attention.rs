//! Self-attention on typenet's [`Linear`](super::Linear): [`SelfAttention`] (multi-head
//! scaled dot-product attention of a sequence over itself) and [`EncoderBlock`] (a transformer
//! encoder layer: attention and a feed-forward network, each in a residual connection followed
//! by layer normalisation, PyTorch's `norm_first=False`).

use super::device::LayerKernels;
use super::linear::{builder::Linear as LinearBuilder, Linear};
use super::summary::Summarize;
use super::Params;
use dfdx::nn::modules::LayerNorm1D;
use dfdx::prelude::*;

/// The builder types (what model type aliases name).
pub mod builder {
    /// Multi-head self-attention over a sequence of width `M` with `H` heads of `M / H`
    /// features: `(B, S, M) → (B, S, M)`. The query, key, value and output projections are
    /// typenet `Linear<M, M>` layers; every position attends to every position (no mask).
    ///
    /// `M` must be a multiple of `H` (checked when the layer runs).
    ///
    /// ```
    /// # use typenet::prelude::*;
    /// let dev = Cpu::seed_from_u64(0);
    /// let m = dev.build_module::<SelfAttention<8, 2>, f32>();
    /// let y: Tensor<(usize, Const<5>, Const<8>), f32, _> = m.forward(dev.zeros_like(&(3, Const::<5>, Const::<8>)));
    /// const _: () = assert!(<SelfAttention<8, 2> as Params>::PARAMS == 4 * (8 * 8 + 8));
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.MultiheadAttention(M, H, batch_first=True)` called as
    /// `attn(x, x, x)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct SelfAttention<const M: usize, const H: usize>;

    /// A transformer encoder layer of width `M`, `H` heads and a feed-forward network of `F`
    /// hidden units: `x = norm1(x + attention(x))`, then `x = norm2(x + W₂ relu(W₁ x))`.
    ///
    /// **PyTorch equivalent**: `nn.TransformerEncoderLayer(M, H, F, dropout=0,
    /// batch_first=True)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct EncoderBlock<const M: usize, const H: usize, const F: usize>;
}

/// A built [`builder::SelfAttention`].
#[derive(Debug, Clone)]
pub struct SelfAttention<const M: usize, const H: usize, E: Dtype, D: Storage<E>> {
    /// Query projection.
    pub w_q: Linear<M, M, E, D>,
    /// Key projection.
    pub w_k: Linear<M, M, E, D>,
    /// Value projection.
    pub w_v: Linear<M, M, E, D>,
    /// Output projection.
    pub w_o: Linear<M, M, E, D>,
}

/// A built [`builder::EncoderBlock`].
#[derive(Debug, Clone)]
pub struct EncoderBlock<const M: usize, const H: usize, const F: usize, E: Dtype, D: Storage<E>> {
    /// The self-attention.
    pub attention: SelfAttention<M, H, E, D>,
    /// Normalisation after the attention's residual sum.
    pub norm1: LayerNorm1D<M, E, D>,
    /// The feed-forward network's first layer.
    pub ff1: Linear<M, F, E, D>,
    /// The feed-forward network's second layer.
    pub ff2: Linear<F, M, E, D>,
    /// Normalisation after the feed-forward network's residual sum.
    pub norm2: LayerNorm1D<M, E, D>,
}

impl<const M: usize, const H: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
    for builder::SelfAttention<M, H>
where
    SelfAttention<M, H, E, D>: BuildModule<D, E>,
{
    type Built = SelfAttention<M, H, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<const M: usize, const H: usize, const F: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
    for builder::EncoderBlock<M, H, F>
where
    EncoderBlock<M, H, F, E, D>: BuildModule<D, E>,
{
    type Built = EncoderBlock<M, H, F, E, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<const M: usize, const H: usize, E, D> TensorCollection<E, D> for SelfAttention<M, H, E, D>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = SelfAttention<M, H, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("w_q", |s| &s.w_q, |s| &mut s.w_q),
                Self::module("w_k", |s| &s.w_k, |s| &mut s.w_k),
                Self::module("w_v", |s| &s.w_v, |s| &mut s.w_v),
                Self::module("w_o", |s| &s.w_o, |s| &mut s.w_o),
            ),
            |(w_q, w_k, w_v, w_o)| SelfAttention { w_q, w_k, w_v, w_o },
        )
    }
}

impl<const M: usize, const H: usize, const F: usize, E, D> TensorCollection<E, D>
    for EncoderBlock<M, H, F, E, D>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = EncoderBlock<M, H, F, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::module("attention", |s| &s.attention, |s| &mut s.attention),
                Self::module("norm1", |s| &s.norm1, |s| &mut s.norm1),
                Self::module("ff1", |s| &s.ff1, |s| &mut s.ff1),
                Self::module("ff2", |s| &s.ff2, |s| &mut s.ff2),
                Self::module("norm2", |s| &s.norm2, |s| &mut s.norm2),
            ),
            |(attention, norm1, ff1, ff2, norm2)| EncoderBlock {
                attention,
                norm1,
                ff1,
                ff2,
                norm2,
            },
        )
    }
}

impl<const M: usize, const H: usize, E: Dtype, D: Storage<E>> NonMutableModule
    for SelfAttention<M, H, E, D>
{
}

impl<const M: usize, const H: usize, const F: usize, E: Dtype, D: Storage<E>> NonMutableModule
    for EncoderBlock<M, H, F, E, D>
{
}

impl<const M: usize, const H: usize, B, S, E, D, T> Module<Tensor<(B, S, Const<M>), E, D, T>>
    for SelfAttention<M, H, E, D>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: LayerKernels<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, S, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, Const<M>), E, D, T>) -> Result<Self::Output, D::Err> {
        let q = self.w_q.try_forward(x.retaped::<T>())?;
        let k = self.w_k.try_forward(x.retaped::<T>())?;
        let v = self.w_v.try_forward(x)?;
        let out = D::try_attention(q, k, v, H)?;
        self.w_o.try_forward(out)
    }
}

impl<const M: usize, const H: usize, const F: usize, B, S, E, D, T>
    Module<Tensor<(B, S, Const<M>), E, D, T>> for EncoderBlock<M, H, F, E, D>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: LayerKernels<E>,
    T: Tape<E, D>,
{
    type Output = Tensor<(B, S, Const<M>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, S, Const<M>), E, D, T>) -> Result<Self::Output, D::Err> {
        let a = self.attention.try_forward(x.retaped::<T>())?;
        let x = layer_norm(&self.norm1, x.try_add(a)?)?;
        let f = self
            .ff2
            .try_forward(self.ff1.try_forward(x.retaped::<T>())?.try_relu()?)?;
        layer_norm(&self.norm2, x.try_add(f)?)
    }
}

/// dfdx's `LayerNorm1D` on the device's layer-norm kernel.
#[allow(clippy::type_complexity)]
fn layer_norm<const M: usize, B: Dim, S: Dim, E: Dtype, D: LayerKernels<E>, T: Tape<E, D>>(
    norm: &LayerNorm1D<M, E, D>,
    x: Tensor<(B, S, Const<M>), E, D, T>,
) -> Result<Tensor<(B, S, Const<M>), E, D, T>, D::Err> {
    D::try_layer_norm(x, &norm.gamma, &norm.beta, norm.epsilon)
}

impl<const M: usize, const H: usize> Params for builder::SelfAttention<M, H> {
    const PARAMS: usize = 4 * (M * M + M);
}

impl<const M: usize, const H: usize, const F: usize> Params for builder::EncoderBlock<M, H, F> {
    const PARAMS: usize = 4 * (M * M + M)
        + <LinearBuilder<M, F> as Params>::PARAMS
        + <LinearBuilder<F, M> as Params>::PARAMS
        + 4 * M;
}

/// The four projections (`4·S·M²`) and the attention products (`2·S²·M`).
impl<const M: usize, const H: usize, S: ConstDim> Summarize<(S, Const<M>)>
    for builder::SelfAttention<M, H>
{
    type Output = (S, Const<M>);
    const MACS: usize = 4 * S::SIZE * M * M + 2 * S::SIZE * S::SIZE * M;
}

/// The attention's costs and the feed-forward network's (`2·S·M·F`).
impl<const M: usize, const H: usize, const F: usize, S: ConstDim> Summarize<(S, Const<M>)>
    for builder::EncoderBlock<M, H, F>
{
    type Output = (S, Const<M>);
    const MACS: usize = 4 * S::SIZE * M * M + 2 * S::SIZE * S::SIZE * M + 2 * S::SIZE * M * F;
}
