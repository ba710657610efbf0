//! The portable layer kernels (`LayerKernels`'s defaults, dfdx ops: gather, matmul, max, mean)
//! agree with typenet's CPU kernels: forward outputs and the gradients of input, weight and bias, on random inputs, over
//! geometries with stride 2, padding, odd sizes and 1×1 inputs. The CPU kernels are the oracle
//! (they are gradient-checked against finite differences in `gradcheck_conv.rs`).

use typenet::nn::device::{portable, Conv2dGeom, Pool2dGeom, Pooling};
use typenet::prelude::*;

type X = Tensor<(usize, usize, usize, usize), f32, Cpu>;

/// Largest |a − b| over two equally long vectors (and a length check).
fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Output and gradients of `sum(y · r)` for a random `r` (so every output has its own gradient).
struct Run {
    y: Vec<f32>,
    grads: Vec<Vec<f32>>,
}

/// Batch, channels in, height, width, channels out, kernel, stride, padding.
const CONVS: [[usize; 8]; 9] = [
    [2, 3, 7, 7, 4, 3, 1, 0],
    [2, 3, 7, 5, 4, 3, 2, 1],
    [1, 2, 8, 8, 3, 5, 1, 2],
    [3, 1, 9, 6, 2, 2, 2, 0],
    [1, 1, 1, 1, 2, 1, 1, 0],
    [2, 2, 1, 1, 3, 3, 1, 1],
    [1, 4, 5, 3, 1, 3, 2, 3],
    [2, 1, 6, 6, 2, 7, 1, 3],
    [1, 3, 4, 4, 5, 4, 2, 1],
];

fn conv_case(c: [usize; 8], fallback: bool) -> Run {
    let [b, ci, h, w, co, k, s, p] = c;
    let g = Conv2dGeom::new(b, ci, h, w, co, k, s, p).expect("a valid geometry");
    // the same seed for both runs: identical x, weight, bias and r
    let dev = Cpu::seed_from_u64(c.iter().fold(7, |a, &v| a * 31 + v as u64));
    let x: X = dev.sample_normal_like(&(b, ci, h, w));
    let wt = dev.sample_normal_like(&(co, ci, k, k));
    let bias = dev.sample_normal_like(&(co,));
    let out = (b, co, g.h_out, g.w_out);
    let r: X = dev.sample_normal_like(&out);
    let y = if fallback {
        portable::conv2d(x.leaky_trace(), &wt, &bias, g, out)
    } else {
        Cpu::try_conv2d(x.leaky_trace(), &wt, &bias, g, out)
    }
    .expect("sizes match the geometry");
    let yv = y.as_vec();
    let gr = (y * r).sum().backward();
    Run {
        y: yv,
        grads: vec![
            gr.get(&x).as_vec(),
            gr.get(&wt).as_vec(),
            gr.get(&bias).as_vec(),
        ],
    }
}

#[test]
fn conv_fallback_matches_the_cpu_kernel() {
    let mut worst = 0.0f32;
    for c in CONVS {
        let (fast, slow) = (conv_case(c, false), conv_case(c, true));
        let mut diffs = vec![max_diff(&slow.y, &fast.y)];
        diffs.extend(
            slow.grads
                .iter()
                .zip(&fast.grads)
                .map(|(a, b)| max_diff(a, b)),
        );
        for (d, what) in diffs
            .iter()
            .zip(["output", "input grad", "weight grad", "bias grad"])
        {
            assert!(*d < 1e-4, "conv {c:?}: {what} differs by {d}");
        }
        worst = diffs.into_iter().fold(worst, f32::max);
    }
    println!("conv: largest difference {worst:e}");
}

/// Planes, height, width, kernel, stride, padding.
const POOLS: [[usize; 6]; 8] = [
    [3, 6, 6, 2, 2, 0],
    [2, 7, 5, 3, 2, 1],
    [2, 7, 7, 3, 1, 1],
    [1, 1, 1, 1, 1, 0],
    [2, 1, 1, 3, 1, 1],
    [4, 9, 8, 2, 2, 1],
    [1, 5, 5, 5, 1, 2],
    // windows of padding alone (padding ≥ kernel): output 0, no gradient
    [2, 3, 3, 2, 2, 2],
];

fn pool_case(c: [usize; 6], kind: Pooling, fallback: bool) -> Run {
    let [planes, h, w, k, s, p] = c;
    let g = Pool2dGeom::new(planes, h, w, k, s, p).expect("a valid geometry");
    let dev = Cpu::seed_from_u64(c.iter().fold(11, |a, &v| a * 31 + v as u64));
    let x: X = dev.sample_normal_like(&(1, planes, h, w));
    let out = (1, planes, g.h_out, g.w_out);
    let r: X = dev.sample_normal_like(&out);
    let y = if fallback {
        portable::pool2d(x.leaky_trace(), kind, g, out)
    } else {
        Cpu::try_pool2d(x.leaky_trace(), kind, g, out)
    }
    .expect("sizes match the geometry");
    let yv = y.as_vec();
    let gr = (y * r).sum().backward();
    Run {
        y: yv,
        grads: vec![gr.get(&x).as_vec()],
    }
}

#[test]
fn pool_fallback_matches_the_cpu_kernel() {
    let mut worst = 0.0f32;
    for c in POOLS {
        for kind in [Pooling::Max, Pooling::Avg] {
            let (fast, slow) = (pool_case(c, kind, false), pool_case(c, kind, true));
            let (dy, dx) = (
                max_diff(&slow.y, &fast.y),
                max_diff(&slow.grads[0], &fast.grads[0]),
            );
            assert!(dy < 1e-4, "{kind:?} pool {c:?}: output differs by {dy}");
            assert!(dx < 1e-4, "{kind:?} pool {c:?}: input grad differs by {dx}");
            worst = worst.max(dy).max(dx);
        }
    }
    println!("pool: largest difference {worst:e}");
}

#[test]
fn wrong_sizes_are_errors_not_panics() {
    let dev = Cpu::default();
    let g = Conv2dGeom::new(1, 1, 4, 4, 1, 3, 1, 0).expect("valid");
    let x: X = dev.zeros_like(&(1, 1, 4, 5));
    let (w, b) = (dev.zeros_like(&(1, 1, 3, 3)), dev.zeros_like(&(1,)));
    assert!(portable::conv2d(x.clone(), &w, &b, g, (1usize, 1usize, 2usize, 2usize)).is_err());
    assert!(Cpu::try_conv2d(x.clone(), &w, &b, g, (1usize, 1usize, 2usize, 2usize)).is_err());
    let p = Pool2dGeom::new(1, 4, 4, 2, 2, 0).expect("valid");
    assert!(portable::pool2d(x.clone(), Pooling::Max, p, (4usize,)).is_err());
    assert!(Cpu::try_pool2d(x, Pooling::Avg, p, (4usize,)).is_err());
}

/// A LeNet block's forward pass on any [`LayerKernels`] device: the layers name no device.
fn lenet_block<D: LayerKernels<f32> + DeviceBuildExt>(dev: &D) -> Tensor<Rank2<2, 1176>, f32, D> {
    let m = dev.build_module::<(Conv2D<1, 6, 5, 1, 2>, ReLU, MaxPool2D<2, 2>, Flatten2D), f32>();
    m.forward(dev.zeros::<Rank4<2, 1, 28, 28>>())
}

#[test]
fn layers_are_generic_over_the_device() {
    let y = lenet_block(&Cpu::seed_from_u64(0));
    assert_eq!(y.shape().concrete(), [2, 1176]);
}
