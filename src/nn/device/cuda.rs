//! CUDA: every layer on [`LayerKernels`]'s portable defaults (cuBLAS matmul, dfdx's gather and
//! reductions; the GPU needs no host copies to be fast), and host access for training.

use super::{LayerKernels, SizeError, TrainingDevice};
use dfdx::prelude::*;
use dfdx::tensor::CudaError;

impl<E: Dtype> LayerKernels<E> for Cuda where Cuda: Device<E> {}

impl From<SizeError> for CudaError {
    fn from(e: SizeError) -> Self {
        CudaError::Cpu(e.into())
    }
}

impl TrainingDevice<f32> for Cuda {
    fn try_with_slice(
        v: &mut <Self as Storage<f32>>::Vec,
        f: &mut dyn FnMut(&mut [f32]),
    ) -> Result<(), CudaError> {
        let dev = v.device();
        let mut host = dev.dtoh_sync_copy(&**v)?;
        f(&mut host);
        Ok(dev.htod_sync_copy_into(&host, &mut **v)?)
    }
}
