//! Kernel loops compiled for AVX2 and FMA when the CPU has them.
//!
//! typenet builds for the baseline of its target (SSE2 on x86-64), where a loop LLVM vectorises
//! gets 4-lane vectors at best. A function defined through [`avx2_fn!`] is compiled twice: as
//! built, and inside a function with AVX2 and FMA enabled (8-lane vectors), which it runs when
//! the CPU reports both at run time. The results do not depend on the path: Rust never fuses a
//! multiply and an add, nor reorders floating-point operations, so each value gets the same
//! roundings in either.

/// Whether the CPU has AVX2 and FMA (`std`'s detection caches the answer).
#[inline(always)]
pub(crate) fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `avx2_fn! { fn name<E: Bound>(a: A, b: B) -> R { body } }` (generics optional) defines `name`,
/// whose `body` runs
/// compiled with AVX2 and FMA enabled where [`has_avx2_fma`], else as built. Functions the body
/// calls are compiled that way only where they are inlined into it (`#[inline(always)]`).
macro_rules! avx2_fn {
    ($(#[$meta:meta])* $vis:vis fn $name:ident $(<$($g:ident: $bound:path),*>)?
        ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$meta])*
        $vis fn $name $(<$($g: $bound),*>)? ($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn body $(<$($g: $bound),*>)? ($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                /// # Safety
                /// The CPU has AVX2 and FMA.
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2 $(<$($g: $bound),*>)? ($($arg: $ty),*) $(-> $ret)? {
                    body($($arg),*)
                }
                if $crate::nn::kernels::simd::has_avx2_fma() {
                    // SAFETY: both features were just detected.
                    return unsafe { avx2($($arg),*) };
                }
            }
            body($($arg),*)
        }
    };
}
pub(crate) use avx2_fn;
