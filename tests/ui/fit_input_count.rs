// A data set of two inputs (image, profile) for a model with three branches.
use typenet::prelude::*;

type ThreeBranches = (
    Unpack,
    Parallel<((Flatten2D, Linear<784, 8>), Linear<56, 8>, Linear<4, 8>)>,
    Concat<24>,
    Linear<24, 10>,
);

fn main() -> typenet::Result<()> {
    let images = InMemory::<Rank3<1, 28, 28>, Classes<10>>::new(vec![0.0; 784], vec![0])?;
    let profiles = InMemory::<Rank1<56>, NoLabels>::unlabeled(vec![0.0; 56])?;
    let dev = Cpu::default();
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<ThreeBranches, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    model.fit(&Zip::new(&images, &profiles)?, &FitConfig::default())?;
    Ok(())
}
