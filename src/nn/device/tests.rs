//! [`LayerKernels`] on both of its paths: the CPU's fused kernels (its override) and the
//! [`portable`] compositions (the defaults, which a new device gets from an empty
//! `impl LayerKernels<E> for MyDevice {}`). Each path runs the same checks, in f64, against
//! independent oracles: outputs against the definitions as direct loops, gradients of input,
//! weight and bias against central finite differences of those loops.

use super::{portable, BatchNormGeom, Conv2dGeom, LayerKernels, Pool2dGeom, Pooling, SizeError};
use crate::nn::kernels::oracle::{assert_close, conv_input_grad_ref, conv_ref, dot, fd, pool_ref};
use crate::prelude::*;

/// An implementation of the layer kernels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// `Cpu`'s override: typenet's kernels.
    Cpu,
    /// The trait's defaults, [`portable`]: dfdx ops.
    Portable,
}
const PATHS: [Path; 2] = [Path::Cpu, Path::Portable];

type Dyn4 = (usize, usize, usize, usize);
type Traced<S> = Tensor<S, f64, Cpu, OwnedTape<f64, Cpu>>;

fn conv(
    path: Path,
    x: Traced<Dyn4>,
    w: &Tensor<Dyn4, f64, Cpu>,
    b: &Tensor<(usize,), f64, Cpu>,
    g: Conv2dGeom,
    out: Dyn4,
) -> std::result::Result<Traced<Dyn4>, CpuError> {
    match path {
        Path::Cpu => Cpu::try_conv2d(x, w, b, g, out),
        Path::Portable => portable::conv2d(x, w, b, g, out),
    }
}

fn pool(path: Path, x: Traced<Dyn4>, kind: Pooling, g: Pool2dGeom) -> Traced<Dyn4> {
    let out = (1, g.planes, g.h_out, g.w_out);
    match path {
        Path::Cpu => Cpu::try_pool2d(x, kind, g, out),
        Path::Portable => portable::pool2d(x, kind, g, out),
    }
    .expect("sizes match the geometry")
}

fn linear<const I: usize, const O: usize>(
    path: Path,
    x: Traced<(usize, usize, Const<I>)>,
    w: &Tensor<Rank2<O, I>, f64, Cpu>,
    b: &Tensor<Rank1<O>, f64, Cpu>,
) -> Traced<(usize, usize, Const<O>)> {
    let (d0, d1, _) = *x.shape();
    let out = (d0, d1, Const);
    match path {
        Path::Cpu => Cpu::try_linear(x, w, b, d0 * d1, out),
        Path::Portable => portable::linear(x, w, b, d0 * d1, out),
    }
    .expect("sizes match")
}

/// Batch, channels in, height, width, channels out, kernel, stride, padding: odd sizes, 1×1
/// inputs, stride 2, padding up to 3 with the kernel as large as the padded input, more images
/// than one parallel task of the CPU kernel takes.
const CONVS: [[usize; 8]; 7] = [
    [9, 2, 5, 4, 3, 3, 1, 1],
    [2, 3, 7, 5, 4, 3, 2, 1],
    [1, 1, 1, 1, 2, 1, 1, 0],
    [2, 2, 1, 1, 3, 3, 1, 1],
    [1, 1, 5, 6, 2, 7, 2, 3],
    [2, 3, 6, 6, 2, 4, 2, 2],
    [1, 2, 3, 3, 1, 5, 1, 1],
];

#[test]
fn conv2d_values_and_gradients_on_both_paths() {
    for path in PATHS {
        for c in CONVS {
            let [bt, ci, h, w, co, k, s, p] = c;
            let g = Conv2dGeom::new(bt, ci, h, w, co, k, s, p).expect("fits");
            let dev = Cpu::seed_from_u64(c.iter().fold(3, |a, &v| a * 31 + v as u64));
            let x: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&(bt, ci, h, w));
            let wt: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&(co, ci, k, k));
            let bias: Tensor<(usize,), f64, Cpu> = dev.sample_normal_like(&(co,));
            let out = (bt, co, g.h_out, g.w_out);
            let r: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&out);
            let y = conv(path, x.leaky_trace(), &wt, &bias, g, out).expect("sizes match");
            let (xv, wv, bv, rv) = (x.as_vec(), wt.as_vec(), bias.as_vec(), r.as_vec());
            let what = |t: &str| format!("{path:?} conv {c:?}: {t}");
            assert_close(&what("y"), &y.as_vec(), &conv_ref(&g, &xv, &wv, &bv), 1e-12);
            // L = Σ r·y, so dL/dy = r.
            let grads = (y * r).sum().backward();
            let want_dx = fd(&xv, |x| dot(&rv, &conv_ref(&g, x, &wv, &bv)));
            let want_dw = fd(&wv, |w| dot(&rv, &conv_ref(&g, &xv, w, &bv)));
            let want_db = fd(&bv, |b| dot(&rv, &conv_ref(&g, &xv, &wv, b)));
            assert_close(&what("dx"), &grads.get(&x).as_vec(), &want_dx, 1e-6);
            assert_close(&what("dw"), &grads.get(&wt).as_vec(), &want_dw, 1e-6);
            assert_close(&what("db"), &grads.get(&bias).as_vec(), &want_db, 1e-6);
        }
    }
}

