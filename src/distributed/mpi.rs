//! [`Communicator`] over MPI's world communicator (the `mpi` crate, Open MPI or MPICH).

use super::Communicator;
use crate::{Error, Result};
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator as _, CommunicatorCollectives};

/// All the processes `mpirun` started, as one [`Communicator`]. Create it once, first thing in
/// `main` (it initialises MPI, and finalises it when dropped).
///
/// A program started without `mpirun` is one rank of one: `fit` then trains as it would
/// without a communicator (with the same accumulation).
///
/// # Example
/// ```no_run
/// # use typenet::prelude::*;
/// # use typenet::distributed::{Communicator, Mpi};
/// # fn main() -> typenet::Result<()> {
/// let world = Mpi::init()?;
/// # let data = FashionMnist::load(FASHION_MNIST_DIR)?;
/// let dev = Cpu::seed_from_u64(0); // the same seed on every rank: the same initial weights
/// let mut model = Trainer::compile(
///     &dev,
///     dev.build_module::<(Linear<784, 128>, ReLU, Linear<128, 10>), f32>(),
///     AdamConfig::default(),
///     SparseCategoricalCrossentropy,
///     &["accuracy"],
/// )?;
/// let cfg = FitConfig { epochs: 5, batch_size: 32, ..Default::default() };
/// model.fitting(&data.train).distributed(&world).run(&cfg)?;
/// if world.is_root() {
///     println!("{}", model.evaluate(&data.test)?);
/// }
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `torch.distributed.init_process_group("mpi")` with
/// `DistributedDataParallel`; **Horovod**: `hvd.init()`.
pub struct Mpi {
    world: SimpleCommunicator,
    // dropped last: finalises MPI
    _universe: Universe,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mpi {{ rank: {}, size: {} }}", self.rank(), self.size())
    }
}

impl Mpi {
    /// Initialises MPI and takes its world communicator.
    ///
    /// # Errors
    /// [`Error::Distributed`] if MPI was initialised already in this process.
    pub fn init() -> Result<Mpi> {
        let universe = mpi::initialize().ok_or_else(|| Error::Distributed {
            rank: 0,
            reason: "MPI is initialised already in this process (create one `Mpi`)".into(),
        })?;
        Ok(Mpi {
            world: universe.world(),
            _universe: universe,
        })
    }

    /// Ends every rank of the job with exit code `code` (`MPI_Abort`): what a rank that failed
    /// calls, so that the others do not wait for it forever.
    pub fn abort(&self, code: i32) -> ! {
        self.world.abort(code)
    }

    /// Sums `values` over the ranks with MPI's own `MPI_Allreduce` (its order is MPI's choice;
    /// `fit` does not use it). For measuring the transport against the ordered gather.
    pub fn all_reduce_sum_f32(&self, values: &[f32], sum: &mut [f32]) {
        self.world
            .all_reduce_into(values, sum, mpi::collective::SystemOperation::sum());
    }

    /// Waits until every rank calls it.
    pub fn barrier(&self) {
        self.world.barrier();
    }

    fn check(&self, local: usize, all: usize) -> Result<()> {
        if all != local * self.size() {
            return Err(Error::Distributed {
                rank: self.rank(),
                reason: format!(
                    "all-gather of {local} values from {} ranks into a buffer of {all}",
                    self.size()
                ),
            });
        }
        Ok(())
    }
}

impl Communicator for Mpi {
    fn rank(&self) -> usize {
        usize::try_from(self.world.rank()).unwrap_or_default()
    }
    fn size(&self) -> usize {
        usize::try_from(self.world.size()).unwrap_or(1)
    }
    fn all_gather_f32(&self, local: &[f32], all: &mut [f32]) -> Result<()> {
        self.check(local.len(), all.len())?;
        // MPI's default error handler aborts the job on a transport error: nothing to map
        self.world.all_gather_into(local, all);
        Ok(())
    }
    fn all_gather_f64(&self, local: &[f64], all: &mut [f64]) -> Result<()> {
        self.check(local.len(), all.len())?;
        self.world.all_gather_into(local, all);
        Ok(())
    }
}
