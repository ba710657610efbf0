//! typenet's `Linear` (fused CPU kernel) against dfdx's `Linear` (matmul + broadcast add) as the
//! oracle: same weights → same outputs and gradients (weight, bias and input), for every input
//! rank, with and without a tape, in f32 and f64, on shapes small and large enough to use every
//! thread.

use typenet::prelude::*;

type DfdxLinear<const I: usize, const O: usize, E> = dfdx::nn::modules::Linear<I, O, E, Cpu>;

/// Element-wise `|a − b| ≤ tol · (1 + |b|)`.
fn assert_close<E: Into<f64> + Copy>(what: &str, a: &[E], b: &[E], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let (x, y): (f64, f64) = (x.into(), y.into());
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: typenet {x}, dfdx {y}"
        );
    }
}

/// Forward + backward of `sum(Linear(x) ⊙ r)` through both layers (one shared seed), comparing
/// the output and the gradients of weight, bias and `x`. A macro: the bounds of a generic
/// function over every input rank would outweigh the test.
macro_rules! check {
    ($i:literal, $o:literal, $e:ty, $shape:expr, $tol:expr) => {{
        let dev = Cpu::seed_from_u64(7);
        let ours = dev.build_module::<Linear<$i, $o>, $e>();
        let theirs = DfdxLinear::<$i, $o, $e> {
            weight: ours.weight.clone(),
            bias: ours.bias.clone(),
        };
        let x = dev.sample_normal_like(&$shape);

        let y0 = ours.forward(x.clone()).as_vec();
        let y1 = theirs.forward(x.clone()).as_vec();
        assert_close("output (no tape)", &y0, &y1, $tol);

        let y0 = ours.forward(x.leaky_trace());
        let y1 = theirs.forward(x.leaky_trace());
        let r = dev.sample_normal_like(y0.shape());
        assert_close("output", &y0.as_vec(), &y1.as_vec(), $tol);
        let g0 = (y0 * r.clone()).sum().backward();
        let g1 = (y1 * r).sum().backward();
        let dw = (
            g0.get(&ours.weight).as_vec(),
            g1.get(&theirs.weight).as_vec(),
        );
        assert_close("dW", &dw.0, &dw.1, $tol);
        let db = (g0.get(&ours.bias).as_vec(), g1.get(&theirs.bias).as_vec());
        assert_close("db", &db.0, &db.1, $tol);
        assert_close("dx", &g0.get(&x).as_vec(), &g1.get(&x).as_vec(), $tol);
    }};
}

#[test]
fn matches_dfdx_f32() {
    check!(5, 3, f32, (Const::<5>,), 1e-5);
    check!(5, 3, f32, (4usize, Const::<5>), 1e-5);
    check!(5, 3, f32, (Const::<2>, 3usize, Const::<5>), 1e-5);
    check!(1, 1, f32, (Const::<1>, Const::<1>), 1e-5);
    // the MLP's layers at batches on either side of the threading threshold
    check!(784, 128, f32, (32usize, Const::<784>), 1e-5);
    check!(784, 128, f32, (Const::<70>, Const::<784>), 1e-5);
    check!(128, 10, f32, (256usize, Const::<128>), 1e-5);
}

#[test]
fn matches_dfdx_f64() {
    check!(5, 3, f64, (Const::<5>,), 1e-12);
    check!(5, 3, f64, (4usize, Const::<5>), 1e-12);
    check!(5, 3, f64, (Const::<2>, 3usize, Const::<5>), 1e-12);
    check!(784, 128, f64, (70usize, Const::<784>), 1e-12);
}

#[test]
fn empty_batches_and_zero_width() {
    let dev = Cpu::default();
    let m = dev.build_module::<Linear<4, 3>, f32>();
    let y = m.forward(dev.zeros_like(&(0usize, Const::<4>)));
    assert_eq!(y.shape().0, 0);
    // no inputs: the output is the bias
    let m = dev.build_module::<Linear<0, 3>, f32>();
    let y = m.forward(dev.zeros::<Rank1<0>>());
    assert_eq!(y.array(), m.bias.array());
}

#[test]
fn non_contiguous_inputs_are_read_in_logical_order() {
    let dev = Cpu::seed_from_u64(1);
    let ours = dev.build_module::<Linear<3, 2>, f32>();
    let theirs = DfdxLinear::<3, 2, f32> {
        weight: ours.weight.clone(),
        bias: ours.bias.clone(),
    };
    let x: Tensor<Rank2<3, 4>, f32, _> = dev.sample_normal();
    let xt: Tensor<Rank2<4, 3>, f32, _> = x.permute();
    assert_close(
        "transposed input",
        &ours.forward(xt.clone()).as_vec(),
        &theirs.forward(xt).as_vec(),
        1e-6,
    );
    let row: Tensor<Rank1<3>, f32, _> = dev.sample_normal();
    let rows: Tensor<Rank2<5, 3>, f32, _> = row.broadcast();
    assert_close(
        "broadcast input",
        &ours.forward(rows.clone()).as_vec(),
        &theirs.forward(rows).as_vec(),
        1e-6,
    );
}

#[test]
fn checkpoints_and_optimizers_see_the_same_fields() {
    let dev = Cpu::seed_from_u64(3);
    let ours = dev.build_module::<(Linear<3, 4>, ReLU, Linear<4, 2>), f32>();
    let dir = std::env::temp_dir().join(format!("typenet-linear-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("m.safetensors");
    ours.save_safetensors(&path).expect("save");
    // dfdx's Linear reads what typenet's Linear wrote: same names, same shapes
    let mut theirs = dev.build_module::<(
        dfdx::nn::builders::Linear<3, 4>,
        ReLU,
        dfdx::nn::builders::Linear<4, 2>,
    ), f32>();
    theirs.load_safetensors(&path).expect("load");
    assert_eq!(theirs.0.weight.array(), ours.0.weight.array());
    assert_eq!(theirs.2.bias.array(), ours.2.bias.array());
    std::fs::remove_dir_all(&dir).ok();
}

/// Steps large enough that every product is split over threads still give bit-identical
/// weights from the same seed (the trainer's determinism promise).
#[test]
fn split_products_are_deterministic() {
    type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
    let run = || {
        let dev = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<Mlp, f32>();
        let mut opt = Adam::new(&model, AdamConfig::default());
        let x = dev.sample_normal_like(&(96usize, Const::<784>));
        let y = dev.tensor_from_vec((0..96).map(|i| i % 10).collect(), (96,));
        for _ in 0..3 {
            let out = model.forward_mut(x.trace(model.alloc_grads()));
            let loss = SparseCategoricalCrossentropy
                .try_loss(out, &y)
                .expect("cpu");
            opt.update(&mut model, &loss.backward())
                .expect("all params used");
        }
        let mut bits: Vec<u32> = model
            .0
            .weight
            .as_vec()
            .iter()
            .map(|v| v.to_bits())
            .collect();
        bits.extend(model.2.bias.as_vec().iter().map(|v| v.to_bits()));
        bits
    };
    let first = run();
    for _ in 0..3 {
        assert!(run() == first, "same seed, different weights");
    }
}
