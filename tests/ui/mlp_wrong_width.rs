// The second Linear takes 100 inputs but the first gives 128: the model does not fit.
use typenet::prelude::*;

type Broken = (Linear<784, 128>, ReLU, Linear<100, 10>);

fn main() {
    let dev = Cpu::default();
    let model = dev.build_module::<Broken, f32>();
    let x: Tensor<Rank2<32, 784>, f32, _> = dev.zeros();
    let _ = model.forward(x);
}
