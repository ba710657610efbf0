//! How `fit` runs: epochs, batch size, shuffling, seed, validation split, verbosity, clipping.

use super::GradClip;

/// How much `fit` prints, as Keras's `verbose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// Nothing.
    Silent,
    /// A progress bar per epoch when stdout is a terminal; one line per epoch otherwise.
    #[default]
    Bar,
    /// One line per epoch.
    Lines,
}

/// Settings of one `fit` call. Build with struct update syntax:
///
/// ```
/// # use typenet::prelude::*;
/// let cfg = FitConfig { epochs: 5, ..Default::default() };
/// assert_eq!(cfg.batch_size, 32);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    /// The epoch to stop after, counting epochs of earlier runs (Keras's `epochs`): `fit` trains
    /// epochs `initial_epoch + 1 ..= epochs`. Default `1`.
    pub epochs: usize,
    /// Epochs already trained (when resuming): `fit` starts at epoch `initial_epoch + 1`, with
    /// the same shuffle it would have had in an uninterrupted run. Default `0`.
    pub initial_epoch: usize,
    /// Samples per gradient step. Default `32` (Keras's default). The last batch of an epoch holds
    /// the remainder (it is smaller, never dropped). With
    /// [`accumulation_steps`](Self::accumulation_steps) k > 1 (or several ranks), the samples
    /// per forward and backward pass: a micro-batch.
    pub batch_size: usize,
    /// Micro-batches of `batch_size` per optimizer step (gradient accumulation): the step takes
    /// the next `accumulation_steps · batch_size` samples, computes each micro-batch's gradient
    /// of its mean loss alone, and sums them weighted by their share of the step's samples, in
    /// order, so the step follows the gradient of the mean loss over all its samples (one batch
    /// of k·b, to float rounding; see [`distributed`](crate::distributed) for the exact
    /// order). The epoch's last step takes what is left. Metrics, the loss and callbacks'
    /// `on_batch_end` count steps, not micro-batches. Default `1` (every batch is a step).
    ///
    /// **PyTorch equivalent**: calling `backward` on k micro-batches' `loss / k` before one
    /// `optimizer.step()`; Hugging Face's `gradient_accumulation_steps`.
    pub accumulation_steps: usize,
    /// Reshuffle the training set before every epoch. Default `true`.
    pub shuffle: bool,
    /// Seed of the shuffling and of the validation split. Each epoch's shuffle and augmentation
    /// draw from a generator seeded by `(seed, epoch)`, so epoch `k` shuffles the same way
    /// whether or not training was interrupted before it. Default `0`.
    pub seed: u64,
    /// Fraction of the training set held out for validation, in `(0, 1)`, taken after a seeded
    /// shuffle (the rule of [`InMemory::split`](crate::data::InMemory::split)). Default `None`.
    /// Ignored when [`Fit::validation`](super::Fit::validation) supplies validation data.
    pub validation_split: Option<f64>,
    /// Samples per batch when validating. Default `256`.
    pub eval_batch_size: usize,
    /// What to print. Default [`Verbosity::Bar`].
    pub verbosity: Verbosity,
    /// Gradient clipping before each optimizer step. Default `None`.
    pub clip: Option<GradClip>,
    /// Read (and augment) the next batch on a second thread while the current step runs.
    /// Default `true`. The batches, and so the results, are the same either way.
    pub prefetch: bool,
    /// Turn on the device's allocation cache (`Cache::enable_cache`) for the run, so each step
    /// reuses the previous step's buffers instead of asking the allocator (and the OS) again;
    /// the cache is emptied after every epoch, so it holds at most one epoch's worth of buffer
    /// sizes. Default `true`: it halves a small CNN's epoch time on the CPU. It stays on after
    /// `fit`.
    pub allocation_cache: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 1,
            initial_epoch: 0,
            batch_size: 32,
            accumulation_steps: 1,
            shuffle: true,
            seed: 0,
            validation_split: None,
            eval_batch_size: 256,
            verbosity: Verbosity::Bar,
            clip: None,
            prefetch: true,
            allocation_cache: true,
        }
    }
}
