//! Batches of a data set as device tensors: PyTorch's `DataLoader`.

use super::target::into_dtype;
use super::{gather_host, BatchShape, Dataset, HostBatch, Target};
use crate::{Error, Result};
use dfdx::prelude::*;
use rand::{seq::SliceRandom, SeedableRng};

/// The batch shape of a data set's samples.
pub type BatchOf<Ds> = <<Ds as Dataset>::Sample as BatchShape>::Batched;

/// One batch: features and targets on the device in the float type `E` (`f32` unless asked
/// otherwise), and the targets on the host (for metrics).
pub struct Batch<Ds: Dataset, D: Device<E>, E: Dtype = f32> {
    /// Features, `(batch, sample shape…)`, scaled to `E`.
    pub x: Tensor<BatchOf<Ds>, E, D>,
    /// Targets on the device, as the loss takes them.
    pub y: <Ds::Target as Target>::Batch<E, D>,
    /// The same targets on the host.
    pub labels: Vec<<Ds::Target as Target>::Item>,
}

impl<Ds: Dataset, E: Dtype, D: Device<E>> Batch<Ds, D, E> {
    /// Reads samples `indices` of `data` into a batch on `device`. With `train_rng` (training
    /// steps only) samples are read through [`Dataset::write_train_features`], which augments
    /// them if the data set does.
    ///
    /// # Errors
    /// Device errors (e.g. out of memory).
    pub fn gather(
        device: &D,
        data: &Ds,
        indices: &[usize],
        train_rng: Option<&mut rand::rngs::StdRng>,
    ) -> Result<Self> {
        Self::upload(device, gather_host(data, indices, train_rng))
    }

    /// Moves a batch gathered on the host (e.g. by [`prefetch`](super::prefetch)) to `device`,
    /// converting its values to `E`.
    ///
    /// # Errors
    /// Device errors (e.g. out of memory).
    pub fn upload(device: &D, host: HostBatch<Ds::Target>) -> Result<Self> {
        let n = host.targets.len();
        // Allocated by the device and filled, not built from our Vec: with dfdx's allocation
        // cache on (`dev.enable_cache()`) the buffer comes from and returns to the cache; a Vec
        // handed over would be added to the cache every step and never reused.
        let mut x = device
            .try_zeros_like(&Ds::Sample::batched(n))
            .map_err(Error::device)?;
        // gather_host wrote exactly n × NUMEL values, the length copy_from requires; in f32
        // they are copied as they are
        x.copy_from(&into_dtype::<E>(host.features)?);
        let y = Ds::Target::to_device(device, &host.targets)?;
        Ok(Batch {
            x,
            y,
            labels: host.targets,
        })
    }
}

/// Reads samples `indices` of `data` into an `f32` [`Batch`] on `device` ([`Batch::gather`]
/// for another float type). With `train_rng` (training steps only) samples are read through
/// [`Dataset::write_train_features`], which augments them if the data set does.
///
/// # Errors
/// Device errors (e.g. out of memory).
pub fn gather<Ds: Dataset, D: Device<f32>>(
    device: &D,
    data: &Ds,
    indices: &[usize],
    train_rng: Option<&mut rand::rngs::StdRng>,
) -> Result<Batch<Ds, D>> {
    Batch::gather(device, data, indices, train_rng)
}

/// Moves a batch gathered on the host (e.g. by [`prefetch`](super::prefetch)) to `device` as
/// an `f32` [`Batch`] ([`Batch::upload`] for another float type).
///
/// # Errors
/// Device errors (e.g. out of memory).
pub fn upload<Ds: Dataset, D: Device<f32>>(
    device: &D,
    host: HostBatch<Ds::Target>,
) -> Result<Batch<Ds, D>> {
    Batch::upload(device, host)
}

/// Iterates over a data set in batches of `batch_size`; the last batch holds the remainder
/// (smaller, never dropped). Shuffled with a seed, or in order.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let data = InMemory::<Rank1<2>, Classes<2>>::new(vec![0.; 10], vec![0, 1, 0, 1, 0])?;
/// let dev = Cpu::default();
/// let sizes: Vec<usize> = DataLoader::new(&data, &dev, 2)
///     .shuffled(7)
///     .map(|b| b.map(|b| b.labels.len()))
///     .collect::<typenet::Result<_>>()?;
/// assert_eq!(sizes, [2, 2, 1]);
/// # Ok(()) }
/// ```
///
/// Batches are `f32`; [`to_dtype`](DataLoader::to_dtype) gives them in another float type
/// (`f64` for an `f64` model).
///
/// **PyTorch equivalent**: `DataLoader(dataset, batch_size, shuffle=True)`.
pub struct DataLoader<'a, Ds: Dataset, D: Device<E>, E: Dtype = f32> {
    data: &'a Ds,
    device: D,
    batch_size: usize,
    order: Vec<usize>,
    next: usize,
    dtype: std::marker::PhantomData<E>,
}

impl<'a, Ds: Dataset, D: Device<f32>> DataLoader<'a, Ds, D> {
    /// Batches of `batch_size` (at least 1) samples of `data`, in order.
    pub fn new(data: &'a Ds, device: &D, batch_size: usize) -> Self {
        DataLoader {
            data,
            device: device.clone(),
            batch_size: batch_size.max(1),
            order: (0..data.len()).collect(),
            next: 0,
            dtype: std::marker::PhantomData,
        }
    }
}

impl<'a, Ds: Dataset, E: Dtype, D: Device<E>> DataLoader<'a, Ds, D, E> {
    /// The same batches with features and real-valued targets in the float type `E2`.
    ///
    /// ```
    /// # use typenet::prelude::*;
    /// # fn main() -> typenet::Result<()> {
    /// let data = InMemory::<Rank1<1>, Values<1>>::new(vec![0.5, 2.0], vec![[0.25], [4.0]])?;
    /// let dev = Cpu::default();
    /// let batch = DataLoader::new(&data, &dev, 2).to_dtype::<f64>().next().unwrap()?;
    /// assert_eq!((batch.x.as_vec(), batch.y.as_vec()), (vec![0.5f64, 2.0], vec![0.25f64, 4.0]));
    /// # Ok(()) }
    /// ```
    pub fn to_dtype<E2: Dtype>(self) -> DataLoader<'a, Ds, D, E2>
    where
        D: Device<E2>,
    {
        DataLoader {
            data: self.data,
            device: self.device,
            batch_size: self.batch_size,
            order: self.order,
            next: self.next,
            dtype: std::marker::PhantomData,
        }
    }

    /// The same batches in an order shuffled by `seed`.
    pub fn shuffled(mut self, seed: u64) -> Self {
        self.order
            .shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        self
    }

    /// Number of batches.
    pub fn batches(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }
}

impl<Ds: Dataset, E: Dtype, D: Device<E>> Iterator for DataLoader<'_, Ds, D, E> {
    type Item = Result<Batch<Ds, D, E>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.order.len() {
            return None;
        }
        let end = (self.next + self.batch_size).min(self.order.len());
        let batch = Batch::gather(&self.device, self.data, &self.order[self.next..end], None);
        self.next = end;
        Some(batch)
    }
}
