//! Seeded image augmentation applied while training batches are gathered.

use super::{Dataset, ImageShape, Target};
use rand::{rngs::StdRng, Rng};
use std::marker::PhantomData;

/// A random change to one training image, drawn from the trainer's seeded generator.
///
/// Tuples `(A, B)` and `(A, B, C)` of augmentations apply each in turn.
pub trait Augmentation<S: ImageShape>: Send + Sync {
    /// Transforms one `C × H × W` sample in place.
    fn augment(&self, sample: &mut [f32], rng: &mut StdRng);
}

/// Pads the image with `padding` zeros on every side, then crops a random `H × W` window (the
/// standard CIFAR augmentation with `padding: 4`).
///
/// **PyTorch equivalent**: `transforms.RandomCrop(32, padding=4)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomCrop {
    /// Zeros added on each side before cropping. Default `4`.
    pub padding: usize,
}

impl Default for RandomCrop {
    fn default() -> Self {
        RandomCrop { padding: 4 }
    }
}

impl<S: ImageShape> Augmentation<S> for RandomCrop {
    fn augment(&self, sample: &mut [f32], rng: &mut StdRng) {
        let (h, w, p) = (S::HEIGHT, S::WIDTH, self.padding);
        // the window's top-left corner in padded coordinates; (p, p) is the identity
        let dy = rng.gen_range(0..=2 * p) as isize - p as isize;
        let dx = rng.gen_range(0..=2 * p) as isize - p as isize;
        if dy == 0 && dx == 0 {
            return;
        }
        let src = sample.to_vec();
        for (plane_out, plane_in) in sample.chunks_exact_mut(h * w).zip(src.chunks_exact(h * w)) {
            for y in 0..h {
                for x in 0..w {
                    let (sy, sx) = (y as isize + dy, x as isize + dx);
                    let inside = (0..h as isize).contains(&sy) && (0..w as isize).contains(&sx);
                    plane_out[y * w + x] = if inside {
                        plane_in[sy as usize * w + sx as usize]
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// Mirrors the image left-right with probability `probability`.
///
/// **PyTorch equivalent**: `transforms.RandomHorizontalFlip(p)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HorizontalFlip {
    /// Chance of a flip. Default `0.5`.
    pub probability: f64,
}

impl Default for HorizontalFlip {
    fn default() -> Self {
        HorizontalFlip { probability: 0.5 }
    }
}

impl<S: ImageShape> Augmentation<S> for HorizontalFlip {
    fn augment(&self, sample: &mut [f32], rng: &mut StdRng) {
        if rng.gen_bool(self.probability.clamp(0.0, 1.0)) {
            sample
                .chunks_exact_mut(S::WIDTH.max(1))
                .for_each(|row| row.reverse());
        }
    }
}

impl<S: ImageShape, A: Augmentation<S>, B: Augmentation<S>> Augmentation<S> for (A, B) {
    fn augment(&self, sample: &mut [f32], rng: &mut StdRng) {
        self.0.augment(sample, rng);
        self.1.augment(sample, rng);
    }
}

impl<S: ImageShape, A: Augmentation<S>, B: Augmentation<S>, C: Augmentation<S>> Augmentation<S>
    for (A, B, C)
{
    fn augment(&self, sample: &mut [f32], rng: &mut StdRng) {
        self.0.augment(sample, rng);
        self.1.augment(sample, rng);
        self.2.augment(sample, rng);
    }
}

/// A training set whose images are augmented each time the trainer gathers them into a batch.
///
/// Only [`Dataset::write_train_features`] (what `fit` reads) augments; `evaluate`, `predict` and
/// the validation split of `fit` read the images unchanged. The randomness comes from a
/// generator the trainer seeds from `FitConfig::seed`, so a run is reproducible.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let images = InMemory::<Rank3<1, 2, 2>, Classes<2>, u8>::new(vec![0, 255, 0, 255], vec![1])?;
/// let train = Augmented::new(&images, HorizontalFlip { probability: 1.0 });
/// let (mut plain, mut flipped) = ([0.0; 4], [0.0; 4]);
/// train.write_features(0, &mut plain);
/// train.write_train_features(0, &mut flipped, &mut rand::rngs::StdRng::seed_from_u64(0));
/// assert_eq!((plain, flipped), ([0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 1.0, 0.0]));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Augmented<Ds, A> {
    data: Ds,
    augmentation: A,
    shape: PhantomData<fn() -> Ds>,
}

impl<Ds: Dataset, A: Augmentation<Ds::Sample>> Augmented<Ds, A>
where
    Ds::Sample: ImageShape,
{
    /// `data`, augmented by `augmentation` during training.
    pub fn new(data: Ds, augmentation: A) -> Self {
        Augmented {
            data,
            augmentation,
            shape: PhantomData,
        }
    }
}

impl<Ds: Dataset, A: Augmentation<Ds::Sample>> Dataset for Augmented<Ds, A>
where
    Ds::Sample: ImageShape,
{
    type Sample = Ds::Sample;
    type Target = Ds::Target;
    fn len(&self) -> usize {
        self.data.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        self.data.write_features(index, out);
    }
    fn target(&self, index: usize) -> <Ds::Target as Target>::Item {
        self.data.target(index)
    }
    fn write_train_features(&self, index: usize, out: &mut [f32], rng: &mut StdRng) {
        self.data.write_train_features(index, out, rng);
        self.augmentation.augment(out, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn crop_shifts_content_and_fills_with_zeros() {
        // 1x3x3 image 1..=9; over many draws every output is a shifted copy with zero fill
        let img: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut rng = StdRng::seed_from_u64(3);
        let mut saw_shift = false;
        for _ in 0..50 {
            let mut x = img.clone();
            Augmentation::<Rank3<1, 3, 3>>::augment(&RandomCrop { padding: 1 }, &mut x, &mut rng);
            saw_shift |= x != img;
            let kept: usize = x.iter().filter(|&&v| v != 0.0).count();
            assert!(kept == 9 || kept == 6 || kept == 4, "{x:?}");
        }
        assert!(saw_shift);
    }
}
