// Kernel 11 is outside the compile-time tables of a plain alias (#[network] takes it).
use typenet::prelude::*;

type Stem = (Conv2D<3, 64, 11, 4, 2>, ReLU);

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<Stem, f32>();
    let _y = m.forward(dev.zeros::<Rank3<3, 224, 224>>());
}
