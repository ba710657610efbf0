// Mean squared error compares real-valued targets; Fashion-MNIST's labels are class indices.
use typenet::prelude::*;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);

fn main() -> typenet::Result<()> {
    let data = FashionMnist::load(FASHION_MNIST_DIR)?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Mlp, f32>(),
        AdamConfig::default(),
        MeanSquaredError,
        &["mse"],
    )?;
    model.fit(&data.train, &FitConfig::default())?;
    Ok(())
}
