//! typenet models exported to ONNX run in tract (an independent runtime) with outputs within
//! `1e-5` of typenet's on 16 random inputs; `onnx::import` (what `onnx2type` prints) reads each
//! file back as the hand-written model type whose reloaded weights give bit-identical outputs;
//! a file with unsupported operators names every one.

use interop_tests::{assert_close, keep_io, remove, run_tract, temp};
use typenet::interop::pytorch::load_state_dict;
use typenet::onnx::{export_with, import, Batch};
use typenet::prelude::*;

/// Exports `$model` for samples `[$d, …]` with a batch of 16, runs it in tract on 16 random
/// inputs and compares with typenet's outputs; returns the file, the inputs and typenet's outputs.
macro_rules! check {
    ($name:literal, $dev:expr, $model:expr, [$($d:literal),+]) => {{
        let dev = &$dev;
        let model = &$model;
        let x = dev.sample_normal::<(Const<16>, $(Const<$d>,)+)>();
        let want = model.forward(x.clone());
        let path = temp(concat!($name, ".onnx"));
        export_with::<_, ($(Const<$d>,)+)>(model, &path, Batch::Fixed(16)).expect("exports");
        keep_io(&path, &[16, $($d),+], &x.as_vec(), &want.as_vec());
        let (got, shape) = run_tract(&path, x.as_vec(), &[16, $($d),+]);
        let want_shape: Vec<usize> = want.shape().concrete().into();
        assert_eq!(shape, want_shape, "{}: output shape", $name);
        assert_close($name, &got, &want.as_vec());
        (path, x, want.as_vec())
    }};
}

/// `import` of `path` gives `expected` (whitespace aside) and weights that load into `$ty`
/// (the same type, written by hand) and reproduce `want` bit for bit on `x`.
macro_rules! roundtrip {
    ($dev:expr, $path:expr, $x:expr, $want:expr, $ty:ty, $expected:literal) => {{
        let imported = import(&$path).expect("imports");
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squash(&imported.model_type), squash($expected));
        let weights = $path.with_extension("safetensors");
        imported.save_weights(&weights).expect("saves weights");
        let mut again = $dev.build_module::<$ty, f32>();
        load_state_dict(&mut again, &weights).expect("weights fit the printed type");
        let y = again.forward($x.clone()).as_vec();
        assert!(
            y.iter()
                .zip(&$want)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{}: reloaded outputs differ",
            $expected
        );
        std::fs::remove_file(&weights).ok();
        remove(&$path);
    }};
}

/// Batch-norm statistics and affine terms away from their initial 0 and 1.
fn randomize_bn2d<const C: usize>(dev: &Cpu, bn: &mut modules::BatchNorm2D<C, f32, Cpu>) {
    bn.scale = dev.sample_normal();
    bn.bias = dev.sample_normal();
    bn.running_mean = dev.sample_normal();
    bn.running_var = dev.sample_uniform::<Rank1<C>>() + 0.5;
}

fn randomize_bn1d<const C: usize>(dev: &Cpu, bn: &mut modules::BatchNorm1D<C, f32, Cpu>) {
    bn.scale = dev.sample_normal();
    bn.bias = dev.sample_normal();
    bn.running_mean = dev.sample_normal();
    bn.running_var = dev.sample_uniform::<Rank1<C>>() + 0.5;
}

type Mlp = (
    Linear<20, 32>,
    ReLU,
    Linear<32, 16>,
    Tanh,
    Linear<16, 5>,
    Softmax,
);

#[test]
fn mlp() {
    let dev = Cpu::seed_from_u64(1);
    let model = dev.build_module::<Mlp, f32>();
    let (path, x, want) = check!("mlp", dev, model, [20]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Mlp,
        "(Linear<20, 32>, ReLU, Linear<32, 16>, Tanh, Linear<16, 5>, Softmax)"
    );
}

