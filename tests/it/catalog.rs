//! A catalog of valid networks from papers and tutorials: each one compiles, and each one's
//! output shape (and, for the big ones, parameter and multiply-add counts) matches a hand
//! derivation. Small models are built and run on a batch; the ImageNet-sized ones (hundreds of
//! megabytes of weights) are checked through their types: `forward`'s output type and `summary`.
//!
//! Models written with `#[network([C, H, W])]` take any kernel, stride, padding and input size;
//! plain aliases use typenet's tables and keep working for the sizes those cover.

use typenet::prelude::*;

/// Builds `M`, runs it on `x` and returns the output's shape.
fn run<M, S, O>(x: Tensor<S, f32, Cpu>) -> Vec<usize>
where
    S: Shape,
    O: Shape,
    M: BuildOnDevice<Cpu, f32>,
    M::Built: Module<Tensor<S, f32, Cpu>, Output = Tensor<O, f32, Cpu>, Error = CpuError>,
{
    let dev = Cpu::seed_from_u64(0);
    let m = dev.build_module::<M, f32>();
    let y = m
        .try_forward(x)
        .expect("the model runs on its declared input");
    y.shape().concrete().into()
}

/// The output shape `M`'s `forward` has on a batch of shape `S`, from the type alone (no weights
/// built): the model type-checks end to end and its output type is `O`.
fn typed<M, S, O>() -> Vec<usize>
where
    S: ConstShape,
    O: ConstShape,
    M: BuildOnDevice<Cpu, f32>,
    M::Built: Module<Tensor<S, f32, Cpu>, Output = Tensor<O, f32, Cpu>>,
{
    O::default().concrete().into()
}

fn zeros<S: ConstShape>() -> Tensor<S, f32, Cpu> {
    Cpu::default().zeros()
}

// ---------------------------------------------------------------------------------------------
// Classics.

/// LeNet-5 as in most tutorials (28x28, the first conv padded by 2), a plain alias on the tables.
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

/// Parameters by hand: conv 1→6 5×5: 156, conv 6→16 5×5: 2,416, dense 400→120: 48,120,
/// 120→84: 10,164, 84→10: 850.
#[test]
fn lenet_plain_alias() {
    assert_eq!(run::<LeNet, _, _>(zeros::<Rank4<2, 1, 28, 28>>()), [2, 10]);
    const _: () = assert!(<LeNet as Params>::PARAMS == 156 + 2_416 + 48_120 + 10_164 + 850);
    let s = summary::<LeNet, Rank3<1, 28, 28>>();
    assert_eq!(s.total, 61_706);
    assert_eq!(s.rows[2].output, vec![6, 14, 14]);
    assert_eq!(s.rows.last().map(|r| r.output.clone()), Some(vec![10]));
}

/// LeNet-5 multiply-adds by hand, layer by layer:
/// conv 1→6 5x5 on 28x28 (same): 6·28·28·(1·25) = 117,600; conv 6→16 5x5 on 14x14 → 10x10:
/// 16·10·10·(6·25) = 240,000; dense 400·120 = 48,000, 120·84 = 10,080, 84·10 = 840.
/// Total 416,520. Activations: 6·28·28 (conv, ReLU) twice = 9,408, pool 1,176, 1,600 twice,
/// pool 400, flatten 400, 120 twice, 84 twice, 10: 9,408 + 1,176 + 3,200 + 400 + 400 + 240 +
/// 168 + 10 = 15,002.
#[test]
fn lenet_costs_match_a_hand_count() {
    assert_eq!(
        <LeNet as Summarize<Rank3<1, 28, 28>>>::MACS,
        117_600 + 240_000 + 48_000 + 10_080 + 840
    );
    assert_eq!(<LeNet as Summarize<Rank3<1, 28, 28>>>::ACTIVATIONS, 15_002);
    let s = summary::<LeNet, Rank3<1, 28, 28>>();
    assert_eq!(s.macs, 416_520);
    assert_eq!(s.rows[0].macs, 117_600);
    assert_eq!(s.rows[3].macs, 240_000);
    let text = s.to_string();
    assert!(
        text.contains("Multiply-adds per sample: 416,520 (416.5 k)"),
        "{text}"
    );
    assert!(text.contains("Activations per sample: 15,002"), "{text}");
}

