//! A view of some samples of another data set, by index.

use super::{Dataset, Target};

/// The samples of `data` at `indices`, without copying them.
#[derive(Debug, Clone)]
pub struct Subset<'a, Ds: Dataset> {
    data: &'a Ds,
    indices: Vec<usize>,
}

impl<'a, Ds: Dataset> Subset<'a, Ds> {
    /// A view of `data` at `indices`; indices outside `0..data.len()` are dropped.
    pub fn new(data: &'a Ds, mut indices: Vec<usize>) -> Self {
        indices.retain(|&i| i < data.len());
        Subset { data, indices }
    }
}

impl<Ds: Dataset> Dataset for Subset<'_, Ds> {
    type Sample = Ds::Sample;
    type Target = Ds::Target;
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        self.data.write_features(self.indices[index], out);
    }
    fn target(&self, index: usize) -> <Ds::Target as Target>::Item {
        self.data.target(self.indices[index])
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut rand::rngs::StdRng) {
        self.data
            .write_train_features(self.indices[index], out, rng);
    }
}
