//! Real-valued targets shaped like a model's output: a sequence of vectors or an image per
//! sample, for models whose output is not one flat vector (autoencoders, per-pixel or per-step
//! regression). Every value loss (`MeanSquaredError`, `MeanAbsoluteError`, `Huber`, the binary
//! cross-entropies: any `ValueLoss`) takes them, as it takes [`Values<N>`].

use super::target::{cast, Targets};
use super::{BatchShape, Target, Values};
use crate::{Error, Result};
use dfdx::prelude::*;

/// `S × N` real values per sample (a value vector per step), for models whose output is
/// `(batch, S, N)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueSequences<const S: usize, const N: usize>;

/// A `C × H × W` image of real values per sample, for models whose output is
/// `(batch, C, H, W)`: an autoencoder's reconstruction, a per-pixel regression.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueImages<const C: usize, const H: usize, const W: usize>;

/// The first non-finite value of `values`, as the error for sample `sample`.
fn validate_all(sample: usize, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(position) => Err(Error::NonFiniteTarget {
            sample,
            position,
            value: values[position],
        }),
    }
}

/// `values` as a device tensor of `shape` in the float type `E`.
fn upload<E: Dtype, D: Device<E>, S: Shape>(
    device: &D,
    values: &[f32],
    shape: S,
) -> Result<Tensor<S, E, D>> {
    let converted = values
        .iter()
        .map(|&v| cast(v))
        .collect::<Result<Vec<E>>>()?;
    device
        .try_tensor_from_vec(converted, shape)
        .map_err(Error::device)
}

impl<const S: usize, const N: usize> Target for ValueSequences<S, N> {
    type Item = [[f32; N]; S];
    type Batch<E: Dtype, D: Device<E>> = Tensor<(usize, Const<S>, Const<N>), E, D>;
    const WIDTH: usize = S * N;
    fn validate(sample: usize, item: &Self::Item) -> Result<()> {
        validate_all(sample, item.as_flattened())
    }
    fn to_device<E: Dtype, D: Device<E>>(
        device: &D,
        items: &[Self::Item],
    ) -> Result<Self::Batch<E, D>> {
        upload(
            device,
            items.as_flattened().as_flattened(),
            (items.len(), Const, Const),
        )
    }
    fn view(items: &[Self::Item]) -> Targets<'_> {
        Targets::Values(items.as_flattened().as_flattened(), S * N)
    }
}

impl<const C: usize, const H: usize, const W: usize> Target for ValueImages<C, H, W> {
    type Item = [[[f32; W]; H]; C];
    type Batch<E: Dtype, D: Device<E>> = Tensor<(usize, Const<C>, Const<H>, Const<W>), E, D>;
    const WIDTH: usize = C * H * W;
    fn validate(sample: usize, item: &Self::Item) -> Result<()> {
        validate_all(sample, item.as_flattened().as_flattened())
    }
    fn to_device<E: Dtype, D: Device<E>>(
        device: &D,
        items: &[Self::Item],
    ) -> Result<Self::Batch<E, D>> {
        let flat = items.as_flattened().as_flattened().as_flattened();
        upload(device, flat, (items.len(), Const, Const, Const))
    }
    fn view(items: &[Self::Item]) -> Targets<'_> {
        Targets::Values(
            items.as_flattened().as_flattened().as_flattened(),
            C * H * W,
        )
    }
}

/// The real-valued target shaped like a sample: what a model reproducing its input
/// ([`Reconstruction`](super::Reconstruction)) is trained against. `Rank1<N>` samples pair with
/// [`Values<N>`], `Rank2<S, N>` with [`ValueSequences<S, N>`], `Rank3<C, H, W>` with
/// [`ValueImages<C, H, W>`].
pub trait SampleValues: BatchShape {
    /// The target kind of the same shape.
    type Target: Target;
    /// One sample's row-major features (`Self::NUMEL` values) as a target.
    fn item(features: &[f32]) -> <Self::Target as Target>::Item;
}

impl<const N: usize> SampleValues for Rank1<N> {
    type Target = Values<N>;
    fn item(f: &[f32]) -> [f32; N] {
        std::array::from_fn(|i| f[i])
    }
}

impl<const S: usize, const N: usize> SampleValues for Rank2<S, N> {
    type Target = ValueSequences<S, N>;
    fn item(f: &[f32]) -> [[f32; N]; S] {
        std::array::from_fn(|s| std::array::from_fn(|n| f[s * N + n]))
    }
}

impl<const C: usize, const H: usize, const W: usize> SampleValues for Rank3<C, H, W> {
    type Target = ValueImages<C, H, W>;
    fn item(f: &[f32]) -> [[[f32; W]; H]; C] {
        std::array::from_fn(|c| {
            std::array::from_fn(|h| std::array::from_fn(|w| f[(c * H + h) * W + w]))
        })
    }
}