type LeNet = (
    (Conv2D<1, 6, 5, 1, 2>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<6, 16, 5>, ReLU, MaxPool2D<2, 2>),
    (
        Flatten2D,
        Linear<400, 120>,
        ReLU,
        Linear<120, 84>,
        ReLU,
        Linear<84, 10>,
    ),
);

/// What `import` reads back: the same twelve layers, regrouped into two tuples of six (an ONNX
/// graph is flat).
type LeNetImported = (
    (
        Conv2D<1, 6, 5, 1, 2>,
        ReLU,
        MaxPool2D<2, 2>,
        Conv2D<6, 16, 5>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Flatten2D,
        Linear<400, 120>,
        ReLU,
        Linear<120, 84>,
        ReLU,
        Linear<84, 10>,
    ),
);

#[test]
fn lenet() {
    let dev = Cpu::seed_from_u64(2);
    let model = dev.build_module::<LeNet, f32>();
    let (path, x, want) = check!("lenet", dev, model, [1, 28, 28]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        LeNetImported,
        "((Conv2D<1, 6, 5, 1, 2>, ReLU, MaxPool2D<2, 2>, Conv2D<6, 16, 5>, ReLU, MaxPool2D<2, 2>),
          (Flatten2D, Linear<400, 120>, ReLU, Linear<120, 84>, ReLU, Linear<84, 10>))"
    );
}

#[typenet::network([3, 32, 32])]
type CifarCnn = (
    (
        Conv2D<3, 16, 3, 1, 1>,
        BatchNorm2D<16>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Conv2D<16, 32, 3, 1, 1>,
        BatchNorm2D<32>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (Flatten2D, Linear<2048, 64>, ReLU, Dropout, Linear<64, 10>),
);

/// What `import` reads back: the dropout is gone (it is an identity at inference), and the
/// twelve layers left are regrouped into two tuples of six.
#[typenet::network([3, 32, 32])]
type CifarCnnImported = (
    (
        Conv2D<3, 16, 3, 1, 1>,
        BatchNorm2D<16>,
        ReLU,
        MaxPool2D<2, 2>,
        Conv2D<16, 32, 3, 1, 1>,
        BatchNorm2D<32>,
    ),
    (
        ReLU,
        MaxPool2D<2, 2>,
        Flatten2D,
        Linear<2048, 64>,
        ReLU,
        Linear<64, 10>,
    ),
);

#[test]
fn cifar_cnn_with_batch_norm() {
    let dev = Cpu::seed_from_u64(3);
    let mut model = dev.build_module::<CifarCnn, f32>();
    randomize_bn2d(&dev, &mut model.0 .1);
    randomize_bn2d(&dev, &mut model.1 .1);
    let (path, x, want) = check!("cifar", dev, model, [3, 32, 32]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        CifarCnnImported,
        "((Conv2D<3, 16, 3, 1, 1>, BatchNorm2D<16>, ReLU, MaxPool2D<2, 2>, Conv2D<16, 32, 3, 1, 1>, BatchNorm2D<32>),
          (ReLU, MaxPool2D<2, 2>, Flatten2D, Linear<2048, 64>, ReLU, Linear<64, 10>))"
    );
}

type ResidualMlp = (
    Linear<16, 32>,
    ReLU,
    Residual<(Linear<32, 32>, ReLU, Linear<32, 32>)>,
    LayerNorm1D<32>,
    Linear<32, 4>,
    LogSoftmax,
);

#[test]
fn residual_mlp_with_layer_norm() {
    let dev = Cpu::seed_from_u64(4);
    let mut model = dev.build_module::<ResidualMlp, f32>();
    model.3.gamma = dev.sample_normal();
    model.3.beta = dev.sample_normal();
    let (path, x, want) = check!("residual_mlp", dev, model, [16]);
    roundtrip!(
        dev, path, x, want, ResidualMlp,
        "(Linear<16, 32>, ReLU, Residual<(Linear<32, 32>, ReLU, Linear<32, 32>)>, LayerNorm1D<32>, Linear<32, 4>, LogSoftmax)"
    );
}

