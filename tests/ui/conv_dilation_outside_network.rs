// A dilated conv in a plain alias: the tables know dilation 1 only (#[network] takes it).
use typenet::prelude::*;

type Atrous = (Conv2D<3, 8, 3, 1, 2, 2>, ReLU);

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<Atrous, f32>();
    let _y = m.forward(dev.zeros::<Rank3<3, 32, 32>>());
}