#[test]
fn pool2d_values_and_gradients_on_both_paths() {
    // planes, height, width, kernel, stride, padding (every window holds an input element)
    const POOLS: [[usize; 6]; 5] = [
        [3, 7, 5, 2, 2, 0],
        [2, 1, 1, 1, 1, 0],
        [2, 6, 6, 3, 2, 1],
        [1, 5, 4, 2, 1, 1],
        [2, 7, 7, 3, 1, 1],
    ];
    for path in PATHS {
        for c in POOLS {
            let [planes, h, w, k, s, p] = c;
            let g = Pool2dGeom::new(planes, h, w, k, s, p).expect("fits");
            for kind in [Pooling::Max, Pooling::Avg] {
                let max = kind == Pooling::Max;
                // continuous random inputs: every window's maximum is unique
                let dev = Cpu::seed_from_u64(c.iter().fold(5, |a, &v| a * 31 + v as u64));
                let x: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&(1, planes, h, w));
                let r: Tensor<Dyn4, f64, Cpu> =
                    dev.sample_normal_like(&(1, planes, g.h_out, g.w_out));
                let y = pool(path, x.leaky_trace(), kind, g);
                let (xv, rv) = (x.as_vec(), r.as_vec());
                let what = |t: &str| format!("{path:?} {kind:?} pool {c:?}: {t}");
                assert_close(&what("y"), &y.as_vec(), &pool_ref(&g, &xv, max), 1e-12);
                let grads = (y * r).sum().backward();
                let want = fd(&xv, |x| dot(&rv, &pool_ref(&g, x, max)));
                assert_close(&what("dx"), &grads.get(&x).as_vec(), &want, 1e-6);
            }
        }
    }
}

/// `y = x · wᵀ + b` by direct loops over `rows` rows.
fn linear_ref(rows: usize, (i, o): (usize, usize), x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let mut y = Vec::with_capacity(rows * o);
    for r in 0..rows {
        for j in 0..o {
            y.push(b[j] + (0..i).map(|k| x[r * i + k] * w[j * i + k]).sum::<f64>());
        }
    }
    y
}

/// The gradients of `L = Σ r·y` for `y = x · wᵀ + b`, derived by hand and summed by direct
/// loops: `dx = r · w`, `dw = rᵀ · x`, `db` = column sums of `r`.
fn linear_grads_ref(
    rows: usize,
    (i, o): (usize, usize),
    x: &[f64],
    w: &[f64],
    r: &[f64],
) -> [Vec<f64>; 3] {
    let mut dx = vec![0.0; rows * i];
    let mut dw = vec![0.0; o * i];
    let mut db = vec![0.0; o];
    for row in 0..rows {
        for j in 0..o {
            let rj = r[row * o + j];
            db[j] += rj;
            for k in 0..i {
                dx[row * i + k] += rj * w[j * i + k];
                dw[j * i + k] += rj * x[row * i + k];
            }
        }
    }
    [dx, dw, db]
}

/// Runs [`linear`] on `(d0, d1, I)` inputs and checks the output against direct loops and the
/// gradients against [`linear_grads_ref`] and, when `finite_differences`, central differences.
fn check_linear<const I: usize, const O: usize>(
    path: Path,
    (d0, d1): (usize, usize),
    finite_differences: bool,
) {
    let dev = Cpu::seed_from_u64(11);
    let x: Tensor<(usize, usize, Const<I>), f64, Cpu> = dev.sample_normal_like(&(d0, d1, Const));
    let w: Tensor<Rank2<O, I>, f64, Cpu> = dev.sample_normal();
    let b: Tensor<Rank1<O>, f64, Cpu> = dev.sample_normal();
    let r: Tensor<(usize, usize, Const<O>), f64, Cpu> = dev.sample_normal_like(&(d0, d1, Const));
    let y = linear(path, x.leaky_trace(), &w, &b);
    let rows = d0 * d1;
    let (xv, wv, bv, rv) = (x.as_vec(), w.as_vec(), b.as_vec(), r.as_vec());
    let what = |t: &str| format!("{path:?} linear {rows}×{I}→{O}: {t}");
    let want = linear_ref(rows, (I, O), &xv, &wv, &bv);
    assert_close(&what("y"), &y.as_vec(), &want, 1e-12);
    let grads = (y * r).sum().backward();
    let got = [
        grads.get(&x).as_vec(),
        grads.get(&w).as_vec(),
        grads.get(&b).as_vec(),
    ];
    let derived = linear_grads_ref(rows, (I, O), &xv, &wv, &rv);
    for ((name, got), want) in ["dx", "dw", "db"].iter().zip(&got).zip(&derived) {
        assert_close(&what(name), got, want, 1e-12);
    }
    if finite_differences {
        let loss = |x: &[f64], w: &[f64], b: &[f64]| dot(&rv, &linear_ref(rows, (I, O), x, w, b));
        assert_close(
            &what("dx (fd)"),
            &got[0],
            &fd(&xv, |x| loss(x, &wv, &bv)),
            1e-6,
        );
        assert_close(
            &what("dw (fd)"),
            &got[1],
            &fd(&wv, |w| loss(&xv, w, &bv)),
            1e-6,
        );
        assert_close(
            &what("db (fd)"),
            &got[2],
            &fd(&bv, |b| loss(&xv, &wv, b)),
            1e-6,
        );
    }
}

#[test]
fn linear_values_and_gradients_on_both_paths() {
    for path in PATHS {
        check_linear::<5, 4>(path, (2, 3), true);
        // 2048·64·32 = 2²² multiply-adds: the CPU kernel splits each product over the threads
        check_linear::<64, 32>(path, (4, 512), false);
    }
}

