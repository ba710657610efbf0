//! Independent references for the kernel and layer tests: the definitions as direct loops in
//! f64, and central finite differences.

use super::{Conv2dGeom, Pool2dGeom};
use rand::{rngs::StdRng, Rng};

/// `n` values uniform in `[-1, 1)`.
pub(crate) fn randn(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Direct-loop convolution (the definition, taps `g.dilation` apart), for comparison.
pub(crate) fn conv_ref(g: &Conv2dGeom, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let (k, s, p) = (g.kernel as isize, g.stride as isize, g.padding as isize);
    let d = g.dilation as isize;
    let mut y = vec![0.0; g.batch * g.chan_out * g.h_out * g.w_out];
    for n in 0..g.batch {
        for o in 0..g.chan_out {
            for oh in 0..g.h_out {
                for ow in 0..g.w_out {
                    let mut acc = b[o];
                    for c in 0..g.chan_in {
                        for ki in 0..k {
                            for kj in 0..k {
                                let ih = oh as isize * s + ki * d - p;
                                let iw = ow as isize * s + kj * d - p;
                                if ih < 0
                                    || iw < 0
                                    || ih >= g.h_in as isize
                                    || iw >= g.w_in as isize
                                {
                                    continue;
                                }
                                let xi = ((n * g.chan_in + c) * g.h_in + ih as usize) * g.w_in
                                    + iw as usize;
                                let wi = ((o * g.chan_in + c) * g.kernel + ki as usize) * g.kernel
                                    + kj as usize;
                                acc += x[xi] * w[wi];
                            }
                        }
                    }
                    y[((n * g.chan_out + o) * g.h_out + oh) * g.w_out + ow] = acc;
                }
            }
        }
    }
    y
}

/// `Σ aᵢ·bᵢ`.
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Central finite differences of `f` at `v`, every coordinate.
pub(crate) fn fd(v: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let eps = 1e-5;
    (0..v.len())
        .map(|i| {
            let (mut a, mut b) = (v.to_vec(), v.to_vec());
            a[i] += eps;
            b[i] -= eps;
            (f(&a) - f(&b)) / (2.0 * eps)
        })
        .collect()
}

/// Element-wise `|got − want| ≤ tol · (1 + |want|)`, naming the first element that differs.
pub(crate) fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// Direct-loop pooling; `max` picks max-pooling, else average with divisor k².
pub(crate) fn pool_ref(g: &Pool2dGeom, x: &[f64], max: bool) -> Vec<f64> {
    let (k, s, p) = (g.kernel as isize, g.stride as isize, g.padding as isize);
    let mut y = Vec::new();
    for n in 0..g.planes {
        for oh in 0..g.h_out as isize {
            for ow in 0..g.w_out as isize {
                let mut vals = Vec::new();
                for ih in oh * s - p..oh * s - p + k {
                    for iw in ow * s - p..ow * s - p + k {
                        if ih >= 0 && iw >= 0 && ih < g.h_in as isize && iw < g.w_in as isize {
                            vals.push(x[(n * g.h_in + ih as usize) * g.w_in + iw as usize]);
                        }
                    }
                }
                y.push(if max {
                    vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
                } else {
                    vals.iter().sum::<f64>() / (g.kernel * g.kernel) as f64
                });
            }
        }
    }
    y
}

/// The input gradient of the convolution `g` by direct loops, for an output gradient `gout`
/// (the transpose of [`conv_ref`]): every output gradient value sent back through each tap to
/// the input it read.
pub(crate) fn conv_input_grad_ref(g: &Conv2dGeom, w: &[f64], gout: &[f64]) -> Vec<f64> {
    let mut gx = vec![0.0; g.batch * g.chan_in * g.h_in * g.w_in];
    conv_taps(g, |yi, xi, wi| gx[xi] += gout[yi] * w[wi]);
    gx
}

/// Direct-loop gradients of the weights (O, C, K, K) and the bias (O,) of the convolution `g`
/// for input `x` and output gradient `gout`: `dw[o][c][ki][kj] = Σ gout[n][o][oh][ow] ·
/// x[n][c][oh·s + ki·d − p][ow·s + kj·d − p]` over the taps inside the image.
pub(crate) fn conv_weight_grad_ref(
    g: &Conv2dGeom,
    x: &[f64],
    gout: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let mut gw = vec![0.0; g.chan_out * g.chan_in * g.kernel * g.kernel];
    conv_taps(g, |yi, xi, wi| gw[wi] += gout[yi] * x[xi]);
    let plane = g.h_out * g.w_out;
    let mut gb = vec![0.0; g.chan_out];
    for (i, line) in gout.chunks_exact(plane).enumerate() {
        gb[i % g.chan_out] += line.iter().sum::<f64>();
    }
    (gw, gb)
}

/// Calls `f(output, input, weight)` with the flat indices of every product of the convolution
/// `g`: each output value, each tap of its window that falls inside the image (not the padding),
/// the input value it reads and the weight it multiplies.
fn conv_taps(g: &Conv2dGeom, mut f: impl FnMut(usize, usize, usize)) {
    let k = g.kernel;
    for n in 0..g.batch {
        for o in 0..g.chan_out {
            for oh in 0..g.h_out {
                for ow in 0..g.w_out {
                    let yi = ((n * g.chan_out + o) * g.h_out + oh) * g.w_out + ow;
                    for c in 0..g.chan_in {
                        for ki in 0..k {
                            for kj in 0..k {
                                // the padded input position this tap reads
                                let ih = oh * g.stride + ki * g.dilation;
                                let iw = ow * g.stride + kj * g.dilation;
                                if ih < g.padding
                                    || iw < g.padding
                                    || ih - g.padding >= g.h_in
                                    || iw - g.padding >= g.w_in
                                {
                                    continue;
                                }
                                let xi = ((n * g.chan_in + c) * g.h_in + ih - g.padding) * g.w_in
                                    + iw
                                    - g.padding;
                                f(yi, xi, ((o * g.chan_in + c) * k + ki) * k + kj);
                            }
                        }
                    }
                }
            }
        }
    }
}