#[typenet::network([3, 16, 16])]
type GlobalPool = (
    Conv2D<3, 8, 3>,
    ReLU,
    Conv2D<8, 16, 3, 2>,
    Sigmoid,
    AvgPoolGlobal,
    Linear<16, 5>,
);

#[test]
fn global_average_pooling() {
    let dev = Cpu::seed_from_u64(5);
    let model = dev.build_module::<GlobalPool, f32>();
    let (path, x, want) = check!("global_pool", dev, model, [3, 16, 16]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        GlobalPool,
        "(Conv2D<3, 8, 3>, ReLU, Conv2D<8, 16, 3, 2>, Sigmoid, AvgPoolGlobal, Linear<16, 5>)"
    );
}

#[typenet::network([2, 12, 12])]
type Branches = (
    Conv2D<2, 4, 3, 1, 1>,
    GeneralizedResidual<(Conv2D<4, 4, 3, 1, 1>, ExactGeLU), Conv2D<4, 4, 1>>,
    AvgPool2D<3, 2, 1>,
    MaxPoolGlobal,
    Linear<4, 3>,
    FastGeLU,
);

#[test]
fn generalized_residual_padded_average_pool_and_gelu() {
    let dev = Cpu::seed_from_u64(6);
    let model = dev.build_module::<Branches, f32>();
    let (path, x, want) = check!("branches", dev, model, [2, 12, 12]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Branches,
        "(Conv2D<2, 4, 3, 1, 1>, GeneralizedResidual<(Conv2D<4, 4, 3, 1, 1>, ExactGeLU), Conv2D<4, 4, 1>>,
          AvgPool2D<3, 2, 1>, MaxPoolGlobal, Linear<4, 3>, FastGeLU)"
    );
}

type SplitAdd = (
    Linear<8, 8>,
    SplitInto<(Linear<8, 6>, (Linear<8, 6>, Sigmoid))>,
    AddInto<(Linear<6, 4>, (Abs, Linear<6, 4>))>,
    AccurateGeLU,
);

/// What `import` reads back: the split's branches and the add's, one after the other, as the
/// two branches of a generalized residual (the same sum; the flat graph does not say where the
/// split ends), and ONNX's `Gelu`, the exact GELU. (Declared as `onnx2type` prints it.)
#[typenet::network([8])]
type SplitAddImported = (
    Linear<8, 8>,
    GeneralizedResidual<(Linear<8, 6>, Linear<6, 4>), (Linear<8, 6>, Sigmoid, Abs, Linear<6, 4>)>,
    ExactGeLU,
);

#[test]
fn split_into_and_add_into() {
    let dev = Cpu::seed_from_u64(7);
    let model = dev.build_module::<SplitAdd, f32>();
    let (path, x, want) = check!("split_add", dev, model, [8]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        SplitAddImported,
        "(Linear<8, 8>,
          GeneralizedResidual<(Linear<8, 6>, Linear<6, 4>), (Linear<8, 6>, Sigmoid, Abs, Linear<6, 4>)>,
          ExactGeLU)"
    );
}

/// Thirteen layers in three groups (the grouping `import` prints), with batch norm on vectors.
type Deep = (
    (Linear<10, 16>, BatchNorm1D<16>, ReLU, Linear<16, 16>, Sin),
    (Linear<16, 16>, Cos, Linear<16, 16>, Linear<16, 16>, Abs),
    (Sqrt, Linear<16, 3>, Exp),
);

