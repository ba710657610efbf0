// An autoencoder must output images the size of its input: 28×28 in, 26×26 out.
use typenet::prelude::*;

type Shrinks = (Conv2D<1, 8, 3, 1, 1>, ReLU, Conv2D<8, 1, 3>);

fn main() -> typenet::Result<()> {
    let data = FashionMnistImages::load(FASHION_MNIST_DIR)?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Shrinks, f32>(),
        AdamConfig::default(),
        MeanSquaredError,
        &[],
    )?;
    model.fit(&Reconstruction::of(&data.train), &FitConfig::default())?;
    Ok(())
}