#[test]
fn wrong_sizes_are_size_errors_on_both_paths() {
    let dev = Cpu::default();
    let g = Conv2dGeom::new(1, 1, 4, 4, 1, 3, 1, 0).expect("valid");
    let x: Tensor<Dyn4, f64, Cpu> = dev.zeros_like(&(1, 1, 4, 5));
    let w: Tensor<Dyn4, f64, Cpu> = dev.zeros_like(&(1, 1, 3, 3));
    let b: Tensor<(usize,), f64, Cpu> = dev.zeros_like(&(1,));
    let lw: Tensor<Rank2<4, 5>, f64, Cpu> = dev.zeros();
    let lb: Tensor<Rank1<4>, f64, Cpu> = dev.zeros();
    let lx: Tensor<(usize, Const<5>), f64, Cpu> = dev.zeros_like(&(3, Const));
    for path in PATHS {
        let out = (1, 1, 2, 2);
        let err = conv(path, x.leaky_trace(), &w, &b, g, out).expect_err("input 4×5, not 4×4");
        assert!(
            matches!(err, CpuError::WrongNumElements),
            "{path:?}: {err:?}"
        );
        let p = Pool2dGeom::new(1, 4, 4, 2, 2, 0).expect("valid");
        let pooled = match path {
            Path::Cpu => Cpu::try_pool2d(x.leaky_trace(), Pooling::Max, p, (4usize,)),
            Path::Portable => portable::pool2d(x.leaky_trace(), Pooling::Max, p, (4usize,)),
        };
        assert!(pooled.is_err(), "{path:?}: pool of 20 elements as 16");
        // 3 rows claimed as 2
        let linear = match path {
            Path::Cpu => Cpu::try_linear(lx.leaky_trace(), &lw, &lb, 2, (2usize, Const::<4>)),
            Path::Portable => portable::linear(lx.leaky_trace(), &lw, &lb, 2, (2usize, Const::<4>)),
        };
        assert!(
            linear.is_err(),
            "{path:?}: 15 input elements for 2 rows of 5"
        );
    }
    assert_eq!(
        SizeError::check_linear(2, (5, 4), 15, 8),
        Err(SizeError::Elements {
            op: "linear",
            tensor: "input",
            expected: 10,
            found: 15
        })
    );
    assert_eq!(
        SizeError::check_linear(2, (5, 4), 10, 8).and(SizeError::check_pool(
            &Pool2dGeom::new(1, 4, 4, 2, 2, 0).expect("valid"),
            16,
            4
        )),
        Ok(())
    );
}

#[test]
fn typed_conv_layer_gradients_through_the_tape() {
    // Conv2D<2, 3, 3, 2, 1> on (2, 2, 7, 6) in f64; L = Σ r·y.
    let dev = Cpu::seed_from_u64(3);
    let m = dev.build_module::<Conv2D<2, 3, 3, 2, 1>, f64>();
    let x: Tensor<Rank4<2, 2, 7, 6>, f64, _> = dev.sample_normal();
    let r: Tensor<Rank4<2, 3, 4, 3>, f64, _> = dev.sample_normal();
    // leaky: keep the input's gradient too (alloc_grads keeps only the parameters')
    let y = m.forward(x.leaky_trace());
    let grads = (y * r.clone()).sum().backward();
    let (gw, gx) = (grads.get(&m.weight).as_vec(), grads.get(&x).as_vec());

    let w0 = m.weight.as_vec();
    let g = Conv2dGeom::new(2, 2, 7, 6, 3, 3, 2, 1).expect("fits");
    let (xv, bv, rv) = (x.as_vec(), m.bias.as_vec(), r.as_vec());
    assert_close(
        "y",
        &m.forward(x.clone()).as_vec(),
        &conv_ref(&g, &xv, &w0, &bv),
        1e-12,
    );
    assert_close(
        "dw",
        &gw,
        &fd(&w0, |w| dot(&rv, &conv_ref(&g, &xv, w, &bv))),
        1e-6,
    );
    assert_close(
        "dx",
        &gx,
        &fd(&xv, |x| dot(&rv, &conv_ref(&g, x, &w0, &bv))),
        1e-6,
    );
}

/// Batch norm's training forward pass by direct loops over `(batch, C, plane)` in f64: the
/// output, and the batch's mean and biased variance per channel.
fn batch_norm_ref(
    (batch, chan, plane): (usize, usize, usize),
    x: &[f64],
    scale: &[f64],
    bias: &[f64],
    eps: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let at = |b: usize, c: usize, i: usize| (b * chan + c) * plane + i;
    let n = (batch * plane) as f64;
    let (mut mean, mut var) = (vec![0.0; chan], vec![0.0; chan]);
    let mut y = vec![0.0; x.len()];
    for c in 0..chan {
        let values = || (0..batch).flat_map(move |b| (0..plane).map(move |i| at(b, c, i)));
        mean[c] = values().map(|j| x[j]).sum::<f64>() / n;
        var[c] = values().map(|j| (x[j] - mean[c]).powi(2)).sum::<f64>() / n;
        for j in values() {
            y[j] = (x[j] - mean[c]) / (var[c] + eps).sqrt() * scale[c] + bias[c];
        }
    }
    (y, mean, var)
}

type Traced3<const C: usize> = Traced<(usize, Const<C>, usize)>;

fn batch_norm_train<const C: usize>(
    path: Path,
    x: Traced3<C>,
    (scale, bias): (&Tensor<Rank1<C>, f64, Cpu>, &Tensor<Rank1<C>, f64, Cpu>),
    running: (
        &mut Tensor<Rank1<C>, f64, Cpu>,
        &mut Tensor<Rank1<C>, f64, Cpu>,
    ),
    g: BatchNormGeom,
) -> Traced3<C> {
    match path {
        Path::Cpu => Cpu::try_batch_norm_train(x, scale, bias, running, g),
        Path::Portable => portable::batch_norm_train(x, scale, bias, running, g),
    }
    .expect("sizes match")
}

