//! The logistic sigmoid and `tanh` over slices, for the recurrent kernels' gates.
//!
//! `f64` calls the standard library. `f32` uses a branch-free `exp` (Cephes' polynomial, within
//! 2 ulp of `exp` on `[-87, 88]`) that the compiler vectorises, compiled for AVX2 + FMA when the
//! CPU has them (checked at run time): the standard library's `tanhf` calls `expm1f`, scalar,
//! which took a third of a GRU training step.

use super::simd::avx2_fn;

/// Slice activations for an element type.
pub trait Activations: Sized {
    /// `v ← 1/(1 + e^(−v))`, element by element.
    fn sigmoid_slice(v: &mut [Self]);
    /// `v ← tanh(v)`, element by element.
    fn tanh_slice(v: &mut [Self]);
}

impl Activations for f64 {
    fn sigmoid_slice(v: &mut [f64]) {
        for x in v {
            *x = 1.0 / (1.0 + (-*x).exp());
        }
    }

    fn tanh_slice(v: &mut [f64]) {
        for x in v {
            *x = x.tanh();
        }
    }
}

/// `1.5·2²³`: adding it rounds an `f32` of magnitude below 2²² to an integer, left in the low
/// mantissa bits.
const ROUND: f32 = 12_582_912.0;

/// `eˣ` for `f32`, branch-free: `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, a degree-6 polynomial
/// for `eʳ`, and `2ⁿ` built in the exponent bits. Inputs are clamped to `[-87.3, 88.3]` (the
/// result stays a normal number).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.3);
    let t = x * std::f32::consts::LOG2_E + ROUND;
    let n = t - ROUND;
    let k = (t.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    // ln 2 in two parts (Cephes): the first exact in a few bits, so n·C1 is exact
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 0.166_666_65;
    p = p * r + 0.5;
    let e = p * r * r + r + 1.0;
    e * f32::from_bits(((k + 127) << 23) as u32)
}

#[inline(always)]
fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// `tanh` for `f32`: an odd Taylor polynomial below `|x| = 0.2` (terms to `x⁹`, error below
/// 2·10⁻¹⁰), else `1 − 2/(e^{2|x|} + 1)` with the sign of `x`.
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let a = x.abs().min(9.0);
    let big = 1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0);
    let a2 = a * a;
    let small = a
        * (1.0
            + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0 + a2 * (62.0 / 2835.0)))));
    let t = if a < 0.2 { small } else { big };
    t.copysign(x)
}

avx2_fn! {
    /// [`sigmoid_f32`] of every value of `v`.
    fn sigmoid_slice_f32(v: &mut [f32]) {
        for x in v {
            *x = sigmoid_f32(*x);
        }
    }
}

avx2_fn! {
    /// [`tanh_f32`] of every value of `v`.
    fn tanh_slice_f32(v: &mut [f32]) {
        for x in v {
            *x = tanh_f32(*x);
        }
    }
}

impl Activations for f32 {
    fn sigmoid_slice(v: &mut [f32]) {
        sigmoid_slice_f32(v);
    }

    fn tanh_slice(v: &mut [f32]) {
        tanh_slice_f32(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `f32` activation against the `f64` standard library on a dense grid over
    /// `[-100, 100]` (and the clamped extremes), through the slice functions (the vectorised
    /// path on this CPU) and one element at a time.
    #[test]
    fn f32_activations_match_the_standard_library() {
        let mut xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 5e-4).collect();
        xs.extend([
            -100.0, -90.0, -88.0, 88.0, 90.0, 100.0, 1e-30, -1e-30, 0.0, -0.0,
        ]);
        let (mut s, mut t) = (xs.clone(), xs.clone());
        sigmoid_slice_f32(&mut s);
        tanh_slice_f32(&mut t);
        for (i, &x) in xs.iter().enumerate() {
            let xd = x as f64;
            let want_s = 1.0 / (1.0 + (-xd).exp());
            let want_t = xd.tanh();
            // (name, got, want, relative and absolute tolerance): the sigmoid's tail below
            // e^-87 is clamped (absolute 1e-37), tanh's `1 − 2/(e + 1)` holds ~1 ulp of 1
            for (name, got, want, rel, abs) in [
                ("sigmoid", s[i], want_s, 2e-6, 1e-37),
                ("tanh", t[i], want_t, 1e-6, 2e-7),
                ("sigmoid (scalar)", sigmoid_f32(x), want_s, 2e-6, 1e-37),
                ("tanh (scalar)", tanh_f32(x), want_t, 1e-6, 2e-7),
            ] {
                let err = (got as f64 - want).abs();
                assert!(
                    err <= rel * want.abs() + abs,
                    "{name}({x}): got {got}, want {want} (error {err:e})"
                );
            }
        }
        assert_eq!(tanh_f32(-0.0).to_bits(), (-0.0f32).to_bits());
    }
}
