//! Per-channel normalisation of images.

use super::moments::Moments;
use super::{Dataset, ImageShape, SampleTransform};
use crate::{Error, Result};
use std::marker::PhantomData;

/// Per-channel image normalisation: `x' = (x - mean_c) / std_c` for every pixel of channel `c`.
///
/// The statistics come from the training set ([`ChannelNorm::fit`]) or are given
/// ([`ChannelNorm::new`], e.g. the published CIFAR-10 values). They apply to the values the model
/// sees, so `u8` pixels are first scaled to `[0, 1]`. Wrap a data set in
/// [`Transformed`](super::Transformed) to normalise each batch as it is read: the images stay `u8`
/// in memory.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // one 2-channel 1x2 image: channel 0 = [0, 255], channel 1 = [51, 51]
/// let train = InMemory::<Rank3<2, 1, 2>, Classes<2>, u8>::new(vec![0, 255, 51, 51], vec![0])?;
/// let norm = ChannelNorm::fit(&train)?;
/// assert_eq!(norm.mean(), &[0.5, 0.2]);
/// let view = Transformed::new(&train, norm);
/// let mut x = [0.0; 4];
/// view.write_features(0, &mut x);
/// assert_eq!(x, [-1.0, 1.0, 0.0, 0.0]); // channel 1 is constant: centred only
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `torchvision.transforms.Normalize(mean, std)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelNorm<S: ImageShape> {
    mean: Vec<f32>,
    std: Vec<f32>,
    shape: PhantomData<S>,
}

impl<S: ImageShape> ChannelNorm<S> {
    /// Normalisation with given per-channel means and standard deviations.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if either slice does not hold one value per channel;
    /// [`Error::InvalidArgument`] if a value is not finite or a standard deviation is not
    /// positive.
    pub fn new(mean: &[f32], std: &[f32]) -> Result<Self> {
        if mean.len() != S::CHANNELS || std.len() != S::CHANNELS {
            let (what, found) = if mean.len() != S::CHANNELS {
                ("channel normalisation means (one per channel)", mean.len())
            } else {
                (
                    "channel normalisation standard deviations (one per channel)",
                    std.len(),
                )
            };
            return Err(Error::LengthMismatch {
                what: what.into(),
                expected: S::CHANNELS,
                found,
            });
        }
        if mean.iter().any(|m| !m.is_finite()) || std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(Error::InvalidArgument {
                what: "channel normalisation means and standard deviations",
                value: format!("{mean:?} and {std:?}"),
                expected: "finite, the standard deviations positive".into(),
            });
        }
        Ok(ChannelNorm {
            mean: mean.to_vec(),
            std: std.to_vec(),
            shape: PhantomData,
        })
    }

    /// Computes each channel's mean and (population) standard deviation over `train`.
    ///
    /// # Errors
    /// [`Error::Empty`] if `train` is empty.
    pub fn fit<Ds: Dataset<Sample = S>>(train: &Ds) -> Result<Self> {
        if train.is_empty() {
            return Err(Error::Empty {
                what: "data set",
                operation: "normalise",
            });
        }
        let plane = S::HEIGHT * S::WIDTH;
        let mut moments = Moments::new(S::CHANNELS);
        let mut x = vec![0.0f32; S::NUMEL];
        for i in 0..train.len() {
            train.write_features(i, &mut x);
            for (c, pixels) in x.chunks_exact(plane.max(1)).enumerate() {
                pixels.iter().for_each(|&v| moments.add(c, v as f64));
            }
        }
        let (mean, std) = moments.finish();
        Ok(ChannelNorm {
            mean,
            std,
            shape: PhantomData,
        })
    }

    /// Per-channel means.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-channel standard deviations (0 for a constant channel, which is then only centred).
    pub fn std(&self) -> &[f32] {
        &self.std
    }
}

impl<S: ImageShape> SampleTransform<S> for ChannelNorm<S> {
    fn apply(&self, sample: &mut [f32]) {
        let plane = (S::HEIGHT * S::WIDTH).max(1);
        for ((pixels, m), s) in sample
            .chunks_exact_mut(plane)
            .zip(&self.mean)
            .zip(&self.std)
        {
            let inv = if *s > 0.0 { 1.0 / s } else { 1.0 };
            pixels.iter_mut().for_each(|v| *v = (*v - m) * inv);
        }
    }
}
