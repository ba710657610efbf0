//! Samples of several inputs: the [`Inputs`] sample shape and [`Zip`], which pairs the samples
//! of two data sets.

use super::{Dataset, Target};
use crate::dims::{Packed, Packing};
use crate::{Error, Result};
use dfdx::shapes::ConstShape;
use rand::rngs::StdRng;

/// The sample shape of a model with several inputs: `Inputs<(Rank3<1, 28, 28>, Rank1<4>)>` is an
/// image and four numbers per sample, stored one after the other (784 + 4 values).
///
/// Such samples batch as one packed tensor `(batch, Packed<(A, B)>)`, which the model's first
/// layer, [`Unpack`](crate::nn::Unpack), splits into one batch per input.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // one sample: a 2×2 image, then 3 numbers
/// let data = InMemory::<Inputs<(Rank2<2, 2>, Rank1<3>)>, Classes<2>>::new(
///     vec![0.1, 0.2, 0.3, 0.4, 7.0, 8.0, 9.0],
///     vec![1],
/// )?;
/// let mut x = [0.0; 7];
/// data.write_features(0, &mut x);
/// assert_eq!(x[4..], [7.0, 8.0, 9.0]);
/// # Ok(()) }
/// ```
pub type Inputs<L> = (Packed<L>,);

/// The samples of two data sets side by side, as one data set of two inputs
/// ([`Inputs<(A, B)>`](Inputs)), with the first set's targets.
///
/// Both sets must have the same length; sample `i` of one goes with sample `i` of the other.
/// Augmentation of either set applies to its part.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let images = InMemory::<Rank2<2, 2>, Classes<2>>::new(vec![0.0; 8], vec![0, 1])?;
/// let extra = InMemory::<Rank1<1>, NoLabels>::unlabeled(vec![5.0, 6.0])?;
/// let both = Zip::new(&images, &extra)?;
/// let mut x = [0.0; 5];
/// both.write_features(1, &mut x);
/// assert_eq!((x, both.target(1)), ([0.0, 0.0, 0.0, 0.0, 6.0], 1));
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `model.fit([images, extra], y)`.
#[derive(Debug, Clone, Copy)]
pub struct Zip<A, B> {
    first: A,
    second: B,
}

impl<A: Dataset, B: Dataset> Zip<A, B> {
    /// Pairs sample `i` of `first` with sample `i` of `second` (borrowed sets work:
    /// `Zip::new(&a, &b)`).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the two sets differ in length.
    pub fn new(first: A, second: B) -> Result<Self> {
        if first.len() != second.len() {
            return Err(Error::LengthMismatch {
                what: "samples of the second input (Zip pairs sample i with sample i)".into(),
                expected: first.len(),
                found: second.len(),
            });
        }
        Ok(Zip { first, second })
    }
}

impl<A: Dataset, B: Dataset> Dataset for Zip<A, B>
where
    (A::Sample, B::Sample): Packing,
{
    type Sample = Inputs<(A::Sample, B::Sample)>;
    type Target = A::Target;
    fn len(&self) -> usize {
        self.first.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        let (a, b) = out.split_at_mut(<A::Sample as ConstShape>::NUMEL);
        self.first.write_features(index, a);
        self.second.write_features(index, b);
    }
    fn target(&self, index: usize) -> <Self::Target as Target>::Item {
        self.first.target(index)
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        let (a, b) = out.split_at_mut(<A::Sample as ConstShape>::NUMEL);
        self.first.write_train_features(index, a, rng);
        self.second.write_train_features(index, b, rng);
    }
}
