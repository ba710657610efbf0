//! `Params` and `Summarize` of dfdx's several-tensor layers (`SplitInto`, `AddInto`) and its
//! transformer blocks, against hand counts; the parameter counts also against dfdx's own count
//! of the built model, and the output shapes against a forward pass.

use typenet::data::ShapeList;
use typenet::prelude::*;

/// dfdx's count of the built model's trainable values.
fn dfdx_count<M: BuildOnDevice<Cpu, f32>>() -> usize
where
    M::Built: NumParams<f32, Cpu>,
{
    Cpu::default()
        .build_module::<M, f32>()
        .num_trainable_params()
}

#[test]
fn split_into_sums_its_branches() {
    type Heads = SplitInto<(Linear<8, 2>, (Linear<8, 3>, ReLU))>;
    // 8·2 + 2 and 8·3 + 3 weights and biases
    assert_eq!(<Heads as Params>::PARAMS, 18 + 27);
    assert_eq!(dfdx_count::<Heads>(), 45);
    assert_eq!(<Heads as Summarize<Rank1<8>>>::MACS, 8 * 2 + 8 * 3);
    // outputs 2, then 3 and the ReLU's 3
    assert_eq!(<Heads as Summarize<Rank1<8>>>::ACTIVATIONS, 2 + 3 + 3);
    type Out = <Heads as Summarize<Rank1<8>>>::Output;
    assert_eq!(<Out as ConstShape>::NUMEL, 5);
    assert_eq!(
        <(Rank1<2>, Rank1<3>) as ShapeList>::dims(),
        vec![vec![2], vec![3]]
    );

    let s = summary::<Heads, Rank1<8>>();
    let rows: Vec<(&str, &[usize], usize)> = s
        .rows
        .iter()
        .map(|r| (r.layer.as_str(), r.output.as_slice(), r.params))
        .collect();
    assert_eq!(
        rows,
        [
            ("Linear<8, 2>", &[2][..], 18),
            ("Linear<8, 3>", &[3][..], 27),
            ("ReLU", &[3][..], 0)
        ]
    );
    assert_eq!((s.total, s.macs, s.activations), (45, 40, 8));

    // the built layer outputs what the summary says
    let dev = Cpu::default();
    let m = dev.build_module::<Heads, f32>();
    let (a, b) = m.forward(dev.zeros::<Rank1<8>>());
    assert_eq!((a.shape().concrete(), b.shape().concrete()), ([2], [3]));
}

#[test]
fn add_into_sums_its_branches_and_the_sum() {
    type Both = AddInto<(Linear<2, 4>, Linear<3, 4>)>;
    type In = Shapes<(Rank1<2>, Rank1<3>)>;
    assert_eq!(<Both as Params>::PARAMS, (2 * 4 + 4) + (3 * 4 + 4));
    assert_eq!(dfdx_count::<Both>(), 28);
    assert_eq!(<Both as Summarize<In>>::MACS, 2 * 4 + 3 * 4);
    // two branch outputs of 4 and their sum
    assert_eq!(<Both as Summarize<In>>::ACTIVATIONS, 12);
    let s = summary::<Both, In>();
    assert_eq!(s.rows.len(), 2);
    assert_eq!(s.rows[1].output, vec![4]);
    assert_eq!(s.total, 28);

    // split then add back: a two-branch block inside an ordinary sequence
    type Block = (
        Linear<6, 8>,
        SplitInto<(Linear<8, 4>, Linear<8, 4>)>,
        AddInto<(ReLU, Tanh)>,
        Linear<4, 1>,
    );
    assert_eq!(<Block as Params>::PARAMS, 56 + 2 * 36 + 5);
    assert_eq!(dfdx_count::<Block>(), 133);
    assert_eq!(<Block as Summarize<Rank1<6>>>::MACS, 48 + 2 * 32 + 4);
    // 8, then 4 + 4, then ReLU 4 + Tanh 4 + sum 4, then 1
    assert_eq!(<Block as Summarize<Rank1<6>>>::ACTIVATIONS, 8 + 8 + 12 + 1);
    let dev = Cpu::default();
    let y = dev
        .build_module::<Block, f32>()
        .forward(dev.zeros::<Rank1<6>>());
    let out = <<Block as Summarize<Rank1<6>>>::Output as Default>::default();
    assert_eq!(y.shape().concrete(), out.concrete());
}

