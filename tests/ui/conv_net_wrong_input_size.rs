// A model declared for 28x28 inputs is given 32x32 ones.
use typenet::prelude::*;

#[network([1, 28, 28])]
type Small = ((Conv2D<1, 4, 3>, ReLU), Flatten2D, Linear<2704, 10>);

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<Small, f32>();
    let _y = m.forward(dev.zeros::<Rank4<2, 1, 32, 32>>());
}
