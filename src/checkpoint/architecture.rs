//! A model type's architecture as a string: the fingerprint a checkpoint records so that a file
//! is not loaded into a different network whose tensors happen to have the same names and shapes
//! (a ReLU swapped for a Tanh, a layer reordered between two equal ones).

use crate::type_name::without_paths;
use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;

/// The architecture of model type `M`: its layers and their sizes, independent of the float type
/// and the device it was built with, and of the module paths the types live in.
///
/// Checkpoints record it under `typenet.architecture`; [`load_model`](super::load_model) refuses a
/// file recorded from another architecture with
/// [`Error::ArchitectureMismatch`](crate::Error::ArchitectureMismatch) unless
/// [`LoadOptions::allow_architecture_change`](super::LoadOptions::allow_architecture_change) is set.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// type Mlp = (Linear<4, 8>, ReLU, Linear<8, 3>);
/// let a = typenet::checkpoint::architecture::<f32, Cpu, <Mlp as BuildOnDevice<Cpu, f32>>::Built>();
/// let b = typenet::checkpoint::architecture::<f64, Cpu, <Mlp as BuildOnDevice<Cpu, f64>>::Built>();
/// assert_eq!(a, b);
/// assert!(a.contains("ReLU") && a.contains("8, 3"), "{a}");
/// ```
pub fn architecture<E, D, M>() -> String
where
    E: Dtype,
    D: Device<E>,
    M: TensorCollection<E, D>,
{
    without_paths(std::any::type_name::<M::To<f32, Cpu>>())
}
