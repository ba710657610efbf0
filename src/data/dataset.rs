//! The data set abstraction the trainer consumes, and an in-memory implementation.

use super::{BatchShape, Classes, Target};
use crate::{Error, Result};
use rand::rngs::StdRng;
use std::marker::PhantomData;

/// A finite, indexable set of samples of compile-time shape [`Dataset::Sample`] with labels of
/// kind [`Dataset::Target`].
///
/// The trainer reads batches through this trait, so the compiler pairs the sample shape with the
/// model's input and the target with the model's output and the loss.
pub trait Dataset: Send + Sync {
    /// Shape of one sample, e.g. `Rank1<784>` or `Rank3<1, 28, 28>`.
    type Sample: BatchShape;
    /// What a label is, e.g. [`Classes<10>`].
    type Target: Target;
    /// Number of samples.
    fn len(&self) -> usize;
    /// Whether the set holds no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Writes sample `index`'s features, as `f32`, into `out` (`Sample::NUMEL` values).
    ///
    /// Callers pass `index < len()` and a slice of exactly `Sample::NUMEL` values.
    fn write_features(&self, index: usize, out: &mut [f32]);
    /// The label of sample `index` (`index < len()`).
    fn target(&self, index: usize) -> <Self::Target as Target>::Item;
    /// Writes sample `index`'s features for a training step.
    ///
    /// The trainer calls this (and [`Dataset::write_features`] everywhere else: evaluation,
    /// prediction, validation). It is `write_features` unless the set augments its samples, as
    /// [`Augmented`](super::Augmented) does, drawing the random transformation from `rng`
    /// (seeded by the trainer from `FitConfig::seed`).
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        let _ = rng;
        self.write_features(index, out);
    }
}

/// A borrowed data set is a data set, so wrappers such as [`Augmented`](super::Augmented) and
/// [`Transformed`](super::Transformed) can hold `&InMemory` without copying it.
impl<Ds: Dataset + ?Sized> Dataset for &Ds {
    type Sample = Ds::Sample;
    type Target = Ds::Target;
    fn len(&self) -> usize {
        (**self).len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        (**self).write_features(index, out);
    }
    fn target(&self, index: usize) -> <Self::Target as Target>::Item {
        (**self).target(index)
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        (**self).write_train_features(index, out, rng);
    }
}

/// A feature element stored in memory and how it becomes an `f32`.
pub trait Feature: Copy + Send + Sync + 'static {
    /// The value the model sees.
    fn to_f32(self) -> f32;
}

/// Image bytes are kept as `u8` (a quarter of the memory of `f32`) and scaled to `[0, 1]` per batch.
impl Feature for u8 {
    #[inline]
    fn to_f32(self) -> f32 {
        // division is correctly rounded, so k / 255 is the f32 nearest the true ratio; the
        // rounded reciprocal is not (51 * (1 / 255) = 0.20000002)
        self as f32 / 255.0
    }
}

impl Feature for f32 {
    #[inline]
    fn to_f32(self) -> f32 {
        self
    }
}

/// An in-memory data set: `len × S::NUMEL` features of type `P` and one label per sample.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // two 3-feature samples stored as bytes (scaled to [0, 1] when batched), two classes
/// let data = InMemory::<Rank1<3>, Classes<2>, u8>::new(vec![0, 255, 51, 255, 0, 0], vec![1, 0])?;
/// let mut x = [0.0; 3];
/// data.write_features(0, &mut x);
/// assert_eq!(x, [0.0, 1.0, 0.2]);
/// assert_eq!(data.target(1), 0);
/// # Ok(()) }
/// ```
pub struct InMemory<S: BatchShape, T: Target, P: Feature = f32> {
    features: Vec<P>,
    targets: Vec<T::Item>,
    shape: PhantomData<S>,
}

impl<S: BatchShape, T: Target, P: Feature> Clone for InMemory<S, T, P> {
    fn clone(&self) -> Self {
        Self {
            features: self.features.clone(),
            targets: self.targets.clone(),
            shape: PhantomData,
        }
    }
}

impl<S: BatchShape, T: Target, P: Feature> std::fmt::Debug for InMemory<S, T, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemory")
            .field("len", &self.targets.len())
            .field("sample", &std::any::type_name::<S>())
            .field("target", &std::any::type_name::<T>())
            .finish()
    }
}

