// 16 channels of 5x5 flatten to 400 features, not 401.
use typenet::prelude::*;

type Net = (
    (Conv2D<1, 16, 5>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<16, 16, 5>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<401, 10>),
);

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<Net, f32>();
    let _y = m.forward(dev.zeros::<Rank3<1, 32, 32>>());
}
