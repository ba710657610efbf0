// Fashion-MNIST samples are 784 values; this model takes 100.
use typenet::prelude::*;

type Small = (Linear<100, 32>, ReLU, Linear<32, 10>);

fn main() -> typenet::Result<()> {
    let data = FashionMnist::load(FASHION_MNIST_DIR)?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Small, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    model.fit(&data.train, &FitConfig::default())?;
    Ok(())
}