/// The original LeNet-5 on 32x32 inputs, declared with `#[network]`.
#[typenet::network([1, 32, 32])]
type LeNet32 = (
    Conv2D<1, 6, 5>,
    ReLU,
    MaxPool2D<2, 2>,
    Conv2D<6, 16, 5>,
    ReLU,
    MaxPool2D<2, 2>,
    Flatten2D,
    Linear<400, 120>,
    ReLU,
    Linear<120, 84>,
    ReLU,
    Linear<84, 10>,
);

#[test]
fn lenet_32_network_with_twelve_layers_in_one_tuple() {
    assert_eq!(
        run::<LeNet32, _, _>(zeros::<Rank4<3, 1, 32, 32>>()),
        [3, 10]
    );
    // The same hand count as on 28x28 "same"-padded inputs: the conv maps are the same sizes.
    assert_eq!(<LeNet32 as Summarize<Rank3<1, 32, 32>>>::MACS, 416_520);
    assert_eq!(<LeNet32 as Params>::PARAMS, 61_706);
}

/// AlexNet (the single-GPU variant in torchvision): kernel 11, stride 4, padding 2 on 224x224,
/// then 3x3 stride-2 pools: 224 → 55 → 27 → 27 → 13 → 13 → 6; 256·6·6 = 9,216 features.
#[typenet::network([3, 224, 224])]
type AlexNet = (
    (Conv2D<3, 64, 11, 4, 2>, ReLU, MaxPool2D<3, 2>),
    (Conv2D<64, 192, 5, 1, 2>, ReLU, MaxPool2D<3, 2>),
    (
        Conv2D<192, 384, 3, 1, 1>,
        ReLU,
        Conv2D<384, 256, 3, 1, 1>,
        ReLU,
    ),
    (Conv2D<256, 256, 3, 1, 1>, ReLU, MaxPool2D<3, 2>),
    (
        Flatten2D,
        Linear<9216, 4096>,
        ReLU,
        Linear<4096, 4096>,
        ReLU,
        Linear<4096, 1000>,
    ),
);

#[test]
fn alexnet() {
    assert_eq!(typed::<AlexNet, Rank4<1, 3, 224, 224>, _>(), [1, 1000]);
    // torchvision's alexnet: 61,100,840 parameters.
    assert_eq!(<AlexNet as Params>::PARAMS, 61_100_840);
    let s = summary::<AlexNet, Rank3<3, 224, 224>>();
    assert_eq!(s.rows[0].output, [64, 55, 55]);
    assert_eq!(s.rows[2].output, [64, 27, 27]);
    assert_eq!(s.rows[13].output, [9216]);
}

/// A 3x3 "same" convolution and its ReLU.
type Block<const I: usize, const O: usize> = (Conv2D<I, O, 3, 1, 1>, ReLU);

/// VGG-16 as a plain alias with block aliases (on the tables).
type Vgg16 = (
    (Block<3, 64>, Block<64, 64>, MaxPool2D<2, 2>),
    (Block<64, 128>, Block<128, 128>, MaxPool2D<2, 2>),
    (
        Block<128, 256>,
        Block<256, 256>,
        Block<256, 256>,
        MaxPool2D<2, 2>,
    ),
    (
        Block<256, 512>,
        Block<512, 512>,
        Block<512, 512>,
        MaxPool2D<2, 2>,
    ),
    (
        Block<512, 512>,
        Block<512, 512>,
        Block<512, 512>,
        MaxPool2D<2, 2>,
    ),
    (
        Flatten2D,
        (Linear<25088, 4096>, ReLU),
        (Linear<4096, 4096>, ReLU),
        Linear<4096, 1000>,
    ),
);

/// VGG-16 written out layer by layer with `#[network]`.
#[typenet::network([3, 224, 224])]
type Vgg16Net = (
    (
        Conv2D<3, 64, 3, 1, 1>,
        ReLU,
        Conv2D<64, 64, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Conv2D<64, 128, 3, 1, 1>,
        ReLU,
        Conv2D<128, 128, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Conv2D<128, 256, 3, 1, 1>,
        ReLU,
        Conv2D<256, 256, 3, 1, 1>,
        ReLU,
        Conv2D<256, 256, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Conv2D<256, 512, 3, 1, 1>,
        ReLU,
        Conv2D<512, 512, 3, 1, 1>,
        ReLU,
        Conv2D<512, 512, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Conv2D<512, 512, 3, 1, 1>,
        ReLU,
        Conv2D<512, 512, 3, 1, 1>,
        ReLU,
        Conv2D<512, 512, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Flatten2D,
        Linear<25088, 4096>,
        ReLU,
        Linear<4096, 4096>,
        ReLU,
        Linear<4096, 1000>,
    ),
);

