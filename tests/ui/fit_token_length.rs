// The data's sequences are 20 tokens long; the model has positions for 16.
use typenet::prelude::*;

type Net = (Embedding<64, 16>, PositionalEmbedding<16, 16>, Gru<16, 32>, Linear<32, 2>);

fn main() -> typenet::Result<()> {
    let data = TokenSet::<20, 64, Classes<2>>::from_sequences(&[vec![5u32]], vec![0], Pad::End)?;
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