/// Training-mode batch norm of `(batch, C, plane)` on one path against [`batch_norm_ref`]: the
/// output, the running statistics (momentum 0.3 from random starts, the variance unbiased) and
/// the gradients of `L = Σ r·y` for the input, scale and bias against central differences.
fn check_batch_norm<const C: usize>(path: Path, batch: usize, plane: usize, seed: u64) {
    let dev = Cpu::seed_from_u64(seed);
    let shape = (batch, Const::<C>, plane);
    let x: Tensor<(usize, Const<C>, usize), f64, Cpu> = dev.sample_normal_like(&shape);
    let r: Tensor<(usize, Const<C>, usize), f64, Cpu> = dev.sample_normal_like(&shape);
    let scale: Tensor<Rank1<C>, f64, Cpu> = dev.sample_normal();
    let bias: Tensor<Rank1<C>, f64, Cpu> = dev.sample_normal();
    let mut mean: Tensor<Rank1<C>, f64, Cpu> = dev.sample_normal();
    let mut var: Tensor<Rank1<C>, f64, Cpu> = dev.sample_uniform();
    let (m0, v0) = (mean.as_vec(), var.as_vec());
    let g = BatchNormGeom {
        batch,
        plane,
        epsilon: 1e-3,
        momentum: 0.3,
    };
    let y = batch_norm_train(
        path,
        x.leaky_trace(),
        (&scale, &bias),
        (&mut mean, &mut var),
        g,
    );
    let dims = (batch, C, plane);
    let (xv, sv, bv, rv) = (x.as_vec(), scale.as_vec(), bias.as_vec(), r.as_vec());
    let what = |t: &str| format!("{path:?} batch norm {dims:?}: {t}");
    let (want_y, bmean, bvar) = batch_norm_ref(dims, &xv, &sv, &bv, 1e-3);
    assert_close(&what("y"), &y.as_vec(), &want_y, 1e-10);
    let n = (batch * plane) as f64;
    let want_mean: Vec<f64> = (0..C).map(|c| 0.7 * m0[c] + 0.3 * bmean[c]).collect();
    let want_var: Vec<f64> = (0..C)
        .map(|c| 0.7 * v0[c] + 0.3 * bvar[c] * n / (n - 1.0))
        .collect();
    assert_close(&what("running mean"), &mean.as_vec(), &want_mean, 1e-12);
    assert_close(&what("running var"), &var.as_vec(), &want_var, 1e-12);
    let grads = (y * r).sum().backward();
    let loss = |x: &[f64], s: &[f64], b: &[f64]| dot(&rv, &batch_norm_ref(dims, x, s, b, 1e-3).0);
    let want_dx = fd(&xv, |x| loss(x, &sv, &bv));
    let want_ds = fd(&sv, |s| loss(&xv, s, &bv));
    let want_db = fd(&bv, |b| loss(&xv, &sv, b));
    assert_close(&what("dx"), &grads.get(&x).as_vec(), &want_dx, 1e-6);
    assert_close(&what("dscale"), &grads.get(&scale).as_vec(), &want_ds, 1e-6);
    assert_close(&what("dbias"), &grads.get(&bias).as_vec(), &want_db, 1e-6);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// Random batch and plane sizes (1×2 up to 4×19, a plane shorter and longer than the
    /// kernel's eight lanes), one, three and nine channels.
    #[test]
    fn batch_norm_values_stats_and_gradients_on_both_paths(
        batch in 1usize..5,
        plane in 1usize..20,
        seed in 0u64..1_000,
    ) {
        let plane = if batch * plane < 2 { 2 } else { plane };
        for path in PATHS {
            check_batch_norm::<1>(path, batch, plane, seed);
            check_batch_norm::<3>(path, batch, plane, seed);
            check_batch_norm::<9>(path, batch, plane, seed);
        }
    }
}

/// The CPU's kernels against the portable composition in f32 at a ResNet block's size (long
/// reductions in the precision training uses): output, running statistics, and the input's,
/// scale's and bias's gradients, in training and inference.
#[test]
fn batch_norm_cpu_kernels_match_the_portable_default_in_f32() {
    type X = Tensor<(usize, Const<16>, usize), f32, Cpu>;
    let dev = Cpu::seed_from_u64(4);
    let shape = (8, Const::<16>, 31 * 33);
    // an offset mean: the variance must come from centred values
    let x: X = (dev.sample_normal_like(&shape) * 3.0f32) + 5.0f32;
    let r: X = dev.sample_normal_like(&shape);
    let scale: Tensor<Rank1<16>, f32, Cpu> = dev.sample_normal();
    let bias: Tensor<Rank1<16>, f32, Cpu> = dev.sample_normal();
    let g = BatchNormGeom {
        batch: 8,
        plane: 31 * 33,
        epsilon: 1e-5,
        momentum: 0.1,
    };
    let mut out = Vec::new();
    for path in PATHS {
        let (mut mean, mut var) = (dev.zeros::<Rank1<16>>(), dev.ones::<Rank1<16>>());
        let running = (&mut mean, &mut var);
        let y = match path {
            Path::Cpu => Cpu::try_batch_norm_train(x.leaky_trace(), &scale, &bias, running, g),
            Path::Portable => {
                portable::batch_norm_train(x.leaky_trace(), &scale, &bias, running, g)
            }
        }
        .expect("sizes match");
        let yv = y.as_vec();
        let grads = (y * r.clone()).sum().backward();
        let infer = match path {
            Path::Cpu => Cpu::try_batch_norm_infer(x.clone(), &scale, &bias, (&mean, &var), g),
            Path::Portable => {
                portable::batch_norm_infer(x.clone(), &scale, &bias, (&mean, &var), g)
            }
        }
        .expect("sizes match");
        out.push([
            yv,
            mean.as_vec(),
            var.as_vec(),
            grads.get(&x).as_vec(),
            grads.get(&scale).as_vec(),
            grads.get(&bias).as_vec(),
            infer.as_vec(),
        ]);
    }
    let names = [
        "y",
        "running mean",
        "running var",
        "dx",
        "dscale",
        "dbias",
        "inference y",
    ];
    for ((name, cpu), portable) in names.iter().zip(&out[0]).zip(&out[1]) {
        let (cpu, portable): (Vec<f64>, Vec<f64>) = (
            cpu.iter().map(|&v| v.into()).collect(),
            portable.iter().map(|&v| v.into()).collect(),
        );
        // sums of 8,184 values per channel: the portable path sums in f32
        let tol = if name.starts_with('d') { 1e-3 } else { 1e-4 };
        assert_close(name, &cpu, &portable, tol);
    }
}

