// A 7x7 kernel does not fit a 5x5 input padded by 0.
use typenet::prelude::*;

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<Conv2D<1, 4, 7>, f32>();
    let _y = m.forward(dev.zeros::<Rank3<1, 5, 5>>());
}