#[test]
fn transformer_blocks_count_like_pytorch() {
    // PyTorch's TransformerEncoderLayer(8, 2, 16): attention 3·(8·8 + 8) + 8·8 + 8 = 288,
    // feed-forward 8·16 + 16 + 16·8 + 8 = 280, two layer norms 2·16 = 32
    type Enc = TransformerEncoderBlock<8, 2, 16>;
    assert_eq!(<Enc as Params>::PARAMS, 600);
    assert_eq!(dfdx_count::<Enc>(), 600);
    // TransformerDecoderLayer(8, 2, 16): two attentions, the feed-forward, three norms
    type Dec = TransformerDecoderBlock<8, 2, 16>;
    assert_eq!(<Dec as Params>::PARAMS, 2 * 288 + 280 + 48);
    assert_eq!(dfdx_count::<Dec>(), 904);
    assert_eq!(<TransformerEncoder<8, 2, 16, 2> as Params>::PARAMS, 1200);
    assert_eq!(dfdx_count::<TransformerEncoder<8, 2, 16, 2>>(), 1200);
    assert_eq!(<TransformerDecoder<8, 2, 16, 3> as Params>::PARAMS, 3 * 904);
    assert_eq!(dfdx_count::<TransformerDecoder<8, 2, 16, 3>>(), 2712);
    type Net = Transformer<8, 2, 2, 3, 16>;
    assert_eq!(<Net as Params>::PARAMS, 1200 + 2712);
    assert_eq!(dfdx_count::<Net>(), 3912);
}

#[test]
fn transformer_blocks_multiply_adds_by_hand() {
    // 5 source tokens, 3 target tokens, width 8, feed-forward 16
    type Src = Rank2<5, 8>;
    type Tgt = Rank2<3, 8>;
    // self-attention on 5: projections 4·5·8·8 = 1280, products 2·5·5·8 = 400;
    // feed-forward 2·5·8·16 = 1280
    type Enc = TransformerEncoderBlock<8, 2, 16>;
    assert_eq!(<Enc as Summarize<Src>>::MACS, 1280 + 400 + 1280);
    assert_eq!(
        <TransformerEncoder<8, 2, 16, 2> as Summarize<Src>>::MACS,
        2 * 2960
    );
    // self-attention on 3: 4·3·64 + 2·9·8 = 912; to the memory: queries and output 2·3·64,
    // keys and values 2·5·64, products 2·3·5·8 = 1264; feed-forward 2·3·8·16 = 768
    type Dec = TransformerDecoderBlock<8, 2, 16>;
    type DecIn = Shapes<(Tgt, Src)>;
    assert_eq!(<Dec as Summarize<DecIn>>::MACS, 912 + 1264 + 768);
    assert_eq!(
        <TransformerDecoder<8, 2, 16, 3> as Summarize<DecIn>>::MACS,
        3 * 2944
    );
    type Net = Transformer<8, 2, 2, 3, 16>;
    type NetIn = Shapes<(Src, Tgt)>;
    assert_eq!(<Net as Summarize<NetIn>>::MACS, 2 * 2960 + 3 * 2944);
    // each block outputs its tokens: 2 encoder blocks of 5·8, 3 decoder blocks of 3·8
    assert_eq!(<Net as Summarize<NetIn>>::ACTIVATIONS, 2 * 40 + 3 * 24);
    let s = summary::<Net, NetIn>();
    assert_eq!((s.total, s.macs), (3912, 2 * 2960 + 3 * 2944));
    assert_eq!(s.rows[0].output, vec![3, 8]);

    // the built transformer outputs the target's shape, as the summary says
    let dev = Cpu::default();
    let m = dev.build_module::<Net, f32>();
    let y = m.forward((dev.zeros::<Src>(), dev.zeros::<Tgt>()));
    assert_eq!(y.shape().concrete(), [3, 8]);
}
