//! Half-precision storage against f32 in the `gemm` crate, at the shapes of typenet's GEMM-bound
//! layers: the MLP's first layer at batch 1 and 256, and a 3×3 convolution of 64 channels to 128
//! as im2col gives it (1,024 output positions × 576 × 128). Prints the median of seven rounds for
//! each and the ratio f16 / f32 (above 1: half precision is slower). On a CPU without native
//! half-precision arithmetic `gemm` converts to f32 and multiplies there, so the ratio says whether
//! the halved memory traffic pays for the conversions.

use gemm::{gemm, Parallelism};
use half::f16;
use std::time::Instant;

fn time<F: FnMut()>(mut f: F, reps: usize) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut v = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        for _ in 0..reps {
            f();
        }
        v.push(t.elapsed().as_secs_f64() / reps as f64);
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[3]
}

fn main() {
    // (m, k, n): the MLP's first layer at batch 1 and 256, and a 3×3 convolution 64 → 128 on 32×32.
    for &(m, k, n) in &[
        (1usize, 784usize, 128usize),
        (256, 784, 128),
        (1024, 576, 128),
    ] {
        let a32: Vec<f32> = (0..m * k).map(|i| ((i % 17) as f32) * 0.01).collect();
        let b32: Vec<f32> = (0..k * n).map(|i| ((i % 13) as f32) * 0.01).collect();
        let mut c32 = vec![0f32; m * n];
        let a16: Vec<f16> = a32.iter().map(|&x| f16::from_f32(x)).collect();
        let b16: Vec<f16> = b32.iter().map(|&x| f16::from_f32(x)).collect();
        let mut c16 = vec![f16::ZERO; m * n];
        // Single-threaded: the ratio of the two element types, not the machine's peak.
        let reps = if m == 1 { 2000 } else { 20 };
        let t32 = time(
            || unsafe {
                gemm(
                    m,
                    n,
                    k,
                    c32.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a32.as_ptr(),
                    1,
                    k as isize,
                    b32.as_ptr(),
                    1,
                    n as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    Parallelism::None,
                )
            },
            reps,
        );
        let t16 = time(
            || unsafe {
                gemm(
                    m,
                    n,
                    k,
                    c16.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a16.as_ptr(),
                    1,
                    k as isize,
                    b16.as_ptr(),
                    1,
                    n as isize,
                    f16::ZERO,
                    f16::ONE,
                    false,
                    false,
                    false,
                    Parallelism::None,
                )
            },
            reps,
        );
        let gf = 2.0 * (m * n * k) as f64;
        println!("m={m} k={k} n={n}: f32 {:.1} us ({:.1} GFLOP/s), f16 {:.1} us ({:.1} GFLOP/s), f16/f32 = {:.2}",
                 t32 * 1e6, gf / t32 / 1e9, t16 * 1e6, gf / t16 / 1e9, t16 / t32);
    }
}