#[test]
fn batch_norm_sizes_are_checked_on_both_paths() {
    let dev = Cpu::default();
    let x: Tensor<(usize, Const<2>, usize), f64, Cpu> = dev.zeros_like(&(3, Const, 4));
    let (scale, bias) = (dev.ones::<Rank1<2>>(), dev.zeros::<Rank1<2>>());
    let g = BatchNormGeom {
        batch: 3,
        plane: 5,
        epsilon: 1e-5,
        momentum: 0.1,
    };
    for path in PATHS {
        let (mut m, mut v) = (dev.zeros::<Rank1<2>>(), dev.ones::<Rank1<2>>());
        let train = match path {
            Path::Cpu => {
                Cpu::try_batch_norm_train(x.leaky_trace(), &scale, &bias, (&mut m, &mut v), g)
            }
            Path::Portable => {
                portable::batch_norm_train(x.leaky_trace(), &scale, &bias, (&mut m, &mut v), g)
            }
        };
        assert!(train.is_err(), "{path:?}: 24 elements as 3·2·5");
        let infer = match path {
            Path::Cpu => Cpu::try_batch_norm_infer(x.clone(), &scale, &bias, (&m, &v), g),
            Path::Portable => portable::batch_norm_infer(x.clone(), &scale, &bias, (&m, &v), g),
        };
        assert!(infer.is_err(), "{path:?}: 24 elements as 3·2·5");
        assert_eq!(
            (m.as_vec(), v.as_vec()),
            (vec![0.0; 2], vec![1.0; 2]),
            "{path:?}: stats untouched"
        );
    }
    assert_eq!(
        SizeError::check_batch_norm(&g, 2, 24),
        Err(SizeError::Elements {
            op: "batch_norm",
            tensor: "input",
            expected: 30,
            found: 24
        })
    );
}

/// A GRU over `b` sequences of `s` steps by direct loops (PyTorch's equations, gates reset,
/// update, new; weights `(3·h, i)` and `(3·h, h)` row-major), every step's state `(b, s, h)`.
#[allow(clippy::too_many_arguments)]
fn gru_ref(
    (b, s, i, h): (usize, usize, usize, usize),
    x: &[f64],
    wih: &[f64],
    whh: &[f64],
    bih: &[f64],
    bhh: &[f64],
) -> Vec<f64> {
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let mut y = vec![0.0; b * s * h];
    for n in 0..b {
        let mut state = vec![0.0; h];
        for t in 0..s {
            let xt = &x[(n * s + t) * i..(n * s + t + 1) * i];
            // row `row` of W_ih·x + b_ih and of W_hh·h + b_hh
            let gi = |row: usize| bih[row] + dot(&wih[row * i..(row + 1) * i], xt);
            let gh = |row: usize| bhh[row] + dot(&whh[row * h..(row + 1) * h], &state);
            let next: Vec<f64> = (0..h)
                .map(|j| {
                    let r = sigmoid(gi(j) + gh(j));
                    let z = sigmoid(gi(h + j) + gh(h + j));
                    let nn = (gi(2 * h + j) + r * gh(2 * h + j)).tanh();
                    (1.0 - z) * nn + z * state[j]
                })
                .collect();
            y[(n * s + t) * h..(n * s + t + 1) * h].copy_from_slice(&next);
            state = next;
        }
    }
    y
}

type GruParams<const I: usize, const H: usize> = (
    Tensor<Rank3<3, H, I>, f64, Cpu>,
    Tensor<Rank3<3, H, H>, f64, Cpu>,
    Tensor<Rank2<3, H>, f64, Cpu>,
    Tensor<Rank2<3, H>, f64, Cpu>,
);

fn gru_seq<const I: usize, const H: usize>(
    path: Path,
    x: Traced<(usize, usize, Const<I>)>,
    (wih, whh, bih, bhh): &GruParams<I, H>,
) -> std::result::Result<Traced<(usize, usize, Const<H>)>, CpuError> {
    match path {
        Path::Cpu => Cpu::try_gru_sequence(x, wih, whh, bih, bhh),
        Path::Portable => portable::gru_sequence(x, wih, whh, bih, bhh),
    }
}

