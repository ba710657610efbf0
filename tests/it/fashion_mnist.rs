//! Real data: one epoch of the 784-128-10 MLP on Fashion-MNIST reaches 0.80 test accuracy.
//!
//! Needs the Debian package `dataset-fashion-mnist`. Without it the test says plainly that it
//! skipped, unless `TYPENET_REQUIRE_DATA=1` (as in CI), where a missing data set fails it.

use typenet::prelude::*;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);

#[test]
fn one_epoch_of_the_mlp_reaches_080() {
    let data = match FashionMnist::load(FASHION_MNIST_DIR) {
        Ok(d) => d,
        Err(e @ Error::DatasetMissing { .. }) => {
            if std::env::var("TYPENET_REQUIRE_DATA").as_deref() == Ok("1") {
                panic!("TYPENET_REQUIRE_DATA=1 but Fashion-MNIST is missing: {e}");
            }
            eprintln!("SKIPPED one_epoch_of_the_mlp_reaches_080: {e}");
            return;
        }
        Err(e) => panic!("Fashion-MNIST is present but does not load: {e}"),
    };
    assert_eq!((data.train.len(), data.test.len()), (60_000, 10_000));
    let dev = Cpu::seed_from_u64(0);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Mlp, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )
    .unwrap();
    let cfg = FitConfig {
        epochs: 1,
        verbosity: Verbosity::Lines,
        ..Default::default()
    };
    let history = model.fit(&data.train, &cfg).unwrap();
    let test = model.evaluate(&data.test).unwrap();
    println!("history {}; test {test}", history.to_json());
    assert!(
        test.metrics["accuracy"] >= 0.80,
        "test accuracy {}",
        test.metrics["accuracy"]
    );
}