/// VGG-16's published cost is 15.5 G multiply-adds per 224x224 image (15,470,264,320 by the
/// same convention: weights times inputs, biases not counted); 138,357,544 parameters.
#[test]
fn vgg16_both_ways_with_the_published_multiply_adds() {
    assert_eq!(typed::<Vgg16, Rank4<1, 3, 224, 224>, _>(), [1, 1000]);
    assert_eq!(typed::<Vgg16Net, Rank4<1, 3, 224, 224>, _>(), [1, 1000]);
    const MACS: usize = <Vgg16 as Summarize<Rank3<3, 224, 224>>>::MACS;
    const _: () = assert!(MACS > 15_345_000_000 && MACS < 15_655_000_000);
    assert_eq!(MACS, <Vgg16Net as Summarize<Rank3<3, 224, 224>>>::MACS);
    assert!((MACS as f64 / 15.5e9 - 1.0).abs() < 0.01, "{MACS}");
    assert_eq!(<Vgg16Net as Params>::PARAMS, 138_357_544);
    let text = summary::<Vgg16Net, Rank3<3, 224, 224>>().to_string();
    assert!(text.contains("(15.5 G)"), "{text}");
    assert!(text.contains("Conv2D<3, 64, 3, 1, 1>"), "{text}");
}

/// ResNet-18-shaped (basic blocks, batch norm, global average pooling) on 224x224.
#[typenet::network([3, 224, 224])]
type ResNet18 = (
    (
        Conv2D<3, 64, 7, 2, 3>,
        BatchNorm2D<64>,
        ReLU,
        MaxPool2D<3, 2, 1>,
    ),
    (
        (
            Residual<(
                Conv2D<64, 64, 3, 1, 1>,
                BatchNorm2D<64>,
                ReLU,
                Conv2D<64, 64, 3, 1, 1>,
                BatchNorm2D<64>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<64, 64, 3, 1, 1>,
                BatchNorm2D<64>,
                ReLU,
                Conv2D<64, 64, 3, 1, 1>,
                BatchNorm2D<64>,
            )>,
            ReLU,
        ),
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<64, 128, 3, 2, 1>,
                    BatchNorm2D<128>,
                    ReLU,
                    Conv2D<128, 128, 3, 1, 1>,
                    BatchNorm2D<128>,
                ),
                (Conv2D<64, 128, 1, 2>, BatchNorm2D<128>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<128, 128, 3, 1, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 128, 3, 1, 1>,
                BatchNorm2D<128>,
            )>,
            ReLU,
        ),
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<128, 256, 3, 2, 1>,
                    BatchNorm2D<256>,
                    ReLU,
                    Conv2D<256, 256, 3, 1, 1>,
                    BatchNorm2D<256>,
                ),
                (Conv2D<128, 256, 1, 2>, BatchNorm2D<256>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
            )>,
            ReLU,
        ),
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<256, 512, 3, 2, 1>,
                    BatchNorm2D<512>,
                    ReLU,
                    Conv2D<512, 512, 3, 1, 1>,
                    BatchNorm2D<512>,
                ),
                (Conv2D<256, 512, 1, 2>, BatchNorm2D<512>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<512, 512, 3, 1, 1>,
                BatchNorm2D<512>,
                ReLU,
                Conv2D<512, 512, 3, 1, 1>,
                BatchNorm2D<512>,
            )>,
            ReLU,
        ),
    ),
    (AvgPoolGlobal, Linear<512, 1000>),
);

#[test]
fn resnet18_shaped() {
    assert_eq!(typed::<ResNet18, Rank4<1, 3, 224, 224>, _>(), [1, 1000]);
    let s = summary::<ResNet18, Rank3<3, 224, 224>>();
    assert_eq!(s.rows[3].output, [64, 56, 56]);
    assert_eq!(s.rows.last().map(|r| r.output.clone()), Some(vec![1000]));
}

