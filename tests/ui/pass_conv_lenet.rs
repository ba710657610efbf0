// LeNet-5 with computed output sizes: compiles, and its summary is available at compile time.
use typenet::prelude::*;

type LeNet = (
    (Conv2D<1, 6, 5, 1, 2>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<6, 16, 5>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<400, 120>, ReLU, Linear<120, 84>, ReLU, Linear<84, 10>),
);
const _: () = assert!(<LeNet as Params>::PARAMS == 61_706);

fn main() {
    let dev = Cpu::default();
    let m = dev.build_module::<LeNet, f32>();
    let _y: Tensor<Rank2<2, 10>, f32, _> = m.forward(dev.zeros::<Rank4<2, 1, 28, 28>>());
    let _s = summary::<LeNet, Rank3<1, 28, 28>>();
}
