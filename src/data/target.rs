//! What a data set's labels are: class indices or real-valued targets, with their width in the type.

use crate::{Error, Result};
use dfdx::prelude::*;

/// The kind of label a data set carries, with its width known at compile time.
///
/// The trainer pairs it with the model's output and the loss: a data set of
/// [`Classes<10>`] only trains a model whose output is 10 wide, with a loss for class indices.
pub trait Target: 'static + Send + Sync {
    /// One sample's label on the host.
    type Item: Copy + Send + Sync + std::fmt::Debug + PartialEq;
    /// A batch of labels on device `D`, real values in the float type `E` (`f32` or `f64`, the
    /// model's); class indices stay `usize`.
    type Batch<E: Dtype, D: Device<E>>;
    /// Width of the model output this target pairs with.
    const WIDTH: usize;
    /// Checks the label of sample `sample` (e.g. a class index is below `N`).
    ///
    /// # Errors
    /// [`Error::ClassOutOfRange`] or [`Error::NonFiniteTarget`], naming the sample.
    fn validate(sample: usize, item: &Self::Item) -> Result<()>;
    /// Moves a batch of labels to the device, real values converted to `E`.
    fn to_device<E: Dtype, D: Device<E>>(
        device: &D,
        items: &[Self::Item],
    ) -> Result<Self::Batch<E, D>>;
    /// A borrowed, type-erased view for metrics.
    fn view(items: &[Self::Item]) -> Targets<'_>;
    /// How many outputs of the model these targets pair with: 1, or one per part of
    /// [`PerOutput`](super::PerOutput).
    const OUTPUTS: usize = 1;
    /// Hands a batch's outputs (row-major, [`Target::WIDTH`] per sample) and targets to `f`, one
    /// call per output `k` with that output's values, its width and its targets: how metrics of
    /// a model with several outputs see each output alone.
    fn for_each_output(outputs: &[f32], items: &[Self::Item], f: EachOutput<'_>) {
        f(0, outputs, Self::WIDTH, Self::view(items));
    }
}

/// Class indices in `0..N` (what Keras's `sparse_categorical_crossentropy` takes).
#[derive(Debug, Clone, Copy, Default)]
pub struct Classes<const N: usize>;

/// `N` real-valued targets per sample (regression, or binary/multi-label probabilities).
#[derive(Debug, Clone, Copy, Default)]
pub struct Values<const N: usize>;

/// What [`Target::for_each_output`] calls once per output: the output's index, its values
/// (row-major), its width and its targets.
pub type EachOutput<'f> = &'f mut dyn FnMut(usize, &[f32], usize, Targets<'_>);

/// A type-erased view of a batch's labels, for metrics.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// Class indices.
    Classes(&'a [usize]),
    /// Row-major real targets and their width per sample.
    Values(&'a [f32], usize),
}

impl<const N: usize> Target for Classes<N> {
    type Item = usize;
    type Batch<E: Dtype, D: Device<E>> = Tensor<(usize,), usize, D>;
    const WIDTH: usize = N;
    fn validate(sample: usize, item: &usize) -> Result<()> {
        if *item < N {
            Ok(())
        } else {
            Err(Error::ClassOutOfRange {
                sample: Some(sample),
                class: *item,
                classes: N,
            })
        }
    }
    fn to_device<E: Dtype, D: Device<E>>(device: &D, items: &[usize]) -> Result<Self::Batch<E, D>> {
        device
            .try_tensor_from_vec(items.to_vec(), (items.len(),))
            .map_err(Error::device)
    }
    fn view(items: &[usize]) -> Targets<'_> {
        Targets::Classes(items)
    }
}

impl<const N: usize> Target for Values<N> {
    type Item = [f32; N];
    type Batch<E: Dtype, D: Device<E>> = Tensor<(usize, Const<N>), E, D>;
    const WIDTH: usize = N;
    fn validate(sample: usize, item: &[f32; N]) -> Result<()> {
        match item.iter().position(|v| !v.is_finite()) {
            None => Ok(()),
            Some(position) => Err(Error::NonFiniteTarget {
                sample,
                position,
                value: item[position],
            }),
        }
    }
    fn to_device<E: Dtype, D: Device<E>>(
        device: &D,
        items: &[[f32; N]],
    ) -> Result<Self::Batch<E, D>> {
        let flat = items
            .iter()
            .flatten()
            .map(|&v| cast(v))
            .collect::<Result<Vec<E>>>()?;
        device
            .try_tensor_from_vec(flat, (items.len(), Const::<N>))
            .map_err(Error::device)
    }
    fn view(items: &[[f32; N]]) -> Targets<'_> {
        Targets::Values(items.as_flattened(), N)
    }
}

/// `v` in the float type `E`.
///
/// # Errors
/// [`Error::Device`] for a value `E` cannot hold (never for a float type; `Device<E>` is
/// implemented for floats only).
pub(crate) fn cast<E: Dtype>(v: f32) -> Result<E> {
    E::from_f32(v).ok_or_else(|| {
        Error::device(format!(
            "{v} is not representable as {}",
            std::any::type_name::<E>()
        ))
    })
}

/// `values` in the float type `E`: the same vector when `E` is `f32` (no copy), converted
/// otherwise.
///
/// # Errors
/// As [`cast`].
pub(crate) fn into_dtype<E: Dtype>(values: Vec<f32>) -> Result<Vec<E>> {
    let mut slot = Some(values);
    if let Some(same) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<Vec<E>>>() {
        return Ok(same.take().unwrap_or_default());
    }
    slot.unwrap_or_default().into_iter().map(cast).collect()
}

/// No label at all: the target kind of a data set that only has features, for
/// [`Trainer::predict`](crate::train::Trainer::predict). No loss takes it, so such a set cannot
/// be trained or evaluated on (a compile error).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let dev = Cpu::seed_from_u64(0);
/// let model = Trainer::compile(
///     &dev,
///     dev.build_module::<Linear<2, 3>, f32>(),
///     SgdConfig::default(),
///     SparseCategoricalCrossentropy,
///     &[],
/// )?;
/// let x = InMemory::<Rank1<2>, NoLabels>::unlabeled(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// let predictions = model.predict(&x)?;
/// assert_eq!((predictions.len(), predictions.width), (3, 3));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLabels;

impl Target for NoLabels {
    type Item = ();
    type Batch<E: Dtype, D: Device<E>> = ();
    const WIDTH: usize = 0;
    fn validate(_: usize, _: &()) -> Result<()> {
        Ok(())
    }
    fn to_device<E: Dtype, D: Device<E>>(_: &D, _: &[()]) -> Result<()> {
        Ok(())
    }
    fn view(_: &[()]) -> Targets<'_> {
        Targets::Values(&[], 0)
    }
}
