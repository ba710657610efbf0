// The data's ids come from a vocabulary of 1,200; the embedding has rows for 1,000.
use typenet::prelude::*;

type Net = (Embedding<1000, 16>, Gru<16, 32>, Linear<32, 2>);

fn main() -> typenet::Result<()> {
    let data = TokenSet::<16, 1200, Classes<2>>::from_sequences(&[vec![5u32]], vec![0], Pad::End)?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    model.fit(&data, &FitConfig::default())?;
    Ok(())
}