/// ResNet-50-shaped (bottleneck blocks, batch norm, global average pooling) on 224x224.
#[typenet::network([3, 224, 224])]
type ResNet50 = (
    (
        Conv2D<3, 64, 7, 2, 3>,
        BatchNorm2D<64>,
        ReLU,
        MaxPool2D<3, 2, 1>,
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<64, 64, 1>,
                    BatchNorm2D<64>,
                    ReLU,
                    Conv2D<64, 64, 3, 1, 1>,
                    BatchNorm2D<64>,
                    ReLU,
                    Conv2D<64, 256, 1>,
                    BatchNorm2D<256>,
                ),
                (Conv2D<64, 256, 1>, BatchNorm2D<256>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<256, 64, 1>,
                BatchNorm2D<64>,
                ReLU,
                Conv2D<64, 64, 3, 1, 1>,
                BatchNorm2D<64>,
                ReLU,
                Conv2D<64, 256, 1>,
                BatchNorm2D<256>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<256, 64, 1>,
                BatchNorm2D<64>,
                ReLU,
                Conv2D<64, 64, 3, 1, 1>,
                BatchNorm2D<64>,
                ReLU,
                Conv2D<64, 256, 1>,
                BatchNorm2D<256>,
            )>,
            ReLU,
        ),
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<256, 128, 1>,
                    BatchNorm2D<128>,
                    ReLU,
                    Conv2D<128, 128, 3, 2, 1>,
                    BatchNorm2D<128>,
                    ReLU,
                    Conv2D<128, 512, 1>,
                    BatchNorm2D<512>,
                ),
                (Conv2D<256, 512, 1, 2>, BatchNorm2D<512>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<512, 128, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 128, 3, 1, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 512, 1>,
                BatchNorm2D<512>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<512, 128, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 128, 3, 1, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 512, 1>,
                BatchNorm2D<512>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<512, 128, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 128, 3, 1, 1>,
                BatchNorm2D<128>,
                ReLU,
                Conv2D<128, 512, 1>,
                BatchNorm2D<512>,
            )>,
            ReLU,
        ),
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<512, 256, 1>,
                    BatchNorm2D<256>,
                    ReLU,
                    Conv2D<256, 256, 3, 2, 1>,
                    BatchNorm2D<256>,
                    ReLU,
                    Conv2D<256, 1024, 1>,
                    BatchNorm2D<1024>,
                ),
                (Conv2D<512, 1024, 1, 2>, BatchNorm2D<1024>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<1024, 256, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 1024, 1>,
                BatchNorm2D<1024>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<1024, 256, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 1024, 1>,
                BatchNorm2D<1024>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<1024, 256, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 1024, 1>,
                BatchNorm2D<1024>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<1024, 256, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 1024, 1>,
                BatchNorm2D<1024>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<1024, 256, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 256, 3, 1, 1>,
                BatchNorm2D<256>,
                ReLU,
                Conv2D<256, 1024, 1>,
                BatchNorm2D<1024>,
            )>,
            ReLU,
        ),
    ),
    (
        (
            GeneralizedResidual<
                (
                    Conv2D<1024, 512, 1>,
                    BatchNorm2D<512>,
                    ReLU,
                    Conv2D<512, 512, 3, 2, 1>,
                    BatchNorm2D<512>,
                    ReLU,
                    Conv2D<512, 2048, 1>,
                    BatchNorm2D<2048>,
                ),
                (Conv2D<1024, 2048, 1, 2>, BatchNorm2D<2048>),
            >,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<2048, 512, 1>,
                BatchNorm2D<512>,
                ReLU,
                Conv2D<512, 512, 3, 1, 1>,
                BatchNorm2D<512>,
                ReLU,
                Conv2D<512, 2048, 1>,
                BatchNorm2D<2048>,
            )>,
            ReLU,
        ),
        (
            Residual<(
                Conv2D<2048, 512, 1>,
                BatchNorm2D<512>,
                ReLU,
                Conv2D<512, 512, 3, 1, 1>,
                BatchNorm2D<512>,
                ReLU,
                Conv2D<512, 2048, 1>,
                BatchNorm2D<2048>,
            )>,
            ReLU,
        ),
    ),
    (AvgPoolGlobal, Linear<2048, 1000>),
);

