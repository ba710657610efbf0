//! Data-parallel training across processes: each of N ranks trains on its own shard of every
//! epoch and the ranks sum their gradients in a fixed order before every optimizer step, so the
//! weights are bit-identical to one process that accumulates the same micro-batches.
//!
//! [`Fit::distributed`](crate::train::Fit::distributed) takes any [`Communicator`]; with the
//! `mpi` feature, `Mpi` is one over MPI (`mpirun -np N program …`).
//!
//! # The step, and why it is bit-identical to one process
//! With `batch_size` b, [`accumulation_steps`](crate::train::FitConfig::accumulation_steps) k
//! and N ranks, one optimizer step takes the next N·k·b samples of the epoch's (seeded) order.
//! Rank r takes the r-th run of k·b of them ([`epoch_shard`]) and reads them as k micro-batches
//! of b. For each micro-batch j with n_j samples (of the step's n) it computes the gradient g_j
//! of the micro-batch's mean loss and adds w_j·g_j, with w_j = n_j / n, to its local sum (the
//! first one is copied, the next added, in order). The ranks then exchange their sums in one
//! fused all-gather (with each micro-batch's loss, outputs and labels, for a global History),
//! and every rank adds them up in rank order, starting from the first rank with samples:
//!
//! ```text
//! G = (…((w_0·g_0 + w_1·g_1) + w_2·g_2) + …)     every rank, the same additions in the same order
//! ```
//!
//! Since Σ_j w_j·g_j = Σ_j (n_j/n)·(1/n_j)·Σ_{i∈j} ∇ℓ_i = (1/n)·Σ_i ∇ℓ_i, G is the gradient of
//! the step's mean loss over all n samples: one batch of n = N·k·b equals N ranks × k
//! micro-batches of b up to float rounding. The rounding is the same (bit-identical weights) when
//! the additions are: N ranks with k = 1 perform exactly the additions of one process with
//! k = N micro-batches of the same b (each micro-batch's gradient is computed alone, from the
//! same weights, by the same code; one rayon thread per process keeps the kernels' own
//! summation order fixed too). N ranks with k > 1 each group their k first, which one process
//! does not do: those agree with one process to rounding only.
//!
//! MPI's own `MPI_Allreduce` is not used for the sum: the standard does not promise an order
//! (Open MPI picks an algorithm by message size and rank count), so its result may change with
//! either. Gathering every rank's sum costs (N−1)·P values received per rank against the ring
//! all-reduce's 2·(N−1)/N·P; docs/distributed.md models both.
//!
//! Augmentation draws from a generator per rank (seeded by the seed, the epoch and the rank), so
//! augmented runs are reproducible for a given N but differ from one process.

#[cfg(feature = "mpi")]
mod mpi;

#[cfg(feature = "mpi")]
pub use self::mpi::Mpi;

use crate::{Error, Result};

/// The collective that data-parallel `fit` needs from a transport: every rank's buffer, in rank
/// order, on every rank. Implemented by `Mpi` (feature `mpi`) and by [`Single`] (one rank).
pub trait Communicator {
    /// This process's rank, `0..size()`.
    fn rank(&self) -> usize;
    /// Number of ranks.
    fn size(&self) -> usize;
    /// Writes every rank's `local` (all of the same length) into `all`, rank 0's first.
    ///
    /// # Errors
    /// [`Error::Distributed`] when the transport fails or `all` is not `size()·local.len()` long.
    fn all_gather_f32(&self, local: &[f32], all: &mut [f32]) -> Result<()>;
    /// [`Communicator::all_gather_f32`] for `f64` buffers.
    ///
    /// # Errors
    /// As [`Communicator::all_gather_f32`].
    fn all_gather_f64(&self, local: &[f64], all: &mut [f64]) -> Result<()>;
    /// Whether this rank writes files and prints (rank 0).
    fn is_root(&self) -> bool {
        self.rank() == 0
    }
}

/// One process alone: the gather is a copy. `fit` with `Single` is `fit` without a communicator.
///
/// # Example
/// ```
/// # use typenet::distributed::{Communicator, Single};
/// let mut all = [0.0f32; 2];
/// Single.all_gather_f32(&[1.0, 2.0], &mut all).unwrap();
/// assert_eq!(all, [1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Single;

fn copy_all<T: Copy>(local: &[T], all: &mut [T]) -> Result<()> {
    if all.len() != local.len() {
        return Err(Error::Distributed {
            rank: 0,
            reason: format!(
                "all-gather of {} values into a buffer of {}",
                local.len(),
                all.len()
            ),
        });
    }
    all.copy_from_slice(local);
    Ok(())
}

impl Communicator for Single {
    fn rank(&self) -> usize {
        0
    }
    fn size(&self) -> usize {
        1
    }
    fn all_gather_f32(&self, local: &[f32], all: &mut [f32]) -> Result<()> {
        copy_all(local, all)
    }
    fn all_gather_f64(&self, local: &[f64], all: &mut [f64]) -> Result<()> {
        copy_all(local, all)
    }
}

/// Rank `rank`'s share of an epoch's `order` when each optimizer step takes `ranks · run`
/// samples: the r-th run of `run` samples of every step, in order. The shards of the ranks are
/// disjoint and together hold every sample of `order` once; the last step's runs may be shorter
/// or empty.
///
/// # Example
/// ```
/// # use typenet::distributed::epoch_shard;
/// let order = [9, 8, 7, 6, 5, 4, 3];
/// // steps of 2 ranks × 2 samples: [9 8 | 7 6] [5 4 | 3]
/// assert_eq!(epoch_shard(&order, 0, 2, 2), vec![9, 8, 5, 4]);
/// assert_eq!(epoch_shard(&order, 1, 2, 2), vec![7, 6, 3]);
/// ```
pub fn epoch_shard(order: &[usize], rank: usize, ranks: usize, run: usize) -> Vec<usize> {
    let (ranks, run) = (ranks.max(1), run.max(1));
    order
        .chunks(ranks * run)
        .filter_map(|step| step.chunks(run).nth(rank))
        .flatten()
        .copied()
        .collect()
}

/// How many of a step's samples rank `rank` holds: the step starts at sample `start` of an
/// epoch of `len`, and each rank's run is `run` samples.
pub(crate) fn samples_of_rank(len: usize, start: usize, rank: usize, run: usize) -> usize {
    len.saturating_sub(start + rank * run).min(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_sizes_match_the_counted_runs() {
        // 10 samples, 3 ranks × runs of 2: steps [0 1|2 3|4 5] [6 7|8 9|–]
        let order: Vec<usize> = (0..10).collect();
        let sizes: Vec<usize> = (0..3).map(|r| epoch_shard(&order, r, 3, 2).len()).collect();
        assert_eq!(sizes, [4, 4, 2]);
        let counted: Vec<usize> = (0..3)
            .map(|r| samples_of_rank(10, 0, r, 2) + samples_of_rank(10, 6, r, 2))
            .collect();
        assert_eq!(counted, sizes);
    }
}
