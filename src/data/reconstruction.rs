//! A data set whose targets are its own features: what an autoencoder trains on (Keras's
//! `model.fit(x, x)`).

use super::{Dataset, SampleValues, Target};
use rand::rngs::StdRng;

/// `data` with every sample's features as its target: a model trained on it learns to reproduce
/// its input (an autoencoder), with a value loss such as `MeanSquaredError` comparing its output,
/// shaped like the input, to the input.
///
/// The target is always the sample as stored (`write_features`); when `data` augments its
/// samples for training ([`Augmented`](super::Augmented)), the model sees the augmented sample
/// and learns to restore the original one (a denoising autoencoder).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let images = InMemory::<Rank3<1, 2, 2>, NoLabels>::unlabeled(vec![0.0, 0.5, 1.0, 0.25])?;
/// let pairs = Reconstruction::of(&images);
/// assert_eq!(pairs.target(0), [[[0.0, 0.5], [1.0, 0.25]]]);
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `model.fit(x, x)`.
#[derive(Debug, Clone, Copy)]
pub struct Reconstruction<Ds> {
    data: Ds,
}

impl<Ds: Dataset> Reconstruction<Ds>
where
    Ds::Sample: SampleValues,
{
    /// The samples of `data` (a borrowed set works: `Reconstruction::of(&data)`), each its own
    /// target; `data`'s labels are not used.
    pub fn of(data: Ds) -> Self {
        Reconstruction { data }
    }
}

impl<Ds: Dataset> Dataset for Reconstruction<Ds>
where
    Ds::Sample: SampleValues,
{
    type Sample = Ds::Sample;
    type Target = <Ds::Sample as SampleValues>::Target;
    fn len(&self) -> usize {
        self.data.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        self.data.write_features(index, out);
    }
    fn target(&self, index: usize) -> <Self::Target as Target>::Item {
        let mut features = vec![0.0; <Ds::Sample as dfdx::shapes::ConstShape>::NUMEL];
        self.data.write_features(index, &mut features);
        <Ds::Sample as SampleValues>::item(&features)
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        self.data.write_train_features(index, out, rng);
    }
}