#[test]
fn deep_nested_tuples_and_unary_activations() {
    let dev = Cpu::seed_from_u64(8);
    let mut model = dev.build_module::<Deep, f32>();
    randomize_bn1d(&dev, &mut model.0 .1);
    let (path, x, want) = check!("deep", dev, model, [10]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Deep,
        "((Linear<10, 16>, BatchNorm1D<16>, ReLU, Linear<16, 16>, Sin),
          (Linear<16, 16>, Cos, Linear<16, 16>, Linear<16, 16>, Abs),
          (Sqrt, Linear<16, 3>, Exp))"
    );
}

/// Dense layers on a sequence: `MatMul` and `Add` (rank 3), layer norm on the last axis.
type Tokens = (Linear<6, 8>, LayerNorm1D<8>, ReLU, Linear<8, 3>, Softmax);

#[test]
fn dense_layers_on_a_sequence() {
    let dev = Cpu::seed_from_u64(9);
    let model = dev.build_module::<Tokens, f32>();
    let (path, x, want) = check!("tokens", dev, model, [4, 6]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Tokens,
        "(Linear<6, 8>, LayerNorm1D<8>, ReLU, Linear<8, 3>, Softmax)"
    );
}

#[test]
fn dynamic_batch_runs_any_batch_size() {
    let dev = Cpu::seed_from_u64(10);
    let model = dev.build_module::<Mlp, f32>();
    let path = temp("dynamic.onnx");
    export_with::<_, Rank1<20>>(&model, &path, Batch::Dynamic).expect("exports");
    for n in [1usize, 5] {
        let x = dev.sample_normal_like(&(n, Const::<20>));
        let want = model.forward(x.clone()).as_vec();
        let (got, shape) = run_tract(&path, x.as_vec(), &[n, 20]);
        assert_eq!(shape, [n, 5]);
        assert_close("dynamic", &got, &want);
    }
    remove(&path);
}

#[test]
fn unsupported_operators_are_all_named() {
    use typenet::onnx::proto::{self as pb, attribute_proto::AttributeType};
    let node =
        |op: &str, inputs: &[&str], out: &str, attrs: Vec<pb::AttributeProto>| pb::NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![out.into()],
            attribute: attrs,
            ..Default::default()
        };
    let group = pb::AttributeProto {
        name: "group".into(),
        r#type: AttributeType::Int as i32,
        i: 2,
        ..Default::default()
    };
    let dims = |d: &[i64]| pb::TypeProto {
        value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
            elem_type: pb::tensor_proto::DataType::Float as i32,
            shape: Some(pb::TensorShapeProto {
                dim: d
                    .iter()
                    .map(|&v| pb::tensor_shape_proto::Dimension {
                        value: Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)),
                        ..Default::default()
                    })
                    .collect(),
            }),
        })),
        ..Default::default()
    };
    let graph = pb::GraphProto {
        node: vec![
            node("Relu", &["x"], "a", vec![]),
            node("Resize", &["a"], "b", vec![]),
            node("Conv", &["b", "w"], "c", vec![group]),
            node("LSTM", &["c"], "d", vec![]),
            node("Relu", &["d"], "y", vec![]),
        ],
        initializer: vec![pb::TensorProto {
            name: "w".into(),
            dims: vec![4, 1, 3, 3],
            data_type: pb::tensor_proto::DataType::Float as i32,
            float_data: vec![0.5; 36],
            ..Default::default()
        }],
        input: vec![pb::ValueInfoProto {
            name: "x".into(),
            r#type: Some(dims(&[1, 2, 8, 8])),
            ..Default::default()
        }],
        ..Default::default()
    };
    let model = pb::ModelProto {
        ir_version: 10,
        graph: Some(graph),
        ..Default::default()
    };
    let path = temp("unsupported.onnx");
    std::fs::write(&path, prost::Message::encode_to_vec(&model)).expect("writes");
    let err = import(&path).unwrap_err();
    std::fs::remove_file(&path).ok();
    let Error::OnnxUnsupported { ops, .. } = &err else {
        panic!("expected OnnxUnsupported, got {err}");
    };
    assert_eq!(
        ops,
        &[
            "Resize",
            "Conv (non-square kernel, groups or dilation)",
            "LSTM"
        ],
        "{err}"
    );
}