/// ResNet-50's published cost is about 4.1 G multiply-adds per 224x224 image.
#[test]
fn resnet50_shaped() {
    assert_eq!(typed::<ResNet50, Rank4<1, 3, 224, 224>, _>(), [1, 1000]);
    let macs = <ResNet50 as Summarize<Rank3<3, 224, 224>>>::MACS as f64;
    assert!((macs / 4.1e9 - 1.0).abs() < 0.03, "{macs}");
}

/// A ResNet-50-shaped plain alias on the tables, with block aliases.
type Bottleneck<const I: usize, const M: usize, const O: usize, const S: usize> = (
    GeneralizedResidual<
        (
            (Conv2D<I, M, 1>, BatchNorm2D<M>, ReLU),
            (Conv2D<M, M, 3, S, 1>, BatchNorm2D<M>, ReLU),
            (Conv2D<M, O, 1>, BatchNorm2D<O>),
        ),
        (Conv2D<I, O, 1, S>, BatchNorm2D<O>),
    >,
    ReLU,
);
type Identity<const O: usize, const M: usize> = (
    Residual<(
        (Conv2D<O, M, 1>, BatchNorm2D<M>, ReLU),
        (Conv2D<M, M, 3, 1, 1>, BatchNorm2D<M>, ReLU),
        (Conv2D<M, O, 1>, BatchNorm2D<O>),
    )>,
    ReLU,
);
type ResNet50Plain = (
    (
        Conv2D<3, 64, 7, 2, 3>,
        BatchNorm2D<64>,
        ReLU,
        MaxPool2D<3, 2, 1>,
    ),
    (
        Bottleneck<64, 64, 256, 1>,
        Identity<256, 64>,
        Identity<256, 64>,
    ),
    (
        Bottleneck<256, 128, 512, 2>,
        Identity<512, 128>,
        Identity<512, 128>,
        Identity<512, 128>,
    ),
    (
        Bottleneck<512, 256, 1024, 2>,
        Identity<1024, 256>,
        Identity<1024, 256>,
        Identity<1024, 256>,
        Identity<1024, 256>,
        Identity<1024, 256>,
    ),
    (
        Bottleneck<1024, 512, 2048, 2>,
        Identity<2048, 512>,
        Identity<2048, 512>,
    ),
    (AvgPoolGlobal, Linear<2048, 1000>),
);

#[test]
fn resnet50_plain_alias_agrees_with_the_network_one() {
    assert_eq!(
        typed::<ResNet50Plain, Rank4<1, 3, 224, 224>, _>(),
        [1, 1000]
    );
    assert_eq!(
        <ResNet50Plain as Params>::PARAMS,
        <ResNet50 as Params>::PARAMS
    );
    assert_eq!(
        <ResNet50Plain as Summarize<Rank3<3, 224, 224>>>::MACS,
        <ResNet50 as Summarize<Rank3<3, 224, 224>>>::MACS
    );
}

/// A CIFAR residual block (plain alias): 16x32x32 in, the same out.
#[test]
fn cifar_residual_block() {
    type Res = (
        (Conv2D<3, 16, 3, 1, 1>, BatchNorm2D<16>, ReLU),
        (
            Residual<(
                Conv2D<16, 16, 3, 1, 1>,
                BatchNorm2D<16>,
                ReLU,
                Conv2D<16, 16, 3, 1, 1>,
                BatchNorm2D<16>,
            )>,
            ReLU,
        ),
        (AvgPoolGlobal, Linear<16, 10>),
    );
    assert_eq!(run::<Res, _, _>(zeros::<Rank4<2, 3, 32, 32>>()), [2, 10]);
}

// ---------------------------------------------------------------------------------------------
// Sizes outside typenet's tables.

/// A conv flattened without pooling: 4 channels of 26x26 = 2,704 features.
#[typenet::network([1, 28, 28])]
type ConvFlat = ((Conv2D<1, 4, 3>, ReLU), Flatten2D, Linear<2704, 10>);

#[test]
fn conv_flattened_without_pooling() {
    assert_eq!(
        run::<ConvFlat, _, _>(zeros::<Rank4<2, 1, 28, 28>>()),
        [2, 10]
    );
    assert_eq!(run::<ConvFlat, _, _>(zeros::<Rank3<1, 28, 28>>()), [10]);
}

/// A spectrogram-like 1x40x100 input: a "same" conv and a 2x2 pool give 8x20x50 = 8,000.
#[typenet::network([1, 40, 100])]
type Spectrogram = (
    Conv2D<1, 8, 3, 1, 1>,
    ReLU,
    MaxPool2D<2, 2>,
    Flatten2D,
    Linear<8000, 10>,
);

