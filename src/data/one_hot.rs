//! One-hot encoding of class labels.

use super::{BatchShape, Classes, Feature, InMemory};
use crate::Result;

/// The same samples with each class index `c` replaced by a one-hot row (`1` at `c`, `0`
/// elsewhere), for losses that take target distributions such as
/// [`CategoricalCrossentropy`](crate::losses::CategoricalCrossentropy).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let data = InMemory::<Rank1<1>, Classes<3>>::new(vec![0.5, 0.7], vec![2, 0])?;
/// let hot = one_hot(&data)?;
/// assert_eq!(hot.targets(), &[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `keras.utils.to_categorical(y, N)`.
///
/// # Errors
/// None in practice: the labels were validated when `data` was built.
pub fn one_hot<S: BatchShape, const N: usize, P: Feature>(
    data: &InMemory<S, Classes<N>, P>,
) -> Result<InMemory<S, super::Values<N>, P>> {
    let targets = data
        .targets()
        .iter()
        .map(|&c| {
            let mut row = [0.0f32; N];
            if let Some(v) = row.get_mut(c) {
                *v = 1.0;
            }
            row
        })
        .collect();
    InMemory::new(data.features().to_vec(), targets)
}
