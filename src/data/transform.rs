//! Per-sample feature transforms: the [`SampleTransform`] trait, the lazy [`Transformed`] view,
//! and feature standardisation ([`Standardize`]).

use super::moments::Moments;
use super::{BatchShape, Dataset, InMemory, Target};
use crate::{Error, Result};
use rand::rngs::StdRng;
use std::marker::PhantomData;

/// A deterministic change to one sample's features (as the model sees them, in `f32`), such as
/// standardisation or per-channel normalisation.
pub trait SampleTransform<S: BatchShape>: Send + Sync {
    /// Transforms one sample in place (`S::NUMEL` values).
    fn apply(&self, sample: &mut [f32]);
}

/// A data set whose samples go through a [`SampleTransform`] each time they are read: nothing is
/// copied, so `u8` images stay `u8` in memory.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let train = InMemory::<Rank1<1>, Values<1>>::new(vec![1.0, 3.0], vec![[0.0], [1.0]])?;
/// let scaler = Standardize::fit(&train)?; // mean 2, std 1
/// let view = Transformed::new(&train, scaler);
/// let mut x = [0.0];
/// view.write_features(1, &mut x);
/// assert_eq!(x, [1.0]);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Transformed<Ds, F> {
    data: Ds,
    transform: F,
}

impl<Ds: Dataset, F: SampleTransform<Ds::Sample>> Transformed<Ds, F> {
    /// `data` seen through `transform`.
    pub fn new(data: Ds, transform: F) -> Self {
        Transformed { data, transform }
    }
}

impl<Ds: Dataset, F: SampleTransform<Ds::Sample>> Dataset for Transformed<Ds, F> {
    type Sample = Ds::Sample;
    type Target = Ds::Target;
    fn len(&self) -> usize {
        self.data.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        self.data.write_features(index, out);
        self.transform.apply(out);
    }
    fn target(&self, index: usize) -> <Ds::Target as Target>::Item {
        self.data.target(index)
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        self.data.write_train_features(index, out, rng);
        self.transform.apply(out);
    }
}

/// Feature standardisation: `x' = (x - mean) / std` per feature, with the mean and (population)
/// standard deviation computed on the training set and applied unchanged to every other set.
///
/// A constant feature (std 0) is only centred. Statistics are accumulated in `f64`.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let train = InMemory::<Rank1<2>, Classes<2>>::new(vec![0.0, 10.0, 2.0, 10.0], vec![0, 1])?;
/// let test = InMemory::<Rank1<2>, Classes<2>>::new(vec![4.0, 10.0], vec![1])?;
/// let scaler = Standardize::fit(&train)?;
/// assert_eq!(scaler.mean(), &[1.0, 10.0]);
/// assert_eq!(scaler.std(), &[1.0, 0.0]);
/// assert_eq!(scaler.transform(&test)?.features(), &[3.0, 0.0]);
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `layers.Normalization().adapt(x_train)`;
/// scikit-learn's `StandardScaler().fit(x_train).transform(x_test)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardize<S: BatchShape> {
    mean: Vec<f32>,
    std: Vec<f32>,
    shape: PhantomData<S>,
}

impl<S: BatchShape> Standardize<S> {
    /// Computes each feature's mean and standard deviation over `train`.
    ///
    /// # Errors
    /// [`Error::Empty`] if `train` is empty.
    pub fn fit<Ds: Dataset<Sample = S>>(train: &Ds) -> Result<Self> {
        if train.is_empty() {
            return Err(Error::Empty {
                what: "data set",
                operation: "standardise",
            });
        }
        let mut moments = Moments::new(S::NUMEL);
        let mut x = vec![0.0f32; S::NUMEL];
        for i in 0..train.len() {
            train.write_features(i, &mut x);
            x.iter()
                .enumerate()
                .for_each(|(f, &v)| moments.add(f, v as f64));
        }
        let (mean, std) = moments.finish();
        Ok(Standardize {
            mean,
            std,
            shape: PhantomData,
        })
    }

    /// Per-feature means.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-feature standard deviations (0 for a constant feature).
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// A standardised `f32` copy of `data` (use [`Transformed`] to standardise lazily instead).
    ///
    /// # Errors
    /// As [`InMemory::new`] (an invalid target of `data`).
    pub fn transform<Ds: Dataset<Sample = S>>(
        &self,
        data: &Ds,
    ) -> Result<InMemory<S, Ds::Target, f32>> {
        let mut features = vec![0.0f32; data.len() * S::NUMEL];
        for (i, row) in features.chunks_exact_mut(S::NUMEL.max(1)).enumerate() {
            data.write_features(i, row);
            self.apply(row);
        }
        let targets = (0..data.len()).map(|i| data.target(i)).collect();
        InMemory::new(features, targets)
    }
}

impl<S: BatchShape> SampleTransform<S> for Standardize<S> {
    fn apply(&self, sample: &mut [f32]) {
        for ((v, m), s) in sample.iter_mut().zip(&self.mean).zip(&self.std) {
            *v -= m;
            if *s > 0.0 {
                *v /= s;
            }
        }
    }
}