#[test]
fn input_40_by_100() {
    assert_eq!(
        run::<Spectrogram, _, _>(zeros::<Rank4<2, 1, 40, 100>>()),
        [2, 10]
    );
}

/// 28x32 (non-square): conv 5 → 24x28, pool 2 → 12x14; 4·12·14 = 672.
#[typenet::network([1, 28, 32])]
type Wide = (
    Conv2D<1, 4, 5>,
    ReLU,
    MaxPool2D<2, 2>,
    Flatten2D,
    Linear<672, 10>,
);

#[test]
fn input_28_by_32() {
    assert_eq!(run::<Wide, _, _>(zeros::<Rank4<1, 1, 28, 32>>()), [1, 10]);
    assert_eq!(
        summary::<Wide, Rank3<1, 28, 32>>().rows[2].output,
        [4, 12, 14]
    );
}

/// 3x100x100: two "same" convs and 2x2 pools, 100 → 50 → 25; 16·25·25 = 10,000.
#[typenet::network([3, 100, 100])]
type Hundred = (
    (Conv2D<3, 8, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<8, 16, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<10000, 10>),
);

#[test]
fn input_100_by_100() {
    assert_eq!(
        run::<Hundred, _, _>(zeros::<Rank4<1, 3, 100, 100>>()),
        [1, 10]
    );
}

/// 512x512: conv 7 stride 2 pad 3 → 256, pool → 128, conv 3 stride 2 pad 1 → 64, global pool.
#[typenet::network([1, 512, 512])]
type Big512 = (
    Conv2D<1, 4, 7, 2, 3>,
    ReLU,
    MaxPool2D<2, 2>,
    Conv2D<4, 8, 3, 2, 1>,
    ReLU,
    AvgPoolGlobal,
    Linear<8, 2>,
);

#[test]
fn input_512_by_512() {
    assert_eq!(
        run::<Big512, _, _>(zeros::<Rank4<1, 1, 512, 512>>()),
        [1, 2]
    );
    assert_eq!(
        summary::<Big512, Rank3<1, 512, 512>>().rows[3].output,
        [8, 64, 64]
    );
}

/// 1024x1024: a 4x4 stride-4 patch conv → 256, conv 3 stride 2 pad 1 → 128, 4x4 pool → 32;
/// 4·32·32 = 4,096 features.
#[typenet::network([1, 1024, 1024])]
type Big1024 = (
    (Conv2D<1, 2, 4, 4>, ReLU),
    (Conv2D<2, 4, 3, 2, 1>, ReLU, MaxPool2D<4, 4>),
    (Flatten2D, Linear<4096, 10>),
);

#[test]
fn input_1024_by_1024() {
    assert_eq!(
        run::<Big1024, _, _>(zeros::<Rank4<1, 1, 1024, 1024>>()),
        [1, 10]
    );
}

/// A 1x1 conv (channel mixing): 8x10x10 → 4x10x10.
#[typenet::network([8, 10, 10])]
type Pointwise = (Conv2D<8, 4, 1>, ReLU, Flatten2D, Linear<400, 3>);

#[test]
fn one_by_one_conv() {
    assert_eq!(
        run::<Pointwise, _, _>(zeros::<Rank4<2, 8, 10, 10>>()),
        [2, 3]
    );
}

/// Stride 3: (30 - 3) / 3 + 1 = 10.
#[typenet::network([1, 30, 30])]
type Stride3 = (Conv2D<1, 4, 3, 3>, ReLU, Flatten2D, Linear<400, 2>);

#[test]
fn stride_3() {
    assert_eq!(run::<Stride3, _, _>(zeros::<Rank4<1, 1, 30, 30>>()), [1, 2]);
}

/// Kernel 11 without padding: 32 - 11 + 1 = 22.
#[typenet::network([1, 32, 32])]
type Kernel11 = (Conv2D<1, 2, 11>, Flatten2D, Linear<968, 2>);

#[test]
fn kernel_11() {
    assert_eq!(
        run::<Kernel11, _, _>(zeros::<Rank4<1, 1, 32, 32>>()),
        [1, 2]
    );
}

