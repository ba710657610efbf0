//! [`ShapeList`]: several sample shapes, as a tuple.

use dfdx::shapes::ConstShape;

/// A tuple of one to six sample shapes, e.g. `(Rank3<1, 28, 28>, Rank1<4>)`: the inputs or
/// outputs of a layer or model that takes or gives several tensors. [`Packing`](super::Packing)
/// adds what a packed batch of them needs.
pub trait ShapeList: 'static {
    /// Values of all the shapes together.
    const NUMEL: usize;
    /// Each shape's dimensions, in order.
    fn dims() -> Vec<Vec<usize>>;
}

macro_rules! shape_list {
    ($($s:ident),+) => {
        impl<$($s: ConstShape),+> ShapeList for ($($s,)+) {
            const NUMEL: usize = 0 $(+ $s::NUMEL)+;
            fn dims() -> Vec<Vec<usize>> {
                vec![$($s::default().concrete().into()),+]
            }
        }
    };
}
shape_list!(A);
shape_list!(A, B);
shape_list!(A, B, C);
shape_list!(A, B, C, D);
shape_list!(A, B, C, D, E);
shape_list!(A, B, C, D, E, F);
