//! The convolutional layers pass `typenet::gradcheck` (central finite differences, PyTorch's
//! tolerances) for random seeds and inputs, 64 cases each: convolutions with stride and padding,
//! max-pooling on inputs without near-ties (its kink), average pooling, flattening, and a small
//! CNN end to end.

use proptest::prelude::*;
use typenet::gradcheck::strategy;
use typenet::prelude::*;

type TestResult = std::result::Result<(), TestCaseError>;

fn check<M: GradCheckModel<S>, S: Shape>(model: &mut M, x: &Tensor<S, f64, Cpu>) -> TestResult {
    gradcheck(model, x, &GradCheckConfig::default())?;
    Ok(())
}

type SmallCnn = (
    (Conv2D<1, 2, 3, 1, 1>, Tanh, AvgPool2D<2, 2>),
    (Conv2D<2, 3, 2, 1, 0>, Tanh, Flatten2D),
    Linear<3, 3>,
);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn conv_batched(mut m in strategy::model::<Conv2D<2, 3, 3>>(), x in strategy::tensor::<Rank4<2, 2, 5, 4>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn conv_stride_2_padding_1(mut m in strategy::model::<Conv2D<2, 2, 3, 2, 1>>(), x in strategy::tensor::<Rank3<2, 5, 5>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn conv_kernel_as_large_as_padded_input(mut m in strategy::model::<Conv2D<1, 2, 5, 1, 2>>(), x in strategy::tensor::<Rank3<1, 1, 1>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn max_pool_away_from_ties(x in strategy::tensor_distinct::<Rank4<2, 2, 4, 4>>(-2.0..2.0, 1e-3)) {
        check(&mut MaxPool2D::<2, 2>, &x)?;
    }

    #[test]
    fn max_pool_overlapping_windows(x in strategy::tensor_distinct::<Rank3<1, 5, 5>>(-2.0..2.0, 1e-3)) {
        check(&mut MaxPool2D::<3, 1, 1>, &x)?;
    }

    #[test]
    fn avg_pool_with_padding(x in strategy::tensor::<Rank4<2, 2, 5, 5>>(-2.0..2.0)) {
        check(&mut AvgPool2D::<3, 2, 1>, &x)?;
    }

    #[test]
    fn pools_whose_window_covers_a_padded_1x1_input(x in strategy::tensor::<Rank3<2, 1, 1>>(-2.0..2.0)) {
        check(&mut AvgPool2D::<3, 1, 1>, &x)?;
        check(&mut MaxPool2D::<3, 1, 1>, &x)?;
    }

    #[test]
    fn flatten(x in strategy::tensor::<Rank4<2, 3, 2, 2>>(-2.0..2.0)) {
        check(&mut Flatten2D, &x)?;
    }

    #[test]
    fn small_cnn(mut m in strategy::model::<SmallCnn>(), x in strategy::tensor::<Rank4<2, 1, 4, 4>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }
}