/// Padding 5 with kernel 11 keeps the size ("same"): 20 + 10 - 11 + 1 = 20.
#[typenet::network([1, 20, 20])]
type Padding5 = (Conv2D<1, 2, 11, 1, 5>, ReLU, Flatten2D, Linear<800, 2>);

#[test]
fn padding_5() {
    assert_eq!(
        run::<Padding5, _, _>(zeros::<Rank4<1, 1, 20, 20>>()),
        [1, 2]
    );
}

/// Odd sizes with stride 2: 3x33x33 → (33 - 3) / 2 + 1 = 16; non-square 17x29 with padding 1
/// → 9x15.
#[typenet::network([3, 17, 29])]
type OddSizes = (
    Conv2D<3, 6, 3, 2, 1>,
    ReLU,
    Conv2D<6, 6, 3, 2>,
    Flatten2D,
    Linear<168, 2>,
);

#[test]
fn odd_non_square_sizes() {
    // 17x29 → 9x15 → 4x7; 6·4·7 = 168.
    assert_eq!(
        run::<OddSizes, _, _>(zeros::<Rank4<1, 3, 17, 29>>()),
        [1, 2]
    );
}

/// Padded pools: a 3x3 stride-1 average pool padded by 1 keeps 5x5; ResNet's stem pool
/// (3, 2, 1) takes 10 to 5.
#[typenet::network([2, 10, 10])]
type PaddedPools = (
    MaxPool2D<3, 2, 1>,
    AvgPool2D<3, 1, 1>,
    Flatten2D,
    Linear<50, 1>,
);

#[test]
fn padded_pools() {
    assert_eq!(
        run::<PaddedPools, _, _>(zeros::<Rank4<1, 2, 10, 10>>()),
        [1, 1]
    );
}

/// A 5x5 stride-5 average pool of a 100x100 image: 20x20.
#[typenet::network([3, 100, 100])]
type CoarsePool = (AvgPool2D<5, 5>, Flatten2D, Linear<1200, 2>);

#[test]
fn coarse_pool() {
    assert_eq!(
        run::<CoarsePool, _, _>(zeros::<Rank4<1, 3, 100, 100>>()),
        [1, 2]
    );
}

/// Batch norm and a global max pool on a 3x40x100 input.
#[typenet::network([3, 40, 100])]
type NormPool = (
    Conv2D<3, 8, 3>,
    BatchNorm2D<8>,
    ReLU,
    MaxPoolGlobal,
    Linear<8, 2>,
);

#[test]
fn batch_norm_and_global_max_pool() {
    assert_eq!(
        run::<NormPool, _, _>(zeros::<Rank4<2, 3, 40, 100>>()),
        [2, 2]
    );
}

/// A residual block repeated three times, then a downsampling block with a projection shortcut
/// (both branches 16x32x32 → 32x16x16).
#[typenet::network([16, 32, 32])]
type Residuals = (
    Repeated<Residual<(Conv2D<16, 16, 3, 1, 1>, ReLU, Conv2D<16, 16, 3, 1, 1>)>, 3>,
    GeneralizedResidual<
        (Conv2D<16, 32, 3, 2, 1>, ReLU, Conv2D<32, 32, 3, 1, 1>),
        Conv2D<16, 32, 1, 2>,
    >,
    AvgPoolGlobal,
);

#[test]
fn repeated_and_projected_residuals() {
    assert_eq!(
        run::<Residuals, _, _>(zeros::<Rank4<1, 16, 32, 32>>()),
        [1, 32]
    );
}

