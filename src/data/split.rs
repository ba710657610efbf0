//! Seeded train / held-out splits of an in-memory data set, plain or stratified.

use super::{BatchShape, Classes, Feature, InMemory, Target};
use crate::{Error, Result};
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

/// `held_out × n`, rounded, after checking the fraction is in `(0, 1)`.
fn held_out_count(fraction: f64, n: usize) -> Result<usize> {
    if fraction > 0.0 && fraction < 1.0 {
        Ok((n as f64 * fraction).round() as usize)
    } else {
        Err(Error::InvalidArgument {
            what: "held-out fraction",
            value: fraction.to_string(),
            expected: "in (0, 1)".into(),
        })
    }
}

/// Indices `0..n` split into `(train, held_out)` after a shuffle seeded by `seed`: `held_out`
/// gets `round(fraction × n)` of them; both parts in increasing order. The rule of
/// [`InMemory::split`] and of `FitConfig::validation_split`.
pub(crate) fn split_indices(
    n: usize,
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let k = held_out_count(fraction, n)?;
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut StdRng::seed_from_u64(seed));
    let (mut held, mut train) = (idx[..k].to_vec(), idx[k..].to_vec());
    held.sort_unstable();
    train.sort_unstable();
    Ok((train, held))
}

impl<S: BatchShape, T: Target, P: Feature> InMemory<S, T, P> {
    /// Splits into `(train, held_out)` after a shuffle seeded by `seed`: `held_out` gets
    /// `round(fraction × len)` samples, `train` the rest. Both keep the original order of their
    /// samples.
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// # fn main() -> typenet::Result<()> {
    /// let data = InMemory::<Rank1<1>, Values<1>>::new((0..10).map(|i| i as f32).collect(), vec![[0.0]; 10])?;
    /// let (train, test) = data.split(0.2, 42)?;
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// assert_eq!(data.split(0.2, 42)?.1.features(), test.features()); // same seed, same split
    /// # Ok(()) }
    /// ```
    ///
    /// **Keras equivalent**: scikit-learn's `train_test_split(x, y, test_size=fraction, random_state=seed)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `fraction` is not in `(0, 1)`.
    pub fn split(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        let (train, held) = split_indices(self.targets().len(), fraction, seed)?;
        Ok((self.select(&train)?, self.select(&held)?))
    }
}

impl<S: BatchShape, const N: usize, P: Feature> InMemory<S, Classes<N>, P> {
    /// [`InMemory::split`] class by class: each class gives `round(fraction × its count)` samples
    /// to `held_out`, so both parts keep the class proportions of the whole.
    ///
    /// # Example
    /// ```
    /// # use typenet::prelude::*;
    /// # fn main() -> typenet::Result<()> {
    /// // 8 samples of class 0, 2 of class 1
    /// let labels = vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 1];
    /// let data = InMemory::<Rank1<1>, Classes<2>>::new(vec![0.0; 10], labels)?;
    /// let (train, test) = data.split_stratified(0.5, 7)?;
    /// assert_eq!(test.class_counts(), [4, 1]);
    /// assert_eq!(train.class_counts(), [4, 1]);
    /// # Ok(()) }
    /// ```
    ///
    /// **Keras equivalent**: scikit-learn's `train_test_split(…, stratify=y)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `fraction` is not in `(0, 1)`.
    pub fn split_stratified(&self, fraction: f64, seed: u64) -> Result<(Self, Self)> {
        held_out_count(fraction, self.targets().len())?;
        let mut rng = StdRng::seed_from_u64(seed);
        let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); N];
        for (i, &c) in self.targets().iter().enumerate() {
            if let Some(list) = by_class.get_mut(c) {
                list.push(i);
            }
        }
        let (mut held, mut train) = (Vec::new(), Vec::new());
        for mut list in by_class {
            list.shuffle(&mut rng);
            let n = held_out_count(fraction, list.len())?;
            held.extend_from_slice(&list[..n]);
            train.extend_from_slice(&list[n..]);
        }
        held.sort_unstable();
        train.sort_unstable();
        Ok((self.select(&train)?, self.select(&held)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::shapes::Rank1;

    #[test]
    fn a_fraction_outside_the_open_interval_is_an_invalid_argument() {
        let data = InMemory::<Rank1<1>, Classes<2>>::new(vec![0.0; 4], vec![0, 1, 0, 1]).unwrap();
        let err = data.split(1.0, 0).unwrap_err();
        match &err {
            Error::InvalidArgument {
                what,
                value,
                expected,
            } => assert_eq!(
                (*what, &**value, &**expected),
                ("held-out fraction", "1", "in (0, 1)")
            ),
            other => panic!("{other:?}"),
        }
        assert_eq!(err.to_string(), "held-out fraction 1 must be in (0, 1)");
    }
}