/// 16 sequences of `S` token ids below `V`: a random number of padding ids (id 0) at the
/// start of each, as `TokenSet` pads, the first sequence padding alone.
fn token_ids<const S: usize, const V: usize>(
    dev: &Cpu,
) -> Tensor<(Const<16>, Const<S>, Vocab<V>), f32, Cpu> {
    let u: Vec<f32> = dev.sample_uniform::<Rank2<16, S>>().as_vec();
    let lengths: Vec<f32> = dev.sample_uniform::<Rank1<16>>().as_vec();
    let mut ids = Vec::with_capacity(16 * S);
    for row in 0..16 {
        let padding = if row == 0 {
            S
        } else {
            ((lengths[row] * S as f32) as usize).min(S - 1)
        };
        for pos in 0..S {
            let id = if pos < padding {
                0.0
            } else {
                (1.0f32 + (u[row * S + pos] * (V - 1) as f32).floor()).min((V - 1) as f32)
            };
            ids.push(id);
        }
    }
    dev.tensor_from_vec(ids, (Const::<16>, Const::<S>, Vocab::<V>))
}

/// `check!` for a model on token ids: the file takes the ids as `float32`, shape `(16, S, 1)`.
macro_rules! check_tokens {
    ($name:literal, $dev:expr, $model:expr, $s:literal, $v:literal) => {{
        let dev = &$dev;
        let model = &$model;
        let x = token_ids::<$s, $v>(dev);
        let want = model.forward(x.clone());
        let path = temp(concat!($name, ".onnx"));
        export_with::<_, (Const<$s>, Vocab<$v>)>(model, &path, Batch::Fixed(16)).expect("exports");
        keep_io(&path, &[16, $s, 1], &x.as_vec(), &want.as_vec());
        let (got, shape) = run_tract(&path, x.as_vec(), &[16, $s, 1]);
        let want_shape: Vec<usize> = want.shape().concrete().into();
        assert_eq!(shape, want_shape, "{}: output shape", $name);
        assert_close($name, &got, &want.as_vec());
        (path, x, want.as_vec())
    }};
}

/// The language-identification example's bag of characters: `EmbeddingBag` leaves padding out
/// of the mean (the first sequence, padding alone, gives the bias alone).
type Bag = (EmbeddingBag<96, 64>, Linear<64, 6>);

#[test]
fn bag_of_characters() {
    let dev = Cpu::seed_from_u64(11);
    let model = dev.build_module::<Bag, f32>();
    let (path, x, want) = check_tokens!("bag", dev, model, 16, 96);
    assert_eq!(want[..6], model.1.bias.as_vec()[..]);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Bag,
        "(EmbeddingBag<96, 64>, Linear<64, 6>)"
    );
}

/// The language-identification example's GRU: ONNX's `GRU` with `linear_before_reset`.
type Recurrent = (Embedding<96, 32>, Gru<32, 128>, Linear<128, 6>);

#[test]
fn gru_classifier() {
    let dev = Cpu::seed_from_u64(12);
    let model = dev.build_module::<Recurrent, f32>();
    let (path, x, want) = check_tokens!("gru", dev, model, 16, 96);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Recurrent,
        "(Embedding<96, 32>, Gru<32, 128>, Linear<128, 6>)"
    );
}

/// The language-identification example's transformer encoder.
type Transformer = (
    Embedding<96, 64>,
    PositionalEmbedding<16, 64>,
    EncoderBlock<64, 4, 128>,
    SeqMean,
    Linear<64, 6>,
);

