//! Conv and pool kernels and layers against a naive f64 reference and central finite differences.

use rand::{rngs::StdRng, Rng, SeedableRng};
use typenet::nn::kernels::*;
use typenet::prelude::*;

fn randn(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.gen_range(-1.0..1.0)).collect()
}

/// Direct-loop convolution (the definition), for comparison.
fn conv_ref(g: &Conv2dGeom, x: &[f64], w: &[f64], b: &[f64]) -> Vec<f64> {
    let (k, s, p) = (g.kernel as isize, g.stride as isize, g.padding as isize);
    let mut y = vec![0.0; g.batch * g.chan_out * g.h_out * g.w_out];
    for n in 0..g.batch {
        for o in 0..g.chan_out {
            for oh in 0..g.h_out {
                for ow in 0..g.w_out {
                    let mut acc = b[o];
                    for c in 0..g.chan_in {
                        for ki in 0..k {
                            for kj in 0..k {
                                let ih = oh as isize * s + ki - p;
                                let iw = ow as isize * s + kj - p;
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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Central finite differences of `f` at `v`, every coordinate.
fn fd(v: &[f64], f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
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

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// One geometry: (batch, in, h, w, out, kernel, stride, padding). [`GEOMS`] covers odd sizes,
/// 1×1 inputs, stride 2, padding up to 3 with the kernel as large as the padded input, and
/// LeNet's conv2.
type Geom = (usize, usize, usize, usize, usize, usize, usize, usize);

const GEOMS: [Geom; 9] = [
    // more images than one parallel task takes: partial gradients summed over tasks
    (9, 2, 5, 4, 3, 3, 1, 1),
    (2, 3, 7, 5, 4, 3, 1, 0),
    (1, 1, 1, 1, 2, 1, 1, 0),
    (2, 2, 1, 1, 3, 3, 1, 1),
    (3, 2, 9, 8, 2, 3, 2, 1),
    (1, 1, 5, 6, 2, 7, 2, 3),
    (2, 3, 6, 6, 2, 4, 2, 2),
    (2, 6, 14, 14, 4, 5, 1, 0),
    (1, 2, 3, 3, 1, 5, 1, 1),
];

#[test]
fn conv_forward_and_backward_match_reference_and_finite_differences() {
    let mut rng = StdRng::seed_from_u64(1);
    for &(b, c, h, w, o, k, s, p) in &GEOMS {
        let g = Conv2dGeom::new(b, c, h, w, o, k, s, p).expect("geometry fits");
        let x = randn(&mut rng, b * c * h * w);
        let wt = randn(&mut rng, o * c * k * k);
        let bias = randn(&mut rng, o);
        let y = conv2d_forward(&g, &x, &wt, &bias);
        assert_close(
            &format!("y {g:?}"),
            &y,
            &conv_ref(&g, &x, &wt, &bias),
            1e-12,
        );

        // Loss L = Σ r·y, so dL/dy = r.
        let r = randn(&mut rng, y.len());
        let (mut gw, mut gb, mut gx) = (vec![0.0; wt.len()], vec![0.0; o], vec![0.0; x.len()]);
        conv2d_backward(&g, &x, &wt, &r, &mut gw, &mut gb, Some(&mut gx));
        let tol = 1e-6;
        assert_close(
            "dx",
            &gx,
            &fd(&x, |x| dot(&r, &conv_ref(&g, x, &wt, &bias))),
            tol,
        );
        assert_close(
            "dw",
            &gw,
            &fd(&wt, |w| dot(&r, &conv_ref(&g, &x, w, &bias))),
            tol,
        );
        assert_close(
            "db",
            &gb,
            &fd(&bias, |b| dot(&r, &conv_ref(&g, &x, &wt, b))),
            tol,
        );
    }
}

/// Direct-loop pooling; `max` picks max-pooling, else average with divisor k².
fn pool_ref(g: &Pool2dGeom, x: &[f64], max: bool) -> Vec<f64> {
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

#[test]
fn pools_match_reference_and_finite_differences() {
    let mut rng = StdRng::seed_from_u64(2);
    for &(planes, h, w, k, s, p) in &[
        (3, 7, 5, 2, 2, 0),
        (2, 1, 1, 1, 1, 0),
        (2, 6, 6, 3, 2, 1),
        (1, 5, 4, 2, 1, 1),
    ] {
        let g = Pool2dGeom::new(planes, h, w, k, s, p).expect("geometry fits");
        let x = randn(&mut rng, planes * h * w);
        let r = randn(&mut rng, planes * g.h_out * g.w_out);

        let (y, arg) = max_pool_forward(&g, &x);
        assert_close("max y", &y, &pool_ref(&g, &x, true), 0.0);
        let mut gx = vec![0.0; x.len()];
        max_pool_backward(&g, &arg, &r, &mut gx);
        assert_close(
            "max dx",
            &gx,
            &fd(&x, |x| dot(&r, &pool_ref(&g, x, true))),
            1e-6,
        );

        let y = avg_pool_forward(&g, &x);
        assert_close("avg y", &y, &pool_ref(&g, &x, false), 1e-12);
        let mut gx = vec![0.0; x.len()];
        avg_pool_backward(&g, &r, &mut gx);
        assert_close(
            "avg dx",
            &gx,
            &fd(&x, |x| dot(&r, &pool_ref(&g, x, false))),
            1e-6,
        );
    }
}

/// The typed layer's forward pass equals the reference convolution. Its gradients are checked
/// against finite differences by `gradcheck_conv`.
#[test]
fn typed_conv_layer_matches_the_reference() {
    // Conv2D<2, 3, 3, 2, 1> on (2, 2, 7, 6) in f64
    let dev = Cpu::seed_from_u64(3);
    let m = dev.build_module::<Conv2D<2, 3, 3, 2, 1>, f64>();
    let x: Tensor<Rank4<2, 2, 7, 6>, f64, _> = dev.sample_normal();
    let g = Conv2dGeom::new(2, 2, 7, 6, 3, 3, 2, 1).expect("fits");
    assert_close(
        "y",
        &m.forward(x.clone()).as_vec(),
        &conv_ref(&g, &x.as_vec(), &m.weight.as_vec(), &m.bias.as_vec()),
        1e-12,
    );
}

#[test]
fn runtime_sizes_and_single_samples() {
    let dev = Cpu::seed_from_u64(4);
    type Net = (
        Conv2D<1, 4, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
        AvgPool2D<2, 2>,
    );
    let m = dev.build_module::<Net, f32>();
    // runtime spatial dims: checked when run
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> =
        dev.sample_normal_like(&(3, Const, 13, 9));
    let y = m.forward(x);
    assert_eq!(y.shape().concrete(), [3, 4, 3, 2]);
    // a single sample
    let y: Tensor<Rank3<4, 3, 2>, f32, _> = m.forward(dev.sample_normal::<Rank3<1, 13, 9>>());
    assert!(y.as_vec().iter().all(|v| v.is_finite()));
    // a runtime size smaller than the kernel is an error, not a panic
    let conv = dev.build_module::<Conv2D<1, 1, 5>, f32>();
    let tiny: Tensor<(Const<1>, usize, usize), f32, _> = dev.zeros_like(&(Const, 3, 3));
    assert!(conv.try_forward(tiny).is_err());
}

#[test]
fn cifar_shaped_net_fits_a_fixed_batch() {
    type Cifar = (
        (Conv2D<3, 16, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
        (
            Conv2D<16, 32, 3, 1, 1>,
            BatchNorm2D<32>,
            ReLU,
            MaxPool2D<2, 2>,
        ),
        (Conv2D<32, 32, 3, 2, 1>, ReLU, Flatten2D, Linear<512, 10>),
    );
    let s = summary::<Cifar, Rank3<3, 32, 32>>();
    assert_eq!(s.rows.last().map(|r| r.output.clone()), Some(vec![10]));
    assert_eq!(s.total, <Cifar as Params>::PARAMS);
    let dev = Cpu::seed_from_u64(5);
    let mut m = dev.build_module::<Cifar, f32>();
    let mut opt = Adam::new(&m, Default::default());
    let x: Tensor<(usize, Const<3>, Const<32>, Const<32>), f32, _> =
        dev.sample_normal_like(&(4, Const, Const, Const));
    // one-hot targets: sample i is class i, which the net can fit on this one fixed batch
    let mut one_hot = vec![0.0f32; 40];
    for i in 0..4 {
        one_hot[i * 10 + i] = 1.0;
    }
    let y = dev.tensor_from_vec(one_hot, (4, Const::<10>));
    // five Adam steps on the fixed batch: the loss is finite and goes down
    let mut losses = Vec::new();
    for _ in 0..5 {
        let grads = m.alloc_grads();
        let out = m.forward_mut(x.clone().traced(grads));
        let loss = cross_entropy_with_logits_loss(out, y.clone());
        losses.push(loss.array());
        let grads = loss.backward();
        opt.update(&mut m, &grads).expect("update");
    }
    let l0 = losses[0];
    assert!(l0.is_finite());
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    assert!(losses[4] < l0, "no progress on a fixed batch: {losses:?}");
}

#[test]
fn imagenet_sized_input_gets_gradients_and_a_step_lowers_the_loss() {
    type Stem = (
        (Conv2D<3, 8, 7, 2, 3>, ReLU, MaxPool2D<3, 2, 1>),
        (Conv2D<8, 8, 3, 2, 1>, ReLU, AvgPoolGlobal, Linear<8, 10>),
    );
    let dev = Cpu::seed_from_u64(6);
    let mut m = dev.build_module::<Stem, f32>();
    let mut opt = Sgd::new(&m, Default::default());
    let x: Tensor<Rank4<1, 3, 224, 224>, f32, _> = dev.sample_normal();
    let grads = m.alloc_grads();
    let out: Tensor<Rank2<1, 10>, f32, _, _> = m.forward_mut(x.clone().traced(grads));
    let loss = out.square().mean();
    let l0 = loss.array();
    let grads = loss.backward();
    // every parameter gets a finite gradient, not all zero
    let (stem, head) = (&m.0, &m.1);
    let (conv1, conv2, dense) = (&stem.0, &head.0, &head.3);
    let params: [(&str, Vec<f32>); 6] = [
        ("conv1.weight", grads.get(&conv1.weight).as_vec()),
        ("conv1.bias", grads.get(&conv1.bias).as_vec()),
        ("conv2.weight", grads.get(&conv2.weight).as_vec()),
        ("conv2.bias", grads.get(&conv2.bias).as_vec()),
        ("dense.weight", grads.get(&dense.weight).as_vec()),
        ("dense.bias", grads.get(&dense.bias).as_vec()),
    ];
    for (name, g) in &params {
        assert!(g.iter().all(|v| v.is_finite()), "{name}: {g:?}");
        assert!(g.iter().any(|&v| v != 0.0), "{name}: all zero");
    }
    opt.update(&mut m, &grads).expect("update");
    // a small gradient step lowers the loss it followed
    let l1 = m.forward(x).square().mean::<Rank0, _>().array();
    assert!(l0.is_finite() && l1 < l0, "loss {l0} -> {l1}");
    let s = summary::<Stem, Rank3<3, 224, 224>>();
    assert_eq!(s.rows[0].output, vec![8, 112, 112]);
    assert_eq!(s.rows[2].output, vec![8, 56, 56]);
}

#[test]
fn conv_weights_save_load_and_reset() {
    type Net = (
        Conv2D<1, 2, 3>,
        ReLU,
        MaxPool2D<2, 2>,
        Flatten2D,
        Linear<2, 3>,
    );
    let dev = Cpu::seed_from_u64(7);
    let mut a = dev.build_module::<Net, f32>();
    let b = dev.build_module::<Net, f32>();
    assert_ne!(a.0.weight.as_vec(), b.0.weight.as_vec());
    let path =
        std::env::temp_dir().join(format!("typenet-conv-{}.safetensors", std::process::id()));
    b.save_safetensors(&path).expect("save");
    a.load_safetensors(&path).expect("load");
    let _ = std::fs::remove_file(&path);
    assert_eq!(a.0.weight.as_vec(), b.0.weight.as_vec());
    assert_eq!(a.0.bias.as_vec(), b.0.bias.as_vec());
    assert_eq!(a.num_trainable_params(), <Net as Params>::PARAMS);
    a.reset_params();
    assert_ne!(a.0.weight.as_vec(), b.0.weight.as_vec());
}
