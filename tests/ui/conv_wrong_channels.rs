// The second conv expects 8 input channels, but the first produces 6.
use typenet::prelude::*;

type Net = (Conv2D<1, 6, 5>, ReLU, Conv2D<8, 16, 5>);

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<Net, f32>();
    let _y = m.forward(dev.zeros::<Rank3<1, 28, 28>>());
}