/// Both paths of the GRU sequence op on `(b, s, I) → (b, s, H)`: values against direct loops,
/// every gradient against central finite differences of them, and the two paths against each
/// other.
fn check_gru<const I: usize, const H: usize>((b, s): (usize, usize), seed: u64) {
    let dev = Cpu::seed_from_u64(seed);
    let x: Tensor<(usize, usize, Const<I>), f64, Cpu> = dev.sample_normal_like(&(b, s, Const));
    let p: GruParams<I, H> = (
        dev.sample_normal(),
        dev.sample_normal(),
        dev.sample_normal(),
        dev.sample_normal(),
    );
    let r: Tensor<(usize, usize, Const<H>), f64, Cpu> = dev.sample_normal_like(&(b, s, Const));
    let (xv, rv) = (x.as_vec(), r.as_vec());
    let pv = [p.0.as_vec(), p.1.as_vec(), p.2.as_vec(), p.3.as_vec()];
    let dims = (b, s, I, H);
    let loss = |v: [&[f64]; 5]| dot(&rv, &gru_ref(dims, v[0], v[1], v[2], v[3], v[4]));
    let mut per_path = Vec::new();
    for path in PATHS {
        let what = |t: &str| format!("{path:?} gru {dims:?}: {t}");
        let y = gru_seq(path, x.leaky_trace(), &p).expect("a sequence");
        let want = gru_ref(dims, &xv, &pv[0], &pv[1], &pv[2], &pv[3]);
        let yv = y.as_vec();
        assert_close(&what("y"), &yv, &want, 1e-12);
        // L = Σ r·y, so dL/dy = r
        let grads = (y * r.clone()).sum().backward();
        let got = [
            grads.get(&x).as_vec(),
            grads.get(&p.0).as_vec(),
            grads.get(&p.1).as_vec(),
            grads.get(&p.2).as_vec(),
            grads.get(&p.3).as_vec(),
        ];
        let all: [&[f64]; 5] = [&xv, &pv[0], &pv[1], &pv[2], &pv[3]];
        let names = ["dx", "dw_ih", "dw_hh", "db_ih", "db_hh"];
        for (k, name) in names.iter().enumerate() {
            let want = fd(all[k], |v| {
                let mut args = all;
                args[k] = v;
                loss(args)
            });
            assert_close(&what(name), &got[k], &want, 1e-6);
        }
        per_path.push((yv, got));
    }
    let ((y_cpu, g_cpu), (y_port, g_port)) = (&per_path[0], &per_path[1]);
    assert_close("gru y: cpu against portable", y_cpu, y_port, 1e-12);
    for (k, (c, q)) in g_cpu.iter().zip(g_port).enumerate() {
        assert_close(
            &format!("gru gradient {k}: cpu against portable"),
            c,
            q,
            1e-12,
        );
    }
}

#[test]
fn gru_sequence_values_and_gradients_on_both_paths() {
    check_gru::<4, 7>((3, 5), 1);
    check_gru::<1, 1>((1, 1), 2);
    check_gru::<3, 5>((2, 2), 3);
    check_gru::<2, 3>((5, 9), 4);
}

/// The sequences split among threads (19 of them in two uneven groups, on a pool of 3 threads):
/// the CPU's values against direct loops, its gradients against the portable composition's.
#[test]
fn gru_sequence_split_among_threads_matches_the_portable_default() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("a thread pool");
    let (b, s) = (19, 9);
    let dev = Cpu::seed_from_u64(5);
    let x: Tensor<(usize, usize, Const<3>), f64, Cpu> = dev.sample_normal_like(&(b, s, Const));
    let p: GruParams<3, 64> = (
        dev.sample_uniform() * 0.25,
        dev.sample_uniform() * 0.25,
        dev.sample_uniform() * 0.25,
        dev.sample_uniform() * 0.25,
    );
    let r: Tensor<(usize, usize, Const<64>), f64, Cpu> = dev.sample_normal_like(&(b, s, Const));
    let mut per_path = Vec::new();
    for path in PATHS {
        // the tensors hold a tape (not `Send`): only plain vectors leave the pool
        let (yv, got) = pool.install(|| {
            let y = gru_seq(path, x.leaky_trace(), &p).expect("a sequence");
            let yv = y.as_vec();
            let grads = (y * r.clone()).sum().backward();
            let got = [
                grads.get(&x).as_vec(),
                grads.get(&p.0).as_vec(),
                grads.get(&p.1).as_vec(),
                grads.get(&p.2).as_vec(),
                grads.get(&p.3).as_vec(),
            ];
            (yv, got)
        });
        per_path.push((yv, got));
    }
    let pv = [p.0.as_vec(), p.1.as_vec(), p.2.as_vec(), p.3.as_vec()];
    let want = gru_ref((b, s, 3, 64), &x.as_vec(), &pv[0], &pv[1], &pv[2], &pv[3]);
    assert_close("split gru y", &per_path[0].0, &want, 1e-12);
    let names = ["dx", "dw_ih", "dw_hh", "db_ih", "db_hh"];
    for ((name, c), q) in names.iter().zip(&per_path[0].1).zip(&per_path[1].1) {
        assert_close(
            &format!("split gru {name}: cpu against portable"),
            c,
            q,
            1e-11,
        );
    }
}

#[test]
fn gru_sequence_of_no_steps_is_a_size_error_on_both_paths() {
    let dev = Cpu::seed_from_u64(0);
    let p: GruParams<2, 3> = (dev.zeros(), dev.zeros(), dev.zeros(), dev.zeros());
    for path in PATHS {
        let x: Tensor<(usize, usize, Const<2>), f64, Cpu> = dev.zeros_like(&(2, 0, Const));
        let err = gru_seq(path, x.leaky_trace(), &p).expect_err("an empty sequence");
        assert!(
            matches!(err, CpuError::WrongNumElements),
            "{path:?}: {err:?}"
        );
    }
}

