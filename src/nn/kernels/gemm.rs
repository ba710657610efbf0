//! A bounds-checked wrapper around the `gemm` crate, version 0.19 with its AVX-512 (`x86-v4`)
//! kernels, which it selects at run time (falling back on CPUs without AVX-512).
//!
//! Chosen by measurement (2-core AVX-512 Xeon, f32, median of 11, µs; "split" is
//! [`matmul_split`]: one single-threaded `gemm` 0.19 per half of the output):
//!
//! | product m×k×n (MLP role) | gemm 0.15 1 thr | 2 thr | gemm 0.19 1 thr | 2 thr | split | matrixmultiply 0.3 |
//! |---|---|---|---|---|---|---|
//! | 256×784×128 (x·Wᵀ) | 712 | 401 | 483 | 380 | 266 | 576 |
//! | 64×784×128 (x·Wᵀ) | 199 | 137 | 140 | 187 | 83 | 173 |
//! | 1×784×128 (x·Wᵀ) | 32.9 | 33.2 | 3.7 | 3.7 | — | 70.8 |
//! | 128×256×784 (dW = dyᵀ·x) | 694 | 400 | 487 | 308 | 260 | 485 |
//! | 256×128×784 (dx = dy·W) | 677 | 361 | 471 | 290 | 290 | 482 |
//! | 256×128×10 | 20.2 | 19.4 | 11.1 | 11.1 | 13.2 | 23.5 |
//! | 2048³ (GFLOP/s) | 69 | 132 | 103 | 198 | 196 | 96 |
//!
//! `faer` was not measured: its matrix products run on this same `gemm` family. On a LeNet
//! step's six conv GEMMs `gemm` 0.15 had already beaten `matrixmultiply` (1.48 ms to 1.86 ms).

use super::KernelFloat;

/// A matrix view: a slice with its row and column strides.
pub(crate) struct Mat<'a, E> {
    pub data: &'a [E],
    pub rs: usize,
    pub cs: usize,
}

/// Multiply-adds from which [`matmul`] lets `gemm` use every rayon thread (`gemm`'s own
/// threading, which splits the output among threads).
const GEMM_THREADS_FROM: usize = 1 << 18;

/// Multiply-adds from which the dense layer's products are split over the rayon threads by
/// [`matmul_split`] (the MLP's first layer from batch 42 up). Measured on a 2-core AVX-512 Xeon
/// (full Adam steps of the 784-128-10 MLP, best of 7 runs of 100): splitting gained nothing at
/// batch 32 (309 µs on one thread, 306–336 µs on two) and 1.17× at batch 64 (505 µs, 430 µs),
/// 1.55× at 256.
const SPLIT_FROM: usize = 1 << 22;

/// The threading policy of the kernels, in one place:
/// - [`matmul`] (convolution) threads inside `gemm` from [`GEMM_THREADS_FROM`] multiply-adds;
/// - [`matmul_split`] (dense layer) splits the output into [`split_parts`] blocks from
///   [`SPLIT_FROM`] multiply-adds;
/// - the convolution and pooling kernels run one rayon task per group of images or planes.
///
/// `conv2d_forward` and `conv2d_backward` run their products inside their rayon tasks: with at
/// least as many tasks as threads on one thread each ([`matmul_serial`]), with fewer (a batch of
/// a few images) through [`matmul`], whose nested `gemm` threading uses the idle threads. Results
/// do not depend on it (see [`matmul`]).
fn threads_from(m: usize, n: usize, k: usize, from: usize) -> usize {
    if m.saturating_mul(n).saturating_mul(k) >= from {
        rayon::current_num_threads()
    } else {
        1
    }
}

/// Blocks a dense-layer product of `m×k×n` is split into by [`matmul_split`]: every rayon thread
/// from [`SPLIT_FROM`] multiply-adds up, else one.
pub(crate) fn split_parts(m: usize, n: usize, k: usize) -> usize {
    threads_from(m, n, k, SPLIT_FROM)
}

/// `dst (m×n) = lhs (m×k) · rhs (k×n)`, or `dst += …` when `accumulate`. `dst` is row-major
/// with row stride `n`. `gemm` uses every rayon thread from [`GEMM_THREADS_FROM`] multiply-adds
/// up.
///
/// The result does not depend on scheduling: `gemm` splits the output among threads, never the
/// `k` sum, so a given thread count always gives bit-identical results.
///
/// # Panics
/// When a slice is too short for its sizes and strides (a bug in the calling kernel: every
/// kernel sizes its buffers from its geometry).
pub(crate) fn matmul<E: KernelFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
    accumulate: bool,
) {
    let threads = threads_from(m, n, k, GEMM_THREADS_FROM);
    matmul_on(threads, m, n, k, dst, lhs, rhs, accumulate);
}

/// [`matmul`] on the calling thread only: for a product inside a rayon task when there are at
/// least as many tasks as threads, where `gemm`'s own threading would only add its
/// synchronisation (the result is the same: `gemm` never splits the `k` sum).
pub(crate) fn matmul_serial<E: KernelFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
    accumulate: bool,
) {
    matmul_on(1, m, n, k, dst, lhs, rhs, accumulate);
}

/// [`matmul`] with `gemm` on `threads` rayon threads.
#[allow(clippy::too_many_arguments)]
fn matmul_on<E: KernelFloat>(
    threads: usize,
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
    accumulate: bool,
) {
    if let Some(p) = Problem::check(m, n, k, dst, &lhs, &rhs, accumulate) {
        // SAFETY: `check` proved the whole product in bounds.
        unsafe { p.run(threads) };
    }
}

