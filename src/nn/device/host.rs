//! Host access to optimizer buffers, failing with the device's own error.

use dfdx::prelude::*;

/// A device whose `f32` buffers typenet's own update rules ([`RmsProp`](crate::optim::RmsProp),
/// [`AdamPrecise`](crate::optim::AdamPrecise)) read and write as host memory: the CPU in place, CUDA
/// through a copy to the host and back.
///
/// Implemented for the CPU and, with the `cuda` feature, CUDA; a device error (a failed copy)
/// is the device's own error type, so an update reports it like dfdx's kernels do.
pub trait HostSlices: Device<f32> {
    /// Runs `f` on every buffer of `bufs` at once, as host slices in the same order.
    ///
    /// # Errors
    /// The device's error when copying to or from the device fails.
    fn with_host_slices(
        bufs: &mut [&mut <Self as Storage<f32>>::Vec],
        f: &mut dyn FnMut(&mut [&mut [f32]]),
    ) -> Result<(), Self::Err>;
}

impl HostSlices for Cpu {
    fn with_host_slices(
        bufs: &mut [&mut <Self as Storage<f32>>::Vec],
        f: &mut dyn FnMut(&mut [&mut [f32]]),
    ) -> Result<(), CpuError> {
        let mut slices: Vec<&mut [f32]> = bufs.iter_mut().map(|b| &mut b[..]).collect();
        f(&mut slices);
        Ok(())
    }
}

#[cfg(feature = "cuda")]
impl HostSlices for Cuda {
    fn with_host_slices(
        bufs: &mut [&mut <Self as Storage<f32>>::Vec],
        f: &mut dyn FnMut(&mut [&mut [f32]]),
    ) -> Result<(), dfdx::tensor::CudaError> {
        let mut host = Vec::with_capacity(bufs.len());
        for b in bufs.iter() {
            let v: &<Self as Storage<f32>>::Vec = b;
            host.push(v.device().dtoh_sync_copy(&**v)?);
        }
        let mut slices: Vec<&mut [f32]> = host.iter_mut().map(|h| &mut h[..]).collect();
        f(&mut slices);
        for (b, h) in bufs.iter_mut().zip(&host) {
            let v: &mut <Self as Storage<f32>>::Vec = b;
            let dev = v.device();
            dev.htod_sync_copy_into(h, &mut **v)?;
        }
        Ok(())
    }
}
