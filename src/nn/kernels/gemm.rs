//! A bounds-checked wrapper around the `gemm` crate, version 0.19 with its AVX-512 (`x86-v4`)
//! kernels, which it selects at run time and falls back from on older CPUs.
//!
//! Chosen by measurement (issue 10; the table is in `benches/typenet.rs`'s `gemm` group notes):
//! on the MLP's products `gemm` 0.19 is 1.3–10× faster than `gemm` 0.15 (dfdx's, which has no
//! AVX-512 path on stable) and than `matrixmultiply` 0.3 (no AVX-512 kernels at all); on a
//! LeNet step's six conv GEMMs `gemm` 0.15 had already beaten `matrixmultiply` 1.48 ms to 1.86 ms.

use super::KernelFloat;

/// A matrix view: a slice with its row and column strides.
pub(crate) struct Mat<'a, E> {
    pub data: &'a [E],
    pub rs: usize,
    pub cs: usize,
}

/// `dst (m×n) = lhs (m×k) · rhs (k×n)`, or `dst += …` when `accumulate`. `dst` is row-major
/// with row stride `n`. Uses every rayon thread from 2¹⁸ multiply-adds up.
pub(crate) fn matmul<E: KernelFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
    accumulate: bool,
) {
    let threads = if m * n * k >= 1 << 18 {
        rayon::current_num_threads()
    } else {
        1
    };
    matmul_threads(m, n, k, dst, lhs, rhs, accumulate, threads);
}

/// [`matmul`] on at most `threads` rayon threads (1: on the calling thread only).
///
/// The result does not depend on scheduling: `gemm` splits the output among threads, never the
/// `k` sum, so a given thread count always gives bit-identical results.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_threads<E: KernelFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
    accumulate: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= m * n, "gemm: destination too small");
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(E::zero());
        }
        return;
    }
    // The raw-pointer call below reads lhs[(m-1)·rs + (k-1)·cs] and rhs[(k-1)·rs + (n-1)·cs] at
    // most; these asserts make that memory-safe for any caller.
    assert!(
        (m - 1) * lhs.rs + (k - 1) * lhs.cs < lhs.data.len(),
        "gemm: lhs out of bounds"
    );
    assert!(
        (k - 1) * rhs.rs + (n - 1) * rhs.cs < rhs.data.len(),
        "gemm: rhs out of bounds"
    );
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the bounds were checked above; `E` is f32 or f64 (sealed), both supported by
    // `gemm`; dst does not alias lhs or rhs (it is a distinct `&mut`).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.cs as isize,
            lhs.rs as isize,
            rhs.data.as_ptr(),
            rhs.cs as isize,
            rhs.rs as isize,
            E::one(),
            E::one(),
            false,
            false,
            false,
            par,
        );
    }
}
