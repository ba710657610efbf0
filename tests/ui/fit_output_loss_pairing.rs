// Two outputs (10 class logits, 1 value) with their losses given in the wrong order.
use typenet::prelude::*;

type TwoHeads = (Linear<4, 16>, ReLU, SplitInto<(Linear<16, 10>, Linear<16, 1>)>, Pack);

fn main() -> typenet::Result<()> {
    let data = InMemory::<Rank1<4>, PerOutput<(Classes<10>, Values<1>)>>::new(
        vec![0.0; 4],
        vec![(3, [0.5])],
    )?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<TwoHeads, f32>(),
        AdamConfig::default(),
        Losses::weighted((MeanSquaredError, SparseCategoricalCrossentropy), [1.0, 1.0]),
        &["accuracy"],
    )?;
    model.fit(&data, &FitConfig::default())?;
    Ok(())
}