/// The CPU's kernel against the portable composition in f32 at the `language_id` model's size,
/// with the last step's state only (as `Gru<I, H>` returns it): output and every gradient.
#[test]
fn gru_sequence_cpu_kernel_matches_the_portable_default_in_f32() {
    type P = (
        Tensor<Rank3<3, 128, 32>, f32, Cpu>,
        Tensor<Rank3<3, 128, 128>, f32, Cpu>,
        Tensor<Rank2<3, 128>, f32, Cpu>,
        Tensor<Rank2<3, 128>, f32, Cpu>,
    );
    let dev = Cpu::seed_from_u64(9);
    let x: Tensor<(usize, usize, Const<32>), f32, Cpu> = dev.sample_normal_like(&(64, 16, Const));
    // PyTorch's initialisation scale, ±1/√H
    let p: P = (
        dev.sample_uniform() * 0.17f32,
        dev.sample_uniform() * 0.17f32,
        dev.sample_uniform() * 0.17f32,
        dev.sample_uniform() * 0.17f32,
    );
    let r: Tensor<(usize, Const<128>), f32, Cpu> = dev.sample_normal_like(&(64, Const));
    let mut out = Vec::new();
    for path in PATHS {
        let (wih, whh, bih, bhh) = (&p.0, &p.1, &p.2, &p.3);
        let y = match path {
            Path::Cpu => Cpu::try_gru_sequence(x.leaky_trace(), wih, whh, bih, bhh),
            Path::Portable => portable::gru_sequence(x.leaky_trace(), wih, whh, bih, bhh),
        }
        .expect("a sequence");
        let last = y.slice((.., 15..16, ..)).reshape_like(&(64, Const::<128>));
        let yv = last.as_vec();
        let grads = (last * r.clone()).sum().backward();
        out.push([
            yv,
            grads.get(&x).as_vec(),
            grads.get(wih).as_vec(),
            grads.get(whh).as_vec(),
            grads.get(bih).as_vec(),
            grads.get(bhh).as_vec(),
        ]);
    }
    let names = ["y", "dx", "dw_ih", "dw_hh", "db_ih", "db_hh"];
    for ((name, cpu), portable) in names.iter().zip(&out[0]).zip(&out[1]) {
        let (cpu, portable): (Vec<f64>, Vec<f64>) = (
            cpu.iter().map(|&v| v.into()).collect(),
            portable.iter().map(|&v| v.into()).collect(),
        );
        // sums over up to 64·16 rows in f32
        let tol = if name.starts_with('d') { 1e-3 } else { 1e-5 };
        assert_close(name, &cpu, &portable, tol);
    }
}

/// Layer normalisation of rows of `m` by direct loops: `(x − mean)/√(var + eps)·gamma + beta`.
fn layer_norm_ref(m: usize, eps: f64, x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let mut y = Vec::with_capacity(x.len());
    for row in x.chunks_exact(m) {
        let mean = row.iter().sum::<f64>() / m as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / m as f64;
        for j in 0..m {
            y.push((row[j] - mean) / (var + eps).sqrt() * gamma[j] + beta[j]);
        }
    }
    y
}

/// Both paths of the layer norm on `(b, s, M)`: values against direct loops, the input's,
/// gamma's and beta's gradients against central finite differences, and the paths against each
/// other.
fn check_layer_norm<const M: usize>((b, s): (usize, usize), eps: f64, seed: u64) {
    let dev = Cpu::seed_from_u64(seed);
    let x: Tensor<(usize, usize, Const<M>), f64, Cpu> =
        dev.sample_normal_like(&(b, s, Const)) * 2.0 + 0.5;
    let gamma: Tensor<Rank1<M>, f64, Cpu> = dev.sample_normal();
    let beta: Tensor<Rank1<M>, f64, Cpu> = dev.sample_normal();
    let r: Tensor<(usize, usize, Const<M>), f64, Cpu> = dev.sample_normal_like(&(b, s, Const));
    let (xv, gv, bv, rv) = (x.as_vec(), gamma.as_vec(), beta.as_vec(), r.as_vec());
    let loss = |x: &[f64], g: &[f64], be: &[f64]| dot(&rv, &layer_norm_ref(M, eps, x, g, be));
    let mut per_path = Vec::new();
    for path in PATHS {
        let what = |t: &str| format!("{path:?} layer norm ({b}, {s}, {M}): {t}");
        let y = match path {
            Path::Cpu => Cpu::try_layer_norm(x.leaky_trace(), &gamma, &beta, eps),
            Path::Portable => portable::layer_norm(x.leaky_trace(), &gamma, &beta, eps),
        }
        .expect("no device error");
        let yv = y.as_vec();
        assert_close(
            &what("y"),
            &yv,
            &layer_norm_ref(M, eps, &xv, &gv, &bv),
            1e-12,
        );
        let grads = (y * r.clone()).sum().backward();
        let got = [
            grads.get(&x).as_vec(),
            grads.get(&gamma).as_vec(),
            grads.get(&beta).as_vec(),
        ];
        let want = [
            fd(&xv, |x| loss(x, &gv, &bv)),
            fd(&gv, |g| loss(&xv, g, &bv)),
            fd(&bv, |be| loss(&xv, &gv, be)),
        ];
        for ((name, got), want) in ["dx", "dgamma", "dbeta"].iter().zip(&got).zip(&want) {
            assert_close(&what(name), got, want, 1e-6);
        }
        per_path.push((yv, got));
    }
    let ((y_cpu, g_cpu), (y_port, g_port)) = (&per_path[0], &per_path[1]);
    assert_close("layer norm y: cpu against portable", y_cpu, y_port, 1e-12);
    for (k, (c, q)) in g_cpu.iter().zip(g_port).enumerate() {
        assert_close(
            &format!("layer norm gradient {k}: cpu against portable"),
            c,
            q,
            1e-10,
        );
    }
}

#[test]
fn layer_norm_values_and_gradients_on_both_paths() {
    check_layer_norm::<7>((3, 5), 1e-5, 1);
    check_layer_norm::<1>((2, 3), 1e-5, 2);
    check_layer_norm::<5>((1, 1), 0.3, 3);
}