impl<S: BatchShape, T: Target, P: Feature> InMemory<S, T, P> {
    /// A data set from row-major features (`S::NUMEL` per sample) and one target per sample.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if the lengths disagree; [`Error::ClassOutOfRange`] or
    /// [`Error::NonFiniteTarget`] naming the first target that is invalid for `T` (a class index
    /// outside `0..N`, a value that is not finite).
    pub fn new(features: Vec<P>, targets: Vec<T::Item>) -> Result<Self> {
        if features.len() != targets.len() * S::NUMEL {
            return Err(Error::LengthMismatch {
                what: format!(
                    "features for {} samples of {} values each",
                    targets.len(),
                    S::NUMEL
                ),
                expected: targets.len() * S::NUMEL,
                found: features.len(),
            });
        }
        for (i, t) in targets.iter().enumerate() {
            T::validate(i, t)?;
        }
        Ok(Self {
            features,
            targets,
            shape: PhantomData,
        })
    }

    /// A set of features only, `NUMEL` values per sample (for [`Trainer::predict`](crate::train::Trainer::predict)).
    ///
    /// # Errors
    /// As [`InMemory::new`], when the length is not a whole number of samples.
    pub fn unlabeled(features: Vec<P>) -> Result<Self>
    where
        T: Target<Item = ()>,
    {
        let n = features.len() / S::NUMEL.max(1);
        Self::new(features, vec![(); n])
    }

    /// The samples at `indices`, in that order (indices must be `< len()`).
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for the first index that is out of range.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let mut features = Vec::with_capacity(indices.len() * S::NUMEL);
        let mut targets = Vec::with_capacity(indices.len());
        for &i in indices {
            if i >= self.targets.len() {
                return Err(Error::IndexOutOfRange {
                    index: i,
                    len: self.targets.len(),
                });
            }
            features.extend_from_slice(&self.features[i * S::NUMEL..(i + 1) * S::NUMEL]);
            targets.push(self.targets[i]);
        }
        Ok(Self {
            features,
            targets,
            shape: PhantomData,
        })
    }

    /// The first `n` samples (or all of them if there are fewer).
    pub fn take(&self, n: usize) -> Self {
        let n = n.min(self.targets.len());
        Self {
            features: self.features[..n * S::NUMEL].to_vec(),
            targets: self.targets[..n].to_vec(),
            shape: PhantomData,
        }
    }

    /// All targets, in order.
    pub fn targets(&self) -> &[T::Item] {
        &self.targets
    }

    /// All features, row-major, as stored.
    pub fn features(&self) -> &[P] {
        &self.features
    }
}

impl<S: BatchShape, const N: usize, P: Feature> InMemory<S, Classes<N>, P> {
    /// How many samples each class has.
    pub fn class_counts(&self) -> [usize; N] {
        let mut counts = [0; N];
        for &t in &self.targets {
            counts[t] += 1;
        }
        counts
    }
}

impl<S: BatchShape, T: Target, P: Feature> Dataset for InMemory<S, T, P> {
    type Sample = S;
    type Target = T;
    fn len(&self) -> usize {
        self.targets.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        let src = &self.features[index * S::NUMEL..(index + 1) * S::NUMEL];
        for (o, &v) in out.iter_mut().zip(src) {
            *o = v.to_f32();
        }
    }
    fn target(&self, index: usize) -> T::Item {
        self.targets[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Values;
    use dfdx::shapes::Rank1;

    #[test]
    fn features_of_the_wrong_length_are_a_length_mismatch() {
        // 3 samples of 2 values need 3 × 2 = 6 features; 5 are given
        let err = InMemory::<Rank1<2>, Classes<3>>::new(vec![0.0; 5], vec![0, 1, 2]).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::LengthMismatch {
                    expected: 6,
                    found: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "features for 3 samples of 2 values each: expected 6, found 5"
        );
    }

    #[test]
    fn a_class_outside_the_classes_names_its_sample() {
        let err = InMemory::<Rank1<1>, Classes<3>>::new(vec![0.0; 3], vec![0, 3, 1]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::ClassOutOfRange {
                    sample: Some(1),
                    class: 3,
                    classes: 3
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "target of sample 1: class 3 is outside 0..3"
        );
    }

    #[test]
    fn a_target_that_is_not_finite_names_its_sample_and_position() {
        let err = InMemory::<Rank1<1>, Values<2>>::new(
            vec![0.0; 2],
            vec![[0.0, 1.0], [2.0, f32::INFINITY]],
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFiniteTarget {
                    sample: 1,
                    position: 1,
                    value
                } if value == f32::INFINITY
            ),
            "{err:?}"
        );
    }

    #[test]
    fn selecting_past_the_end_is_an_index_error() {
        let data = InMemory::<Rank1<1>, Classes<2>>::new(vec![0.0; 3], vec![0, 1, 0]).unwrap();
        let err = data.select(&[0, 3]).unwrap_err();
        assert!(
            matches!(err, Error::IndexOutOfRange { index: 3, len: 3 }),
            "{err:?}"
        );
    }
}