/// The Fashion-MNIST example's CNN (plain alias): 28 → 14 → 7; 32·7·7 = 1,568.
#[test]
fn fashion_mnist_cnn_plain_alias() {
    type Cnn = (
        (Conv2D<1, 16, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
        (Conv2D<16, 32, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
        (Flatten2D, Linear<1568, 64>, ReLU, Linear<64, 10>),
    );
    assert_eq!(run::<Cnn, _, _>(zeros::<Rank4<2, 1, 28, 28>>()), [2, 10]);
}

/// A `#[network]` model takes runtime (`usize`) batch and spatial sizes too, checked as it runs.
#[typenet::network([1, 28, 28])]
type Pooled = (Conv2D<1, 4, 3>, ReLU, MaxPool2D<2, 2>, AvgPoolGlobal);

#[test]
fn network_with_runtime_sizes() {
    let dev = Cpu::default();
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(3, Const, 28, 28));
    assert_eq!(run::<Pooled, _, _>(x), [3, 4]);
}

// ---------------------------------------------------------------------------------------------
// Long sequences.

/// Twelve layers in one tuple of a `#[network([64])]` model (regrouped by the macro).
#[typenet::network([64])]
type Twelve = (
    Linear<64, 32>,
    ReLU,
    Linear<32, 32>,
    ReLU,
    Linear<32, 32>,
    ReLU,
    Linear<32, 32>,
    ReLU,
    Linear<32, 16>,
    ReLU,
    Linear<16, 4>,
    Softmax,
);

#[test]
fn twelve_layers_in_one_tuple() {
    assert_eq!(run::<Twelve, _, _>(zeros::<Rank2<5, 64>>()), [5, 4]);
    assert_eq!(summary::<Twelve, Rank1<64>>().rows.len(), 12);
}

/// Forty layers: the macro nests them balanced (depth 3), so type checking stays fast.
#[typenet::network([8])]
type Forty = (
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 8>,
    Tanh,
    Linear<8, 2>,
    Sigmoid,
);

#[test]
fn forty_layers() {
    assert_eq!(run::<Forty, _, _>(zeros::<Rank2<2, 8>>()), [2, 2]);
    // 19 dense layers 8→8 (72 each) and one 8→2 (18).
    assert_eq!(<Forty as Params>::PARAMS, 19 * 72 + 18);
    assert_eq!(summary::<Forty, Rank1<8>>().rows.len(), 40);
}

/// `seq!` writes a plain alias of any length.
type Thirteen = typenet::seq!(
    Linear<10, 10>, ReLU, Linear<10, 10>, ReLU, Linear<10, 10>, ReLU, Linear<10, 10>,
    ReLU, Linear<10, 10>, ReLU, Linear<10, 10>, ReLU, Linear<10, 3>,
);

#[test]
fn seq_of_thirteen_layers() {
    assert_eq!(run::<Thirteen, _, _>(zeros::<Rank2<4, 10>>()), [4, 3]);
    assert_eq!(summary::<Thirteen, Rank1<10>>().rows.len(), 13);
}

/// A plain MLP (the tables are not involved).
#[test]
fn mlp_plain_alias() {
    type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
    assert_eq!(run::<Mlp, _, _>(zeros::<Rank2<2, 784>>()), [2, 10]);
}

/// A model mixing a block alias (which `#[network]` cannot see into) with layers after it: the
/// macro computes up to the alias, the tables take over from there.
#[typenet::network([3, 32, 32])]
type Mixed = (
    Conv2D<3, 8, 5>,
    ReLU,
    Block<8, 8>,
    MaxPool2D<2, 2>,
    Flatten2D,
    Linear<1568, 10>,
);

#[test]
fn network_stops_at_an_alias_and_the_tables_continue() {
    // 32 → 28 (conv 5) → 28 (same) → 14; 8·14·14 = 1,568.
    assert_eq!(run::<Mixed, _, _>(zeros::<Rank4<1, 3, 32, 32>>()), [1, 10]);
}

/// Two models needing the same rule (4x26x26) coexist: each has its own marker.
#[typenet::network([1, 28, 28])]
type ConvFlatTwin = (Conv2D<1, 4, 3>, Flatten2D, Linear<2704, 2>);

#[test]
fn two_models_with_the_same_sizes() {
    assert_eq!(
        run::<ConvFlatTwin, _, _>(zeros::<Rank4<1, 1, 28, 28>>()),
        [1, 2]
    );
    assert_eq!(
        run::<ConvFlat, _, _>(zeros::<Rank4<1, 1, 28, 28>>()),
        [1, 10]
    );
}

/// A pool's padding of more than half its kernel is rejected when it runs (a plain alias; with
/// `#[network]` it is a compile error), as PyTorch does.
#[test]
fn pool_padding_over_half_the_kernel_is_an_error() {
    let r = MaxPool2D::<2, 2, 2>.try_forward(zeros::<Rank3<1, 8, 8>>());
    assert!(r.is_err());
    let ok = MaxPool2D::<2, 2, 1>.try_forward(zeros::<Rank3<1, 8, 8>>());
    assert_eq!(ok.map(|y| y.shape().concrete()).ok(), Some([1, 5, 5]));
}
