//! A small pool of reusable scratch buffers.
//!
//! The im2col matrices and GEMM temporaries are large (megabytes) and are needed every step; fresh
//! allocations of that size are served by `mmap` and pay a page fault per 4 KiB on first touch,
//! which cost about a fifth of a LeNet training step before this pool existed.

use std::sync::Mutex;

/// Buffers kept per element type at most.
const KEEP: usize = 16;

/// Element types with a scratch pool (`f32`, `f64`, `u32`).
pub trait Pooled: Copy + Send + 'static {
    /// This type's pool.
    fn pool() -> &'static Mutex<Vec<Vec<Self>>>;
}

macro_rules! pooled {
    ($($t:ty),*) => {$(
        impl Pooled for $t {
            fn pool() -> &'static Mutex<Vec<Vec<$t>>> {
                static POOL: Mutex<Vec<Vec<$t>>> = Mutex::new(Vec::new());
                &POOL
            }
        }
    )*};
}
pooled!(f32, f64, u32);

/// A buffer of length `len`, reusing a pooled allocation when one fits without waste.
///
/// Its contents are arbitrary (left over from earlier use, `fill` where it grew): every caller
/// overwrites the whole buffer, so clearing it would be a wasted memset. Only buffers of at most
/// twice `len` are reused: handing a large buffer to a small request would shorten it, and the
/// next large request would pay a memset to lengthen it again (measured: a quarter of a batch-1
/// MLP inference, whose second layer took the first layer's weight buffer).
pub(crate) fn take<T: Pooled>(len: usize, fill: T) -> Vec<T> {
    let reused = T::pool().lock().ok().and_then(|mut pool| {
        // the smallest pooled buffer that fits, preferring one that needs no fill
        let best = (0..pool.len())
            .filter(|&i| {
                pool[i].capacity() >= len && pool[i].capacity() <= len.max(8).saturating_mul(2)
            })
            .min_by_key(|&i| (pool[i].len() < len, pool[i].capacity()))?;
        Some(pool.swap_remove(best))
    });
    let mut v = reused.unwrap_or_else(|| Vec::with_capacity(len));
    v.truncate(len);
    v.resize(len, fill);
    v
}

/// Returns a buffer to the pool (dropping the smallest one when the pool is full).
pub(crate) fn give<T: Pooled>(v: Vec<T>) {
    if v.capacity() == 0 {
        return;
    }
    if let Ok(mut pool) = T::pool().lock() {
        pool.push(v);
        if pool.len() > KEEP
            && let Some(i) = (0..pool.len()).min_by_key(|&i| pool[i].capacity())
        {
            pool.swap_remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_sized() {
        // The pool is shared with tests running at the same time; no other test asks for
        // buffers of these sizes, so the buffer given back is the only one that fits.
        let v = take::<u32>(1_000_003, 7);
        assert_eq!(v.len(), 1_000_003);
        let ptr = v.as_ptr();
        give(v);
        // a smaller request (at least half the capacity) gets the same allocation, shortened
        let w = take::<u32>(600_001, 0);
        assert_eq!(w.len(), 600_001);
        assert_eq!(w.as_ptr(), ptr, "the pooled buffer was not reused");
        give(w);
    }
}
