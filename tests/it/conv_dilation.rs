//! Dilated convolutions (`Conv2D<I, O, K, S, P, DILATION>`, taps `DILATION` apart): the CPU
//! kernel against the portable dfdx composition on odd geometries, gradients against central
//! finite differences, and output sizes against the formula worked by hand. (Values and
//! gradients against PyTorch are in `pytorch_fixtures.rs`.)

use proptest::prelude::*;
use typenet::gradcheck::strategy;
use typenet::nn::device::{portable, Conv2dGeom};
use typenet::prelude::*;

type X = Tensor<(usize, usize, usize, usize), f32, Cpu>;

/// Batch, channels in, height, width, channels out, kernel, stride, padding, dilation.
const CONVS: [[usize; 9]; 6] = [
    [2, 3, 9, 9, 4, 3, 1, 0, 2],
    [2, 2, 8, 7, 3, 3, 2, 2, 2],
    [1, 3, 6, 5, 2, 2, 1, 1, 3],
    [1, 1, 7, 7, 2, 3, 1, 3, 3],
    // the dilated span (7) equals the padded input: one output
    [2, 2, 3, 3, 2, 3, 1, 2, 3],
    // padding larger than the span: rows and columns of padding alone
    [1, 2, 4, 5, 2, 2, 3, 4, 2],
];

/// The output and the gradients of `sum(y · r)` with respect to input, weight and bias.
fn conv_case(c: [usize; 9], fallback: bool) -> (Vec<f32>, [Vec<f32>; 3]) {
    let [b, ci, h, w, co, k, s, p, d] = c;
    let g = Conv2dGeom::new(b, ci, h, w, co, k, s, p)
        .and_then(|g| g.dilated(d))
        .expect("a valid geometry");
    let dev = Cpu::seed_from_u64(c.iter().fold(13, |a, &v| a * 31 + v as u64));
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
    (
        yv,
        [
            gr.get(&x).as_vec(),
            gr.get(&wt).as_vec(),
            gr.get(&bias).as_vec(),
        ],
    )
}

#[test]
fn dilated_geometry_follows_the_formula() {
    // (9 + 0 − 2·(3 − 1) − 1) / 1 + 1 = 5; (8 + 4 − 5) / 2 + 1 = 4 and (7 + 4 − 5) / 2 + 1 = 4
    let g = Conv2dGeom::new(1, 1, 9, 9, 1, 3, 1, 0).and_then(|g| g.dilated(2));
    assert_eq!(g.map(|g| (g.h_out, g.w_out)), Some((5, 5)));
    let g = Conv2dGeom::new(1, 1, 8, 7, 1, 3, 2, 2).and_then(|g| g.dilated(2));
    assert_eq!(g.map(|g| (g.h_out, g.w_out)), Some((4, 4)));
    // span 7 against a padded input of 6: no output
    let g = Conv2dGeom::new(1, 1, 4, 4, 1, 3, 1, 1).and_then(|g| g.dilated(3));
    assert_eq!(g, None);
    // dilation 0 is not a geometry; dilation 1 is the plain conv
    let plain = Conv2dGeom::new(1, 1, 5, 5, 1, 3, 1, 0);
    assert_eq!(plain.and_then(|g| g.dilated(0)), None);
    assert_eq!(plain.and_then(|g| g.dilated(1)), plain);
}

#[test]
fn dilated_conv_kernel_matches_the_portable_composition() {
    for c in CONVS {
        let (fast, slow) = (conv_case(c, false), conv_case(c, true));
        let mut diffs = vec![("output", &fast.0, &slow.0)];
        for (what, (a, b)) in ["input grad", "weight grad", "bias grad"]
            .into_iter()
            .zip(fast.1.iter().zip(&slow.1))
        {
            diffs.push((what, a, b));
        }
        for (what, a, b) in diffs {
            assert_eq!(a.len(), b.len(), "conv {c:?}: {what} length");
            let d = a
                .iter()
                .zip(b)
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(d < 1e-4, "conv {c:?}: {what} differs by {d}");
        }
    }
}

#[typenet::network([2, 7, 6])]
type Dilated = Conv2D<2, 3, 3, 1, 1, 2>;

#[typenet::network([1, 9, 8])]
type DilatedStrided = (Conv2D<1, 2, 2, 2, 2, 3>, Tanh, Conv2D<2, 2, 3, 1, 2, 2>);

/// Atrous stack (DeepLab-style): dilations 1, 2, 4 with padding = dilation keep 32×32.
#[typenet::network([3, 32, 32])]
type Atrous = (
    Conv2D<3, 8, 3, 1, 1>,
    ReLU,
    Conv2D<8, 8, 3, 1, 2, 2>,
    ReLU,
    Conv2D<8, 8, 3, 1, 4, 4>,
    ReLU,
    Conv2D<8, 4, 3, 2, 0, 3>,
    Flatten2D,
    Linear<676, 10>,
);

#[test]
fn dilated_networks_have_the_hand_computed_shapes() {
    let dev = Cpu::default();
    // Dilated: span 5, (7 + 2 − 5) + 1 = 5 and (6 + 2 − 5) + 1 = 4
    let m = dev.build_module::<Dilated, f32>();
    let y: Tensor<Rank3<3, 5, 4>, f32, _> = m.forward(dev.zeros::<Rank3<2, 7, 6>>());
    assert_eq!(y.shape().concrete(), [3, 5, 4]);
    // span 4: (9 + 4 − 4) / 2 + 1 = 5, (8 + 4 − 4) / 2 + 1 = 5; then span 5: 5 + 4 − 5 + 1 = 5
    let m = dev.build_module::<DilatedStrided, f32>();
    let y: Tensor<Rank4<2, 2, 5, 5>, f32, _> = m.forward(dev.zeros::<Rank4<2, 1, 9, 8>>());
    assert_eq!(y.shape().concrete(), [2, 2, 5, 5]);
    // 32 kept by the first three (span 2d + 1, padding d); then span 7, stride 2:
    // (32 − 7) / 2 + 1 = 13, flattened 4·13·13 = 676
    let s = summary::<Atrous, Rank3<3, 32, 32>>();
    let shapes: Vec<Vec<usize>> = s.rows.iter().map(|r| r.output.clone()).collect();
    assert_eq!(shapes[2], vec![8, 32, 32]);
    assert_eq!(shapes[4], vec![8, 32, 32]);
    assert_eq!(shapes[6], vec![4, 13, 13]);
    assert_eq!(shapes[7], vec![676]);
    assert_eq!(s.rows[2].layer, "Conv2D<8, 8, 3, 1, 2, 2>");
    // multiply-adds of a dilated conv: 9 taps per output, whatever their spacing
    assert_eq!(s.rows[2].macs, 8 * 32 * 32 * 8 * 9);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn dilated_conv_passes_gradcheck(mut m in strategy::model::<Dilated>(), x in strategy::tensor::<Rank4<2, 2, 7, 6>>(-1.0..1.0)) {
        gradcheck(&mut m, &x, &GradCheckConfig::default())?;
    }

    #[test]
    fn dilated_strided_padded_convs_pass_gradcheck(mut m in strategy::model::<DilatedStrided>(), x in strategy::tensor::<Rank3<1, 9, 8>>(-1.0..1.0)) {
        gradcheck(&mut m, &x, &GradCheckConfig::default())?;
    }
}