/// Multi-head attention by direct loops over `(b, s, m)` rows: per sequence and head of
/// `m / heads` columns, `softmax(q·kᵀ/√(m/heads))·v`.
fn attention_ref(
    (b, s, m, heads): (usize, usize, usize, usize),
    q: &[f64],
    k: &[f64],
    v: &[f64],
) -> Vec<f64> {
    let d = m / heads;
    let at = |t: &[f64], n: usize, i: usize, h: usize, c: usize| t[(n * s + i) * m + h * d + c];
    let mut y = vec![0.0; b * s * m];
    for n in 0..b {
        for h in 0..heads {
            for i in 0..s {
                let scores: Vec<f64> = (0..s)
                    .map(|j| {
                        (0..d)
                            .map(|c| at(q, n, i, h, c) * at(k, n, j, h, c))
                            .sum::<f64>()
                            / (d as f64).sqrt()
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|x| (x - max).exp()).collect();
                let sum: f64 = e.iter().sum();
                for c in 0..d {
                    y[(n * s + i) * m + h * d + c] =
                        (0..s).map(|j| e[j] / sum * at(v, n, j, h, c)).sum::<f64>();
                }
            }
        }
    }
    y
}

/// Both paths of the attention on `(b, s, M)` with `heads` heads: values against direct loops,
/// the gradients of `q`, `k` and `v` against central finite differences, and the paths against
/// each other.
fn check_attention<const M: usize>((b, s): (usize, usize), heads: usize, seed: u64) {
    type X<const M: usize> = Tensor<(usize, usize, Const<M>), f64, Cpu>;
    let dev = Cpu::seed_from_u64(seed);
    let shape = (b, s, Const::<M>);
    let (q, k, v): (X<M>, X<M>, X<M>) = (
        dev.sample_normal_like(&shape),
        dev.sample_normal_like(&shape),
        dev.sample_normal_like(&shape),
    );
    let r: X<M> = dev.sample_normal_like(&shape);
    let (qv, kv, vv, rv) = (q.as_vec(), k.as_vec(), v.as_vec(), r.as_vec());
    let dims = (b, s, M, heads);
    let loss = |q: &[f64], k: &[f64], v: &[f64]| dot(&rv, &attention_ref(dims, q, k, v));
    let mut per_path = Vec::new();
    for path in PATHS {
        let what = |t: &str| format!("{path:?} attention {dims:?}: {t}");
        let (tq, tk, tv) = (q.leaky_trace(), k.leaky_trace(), v.leaky_trace());
        let y = match path {
            Path::Cpu => Cpu::try_attention(tq, tk, tv, heads),
            Path::Portable => portable::attention(tq, tk, tv, heads),
        }
        .expect("heads divide the width");
        let yv = y.as_vec();
        assert_close(&what("y"), &yv, &attention_ref(dims, &qv, &kv, &vv), 1e-12);
        let grads = (y * r.clone()).sum().backward();
        let got = [
            grads.get(&q).as_vec(),
            grads.get(&k).as_vec(),
            grads.get(&v).as_vec(),
        ];
        let want = [
            fd(&qv, |q| loss(q, &kv, &vv)),
            fd(&kv, |k| loss(&qv, k, &vv)),
            fd(&vv, |v| loss(&qv, &kv, v)),
        ];
        for ((name, got), want) in ["dq", "dk", "dv"].iter().zip(&got).zip(&want) {
            assert_close(&what(name), got, want, 1e-6);
        }
        per_path.push((yv, got));
    }
    let ((y_cpu, g_cpu), (y_port, g_port)) = (&per_path[0], &per_path[1]);
    assert_close("attention y: cpu against portable", y_cpu, y_port, 1e-12);
    for (i, (c, p)) in g_cpu.iter().zip(g_port).enumerate() {
        assert_close(
            &format!("attention gradient {i}: cpu against portable"),
            c,
            p,
            1e-10,
        );
    }
}

#[test]
fn attention_values_and_gradients_on_both_paths() {
    check_attention::<6>((3, 5), 2, 1);
    check_attention::<6>((2, 3), 3, 2);
    check_attention::<4>((1, 1), 1, 3);
    // more sequences than one rayon task takes
    check_attention::<8>((9, 4), 2, 4);
}

#[test]
fn attention_heads_must_divide_the_width_on_both_paths() {
    let dev = Cpu::seed_from_u64(0);
    let x: Tensor<(usize, usize, Const<6>), f64, Cpu> = dev.zeros_like(&(2, 3, Const));
    for path in PATHS {
        for heads in [0, 4] {
            let (q, k, v) = (x.leaky_trace(), x.leaky_trace(), x.leaky_trace());
            let err = match path {
                Path::Cpu => Cpu::try_attention(q, k, v, heads),
                Path::Portable => portable::attention(q, k, v, heads),
            }
            .expect_err("heads do not divide the width");
            assert!(
                matches!(err, CpuError::WrongNumElements),
                "{path:?} {heads}: {err:?}"
            );
        }
    }
}

#[test]
fn winograd_sized_conv2d_through_the_cpu_tape_matches_direct_loops() {
    // 64 channels in and out on 32×32 with padding 1: the CPU computes the output and the input
    // gradient by Winograd F(2×2, 3×3) at this size (the weight gradient stays on im2col, checked
    // above). f64, so the transforms' rounding stays far below 1e-12 relative.
    let g = Conv2dGeom::new(2, 64, 32, 32, 64, 3, 1, 1).expect("fits");
    let dev = Cpu::seed_from_u64(17);
    let x: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&(2, 64, 32, 32));
    let wt: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&(64, 64, 3, 3));
    let bias: Tensor<(usize,), f64, Cpu> = dev.sample_normal_like(&(64,));
    let out = (2, 64, 32, 32);
    let r: Tensor<Dyn4, f64, Cpu> = dev.sample_normal_like(&out);
    let y = conv(Path::Cpu, x.leaky_trace(), &wt, &bias, g, out).expect("sizes match");
    let (xv, wv, bv, rv) = (x.as_vec(), wt.as_vec(), bias.as_vec(), r.as_vec());
    assert_close("y", &y.as_vec(), &conv_ref(&g, &xv, &wv, &bv), 1e-12);
    // L = Σ r·y, so dL/dy = r and dL/dx is r sent back through the taps
    let grads = (y * r).sum().backward();
    let want = conv_input_grad_ref(&g, &wv, &rv);
    assert_close("dx", &grads.get(&x).as_vec(), &want, 1e-12);
}