/// [`matmul`] split into `parts` blocks of output rows (or columns, whichever dimension is
/// longer), each a single-threaded `gemm` on its own rayon task.
///
/// Measured on a 2-core AVX-512 Xeon: `gemm`'s own threading did not speed up
/// `x · Wᵀ` with `W` row-major (256×784×128: 506 µs on 2 threads, 476 µs on 1), while two
/// halves ran in 262 µs. Each output element is still one `gemm` k-sum, so a given `parts`
/// always gives bit-identical results, whichever threads run the blocks.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_split<E: KernelFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
    accumulate: bool,
    parts: usize,
) {
    if let Some(p) = Problem::check(m, n, k, dst, &lhs, &rhs, accumulate) {
        // SAFETY: `check` proved the whole product in bounds; blocks are disjoint sub-products.
        unsafe { p.split(parts.max(1)) };
    }
}

/// A bounds-checked product as raw pointers (so disjoint blocks can go to other threads).
#[derive(Clone, Copy)]
struct Problem<E> {
    m: usize,
    n: usize,
    k: usize,
    dst: *mut E,
    /// Row stride of `dst` (its column stride is 1).
    dst_rs: usize,
    lhs: *const E,
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: *const E,
    rhs_rs: usize,
    rhs_cs: usize,
    accumulate: bool,
}

// SAFETY: a `Problem` is only built by `check` from slices the caller holds for the whole call,
// and `split` hands each thread a disjoint block of `dst`.
unsafe impl<E: Send> Send for Problem<E> {}
unsafe impl<E: Sync> Sync for Problem<E> {}

impl<E: KernelFloat> Problem<E> {
    /// The product, or `None` when it has nothing left to compute (handled here).
    fn check(
        m: usize,
        n: usize,
        k: usize,
        dst: &mut [E],
        lhs: &Mat<'_, E>,
        rhs: &Mat<'_, E>,
        accumulate: bool,
    ) -> Option<Self> {
        if m == 0 || n == 0 {
            return None;
        }
        assert!(dst.len() >= m * n, "gemm: destination too small");
        if k == 0 {
            if !accumulate {
                dst[..m * n].fill(E::zero());
            }
            return None;
        }
        // The raw-pointer call reads lhs[(m-1)·rs + (k-1)·cs] and rhs[(k-1)·rs + (n-1)·cs] at
        // most; these asserts make that memory-safe for any caller.
        assert!(
            (m - 1) * lhs.rs + (k - 1) * lhs.cs < lhs.data.len(),
            "gemm: lhs out of bounds"
        );
        assert!(
            (k - 1) * rhs.rs + (n - 1) * rhs.cs < rhs.data.len(),
            "gemm: rhs out of bounds"
        );
        Some(Problem {
            m,
            n,
            k,
            dst: dst.as_mut_ptr(),
            dst_rs: n,
            lhs: lhs.data.as_ptr(),
            lhs_rs: lhs.rs,
            lhs_cs: lhs.cs,
            rhs: rhs.data.as_ptr(),
            rhs_rs: rhs.rs,
            rhs_cs: rhs.cs,
            accumulate,
        })
    }

    /// Rows `r0..r1` and columns `c0..c1` of the product.
    fn block(self, r0: usize, r1: usize, c0: usize, c1: usize) -> Self {
        // SAFETY of later use: offsets stay inside the checked product.
        Problem {
            m: r1 - r0,
            n: c1 - c0,
            dst: self.dst.wrapping_add(r0 * self.dst_rs + c0),
            lhs: self.lhs.wrapping_add(r0 * self.lhs_rs),
            rhs: self.rhs.wrapping_add(c0 * self.rhs_cs),
            ..self
        }
    }

    /// # Safety
    /// `self` came from `check` (or `block` of it) and no other thread writes its `dst` block.
    unsafe fn split(self, parts: usize) {
        // blocks of whole 16-element SIMD rows/columns; too small a block is not worth a task
        let (long, by_rows) = if self.m >= self.n {
            (self.m, true)
        } else {
            (self.n, false)
        };
        if parts <= 1 || long < 32 {
            // SAFETY: the caller's contract.
            return unsafe { self.run(1) };
        }
        let half = (long * (parts / 2) / parts).div_ceil(16) * 16;
        let (a, b) = if by_rows {
            (
                self.block(0, half, 0, self.n),
                self.block(half, self.m, 0, self.n),
            )
        } else {
            (
                self.block(0, self.m, 0, half),
                self.block(0, self.m, half, self.n),
            )
        };
        let (pa, pb) = (parts / 2, parts - parts / 2);
        // SAFETY: `a` and `b` are disjoint blocks of this one.
        rayon::join(|| unsafe { a.split(pa) }, || unsafe { b.split(pb) });
    }

    /// # Safety
    /// As [`Problem::split`].
    unsafe fn run(self, threads: usize) {
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        // SAFETY: the caller's contract; `E` is f32 or f64 (sealed), both supported by `gemm`.
        unsafe {
            gemm::gemm(
                self.m,
                self.n,
                self.k,
                self.dst,
                1,
                self.dst_rs as isize,
                self.accumulate,
                self.lhs,
                self.lhs_cs as isize,
                self.lhs_rs as isize,
                self.rhs,
                self.rhs_cs as isize,
                self.rhs_rs as isize,
                E::one(),
                E::one(),
                false,
                false,
                false,
                par,
            );
        }
    }
}