#[test]
fn transformer_encoder() {
    let dev = Cpu::seed_from_u64(13);
    let mut model = dev.build_module::<Transformer, f32>();
    model.2.norm1.gamma = dev.sample_normal();
    model.2.norm2.beta = dev.sample_normal();
    let (path, x, want) = check_tokens!("transformer", dev, model, 16, 96);
    roundtrip!(
        dev,
        path,
        x,
        want,
        Transformer,
        "(Embedding<96, 64>, PositionalEmbedding<16, 64>, EncoderBlock<64, 4, 128>, SeqMean, Linear<64, 6>)"
    );
}

/// Stacked recurrent layers returning every step (`LSTM` then `GRU`), and the other three
/// sequence pools on three branches.
type StackedSteps = (
    Embedding<30, 8>,
    Lstm<8, 12, AllSteps>,
    Gru<12, 10, AllSteps>,
    SplitInto<(SeqFirst, SeqLast, SeqMax)>,
    AddInto<(Linear<10, 4>, Linear<10, 4>, Linear<10, 4>)>,
);

/// What `import` reads back: three branches summed as dfdx sums them, `a + (b + c)`, as
/// generalized residuals nested the same way.
type StackedStepsImported = (
    Embedding<30, 8>,
    Lstm<8, 12, AllSteps>,
    Gru<12, 10, AllSteps>,
    GeneralizedResidual<
        (SeqFirst, Linear<10, 4>),
        GeneralizedResidual<(SeqLast, Linear<10, 4>), (SeqMax, Linear<10, 4>)>,
    >,
);

#[test]
fn lstm_gru_all_steps_and_sequence_pools() {
    let dev = Cpu::seed_from_u64(14);
    let model = dev.build_module::<StackedSteps, f32>();
    let (path, x, want) = check_tokens!("stacked_steps", dev, model, 7, 30);
    roundtrip!(
        dev,
        path,
        x,
        want,
        StackedStepsImported,
        "(Embedding<30, 8>, Lstm<8, 12, AllSteps>, Gru<12, 10, AllSteps>,
          GeneralizedResidual<
              (SeqFirst, Linear<10, 4>),
              GeneralizedResidual<(SeqLast, Linear<10, 4>), (SeqMax, Linear<10, 4>)>>)"
    );
}

/// Two heads on one body: the graph's two outputs. (Declared as `onnx2type` prints it.)
#[typenet::network([6])]
type TwoHeads = (
    Linear<6, 8>,
    ReLU,
    SplitInto<(Linear<8, 3>, (Linear<8, 2>, Softmax))>,
);

#[test]
fn split_into_ending_the_model_reads_back_as_split_into() {
    let dev = Cpu::seed_from_u64(15);
    let model = dev.build_module::<TwoHeads, f32>();
    let path = temp("two_heads.onnx");
    export_with::<_, Rank1<6>>(&model, &path, Batch::Fixed(16)).expect("exports");
    let x = dev.sample_normal::<Rank2<16, 6>>();
    let (a, b) = model.forward(x.clone());
    keep_io(&path, &[16, 6], &x.as_vec(), &a.as_vec());
    let (got, shape) = run_tract(&path, x.as_vec(), &[16, 6]);
    assert_eq!(shape, [16, 3]);
    assert_close("two_heads", &got, &a.as_vec());
    let imported = import(&path).expect("imports");
    assert_eq!(
        imported.model_type,
        "(Linear<6, 8>, ReLU, SplitInto<(Linear<8, 3>, (Linear<8, 2>, Softmax))>)"
    );
    let weights = path.with_extension("safetensors");
    imported.save_weights(&weights).expect("saves weights");
    let mut again = dev.build_module::<TwoHeads, f32>();
    load_state_dict(&mut again, &weights).expect("weights fit the printed type");
    let (a2, b2) = again.forward(x);
    let bits = |t: Vec<f32>| t.into_iter().map(f32::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(a2.as_vec()), bits(a.as_vec()));
    assert_eq!(bits(b2.as_vec()), bits(b.as_vec()));
    std::fs::remove_file(&weights).ok();
    remove(&path);
}
