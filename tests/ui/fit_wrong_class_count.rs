// Fashion-MNIST has 10 classes; this model outputs 9 scores.
use typenet::prelude::*;

type NineWay = (Linear<784, 128>, ReLU, Linear<128, 9>);

fn main() -> typenet::Result<()> {
    let data = FashionMnist::load(FASHION_MNIST_DIR)?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<NineWay, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    model.fit(&data.train, &FitConfig::default())?;
    Ok(())
}
