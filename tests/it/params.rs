//! Compile-time parameter counts and summaries through the public API.

use typenet::prelude::*;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);

// Checked by the compiler: this file does not build if the count is wrong.
const _: () = assert!(<Mlp as Params>::PARAMS == 101_770);

#[test]
fn params_agree_with_dfdx_runtime_count() {
    type Net = (
        (Linear<5, 4>, Tanh),
        (LayerNorm1D<4>, Residual<(Linear<4, 4>, ReLU)>),
        Linear<4, 2>,
    );
    let dev = Cpu::default();
    let m = dev.build_module::<Net, f32>();
    assert_eq!(<Net as Params>::PARAMS, m.num_trainable_params());
    let mlp = dev.build_module::<Mlp, f32>();
    assert_eq!(<Mlp as Params>::PARAMS, mlp.num_trainable_params());
}

#[test]
fn summary_rows_chain_output_shapes() {
    type Net = (Linear<4, 6>, ReLU, (Linear<6, 3>, Sigmoid));
    let s = summary::<Net, Rank1<4>>();
    let shapes: Vec<Vec<usize>> = s.rows.iter().map(|r| r.output.clone()).collect();
    assert_eq!(shapes, vec![vec![6], vec![6], vec![3], vec![3]]);
    assert_eq!(s.total, 4 * 6 + 6 + 6 * 3 + 3);
}
