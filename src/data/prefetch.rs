//! Background prefetch: the next batch is gathered on another thread while the current one is
//! being used.

use super::{Dataset, Target};
use rand::rngs::StdRng;
use std::sync::mpsc::sync_channel;

/// One batch gathered on the host: `features` row-major (`Sample::NUMEL` per sample) and one
/// target per sample, in the order of the indices it was gathered from.
#[derive(Debug, Clone)]
pub struct HostBatch<T: Target> {
    /// Row-major features.
    pub features: Vec<f32>,
    /// One label per sample.
    pub targets: Vec<T::Item>,
}

impl<T: Target> PartialEq for HostBatch<T> {
    fn eq(&self, other: &Self) -> bool {
        self.features == other.features && self.targets == other.targets
    }
}

/// Gathers samples `indices` of `data`; with `train_rng` through
/// [`Dataset::write_train_features`] (augmenting if the set does).
pub fn gather_host<Ds: Dataset>(
    data: &Ds,
    indices: &[usize],
    mut train_rng: Option<&mut StdRng>,
) -> HostBatch<Ds::Target> {
    let numel = <Ds::Sample as dfdx::shapes::ConstShape>::NUMEL;
    let mut features = vec![0.0f32; indices.len() * numel];
    for (row, &i) in features.chunks_exact_mut(numel.max(1)).zip(indices) {
        match train_rng.as_deref_mut() {
            Some(rng) => data.write_train_features(i, row, rng),
            None => data.write_features(i, row),
        }
    }
    let targets = indices.iter().map(|&i| data.target(i)).collect();
    HostBatch { features, targets }
}

/// Runs `consume` on the batches of `order` (chunks of `batch_size`) while a scoped worker thread
/// gathers them one batch ahead, so reading and augmenting batch `k + 1` overlaps the work done
/// on batch `k`.
///
/// The batches arrive in order, and `train_rng` is used by the worker in that same order, so the
/// result is identical to gathering on the calling thread. When `consume` returns early (say on
/// an error), the worker stops at its next batch. A `batch_size` of 0 yields no batch.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # use typenet::data::prefetch;
/// # fn main() -> typenet::Result<()> {
/// let data = InMemory::<Rank1<1>, Classes<2>>::new(vec![0.0, 1.0, 2.0, 3.0, 4.0], vec![0, 1, 0, 1, 0])?;
/// let sums: Vec<f32> = prefetch(&data, &[4, 3, 2, 1, 0], 2, None, |batches| {
///     batches.map(|b| b.features.iter().sum()).collect()
/// });
/// assert_eq!(sums, vec![7.0, 3.0, 0.0]);
/// # Ok(()) }
/// ```
pub fn prefetch<Ds: Dataset, R>(
    data: &Ds,
    order: &[usize],
    batch_size: usize,
    train_rng: Option<&mut StdRng>,
    consume: impl FnOnce(&mut dyn Iterator<Item = HostBatch<Ds::Target>>) -> R,
) -> R {
    if batch_size == 0 {
        return consume(&mut std::iter::empty());
    }
    // capacity 1: one batch waits while the consumer works on the previous one
    let (tx, rx) = sync_channel(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut rng = train_rng;
            for chunk in order.chunks(batch_size) {
                if tx
                    .send(gather_host(data, chunk, rng.as_deref_mut()))
                    .is_err()
                {
                    break; // the consumer is done
                }
            }
        });
        consume(&mut rx.into_iter())
    })
}

/// The one batching path of the trainer (`fit`, `evaluate`, `predict`): runs `consume` on the
/// host batches of `order`, read ahead on a second thread when `read_ahead` is set and there is
/// more than one batch (a second thread only pays when there is a next batch to read during a
/// step), on the calling thread otherwise. The batches are the same either way.
pub(crate) fn for_each_batch<Ds: Dataset, R>(
    data: &Ds,
    order: &[usize],
    batch_size: usize,
    mut train_rng: Option<&mut StdRng>,
    read_ahead: bool,
    consume: impl FnOnce(&mut dyn Iterator<Item = HostBatch<Ds::Target>>) -> R,
) -> R {
    if read_ahead && order.len() > batch_size {
        prefetch(data, order, batch_size, train_rng, consume)
    } else {
        let mut inline = order
            .chunks(batch_size.max(1))
            .map(|chunk| gather_host(data, chunk, train_rng.as_deref_mut()));
        consume(&mut inline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Augmented, HorizontalFlip, InMemory, Values};
    use dfdx::prelude::*;
    use rand::SeedableRng;

    #[test]
    fn prefetched_batches_equal_batches_gathered_inline_with_the_same_generator() {
        let features: Vec<u8> = (0..8 * 4).map(|v| v as u8).collect();
        let imgs =
            InMemory::<Rank3<1, 2, 2>, Values<1>, u8>::new(features, vec![[0.0]; 8]).unwrap();
        let aug = Augmented::new(&imgs, HorizontalFlip::default());
        let order = [7, 1, 3, 0, 2, 6, 5, 4];
        let mut rng = StdRng::seed_from_u64(9);
        let inline: Vec<_> = order
            .chunks(3)
            .map(|c| gather_host(&aug, c, Some(&mut rng)))
            .collect();
        let mut rng = StdRng::seed_from_u64(9);
        let ahead: Vec<_> = prefetch(&aug, &order, 3, Some(&mut rng), |b| b.collect());
        assert_eq!(inline, ahead);
    }

    #[test]
    fn stopping_early_ends_the_worker() {
        let data = InMemory::<Rank1<1>, Values<1>>::new(vec![0.0; 100], vec![[0.0]; 100]).unwrap();
        let order: Vec<usize> = (0..100).collect();
        let first = prefetch(&data, &order, 1, None, |b| {
            b.next().map(|b| b.targets.len())
        });
        assert_eq!(first, Some(1));
    }
}
