//! The test accuracy of an exported Fashion-MNIST classifier run by tract, not typenet: the
//! independent check of `export_onnx`'s file.
//!
//! ```text
//! cargo run --release --features onnx --example export_onnx -- --out cnn.onnx --json
//! cargo run -p interop-tests --example tract_accuracy -- cnn.onnx [DATA_DIR]
//! ```
//! Prints `tract test accuracy A` (the file's class scores' arg-max against the labels of the
//! 10,000 test images, scaled to `[0, 1]` as typenet scales them).

use tract_onnx::prelude::*;
use typenet::prelude::{Dataset, FashionMnistImages, FASHION_MNIST_DIR};

fn main() -> TractResult<()> {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: tract_accuracy FILE.onnx [DATA_DIR]");
        std::process::exit(2);
    };
    let dir = args.next().unwrap_or_else(|| FASHION_MNIST_DIR.to_string());
    let test = FashionMnistImages::load(&dir)?.test;
    let batch = 500;
    let model = tract_onnx::onnx()
        .model_for_path(&file)?
        .with_input_fact(0, f32::fact([batch, 1, 28, 28]).into())?
        .into_optimized()?
        .into_runnable()?;
    let mut correct = 0;
    for start in (0..test.len()).step_by(batch) {
        let n = batch.min(test.len() - start);
        let mut x = vec![0.0f32; batch * 784];
        for i in 0..n {
            test.write_features(start + i, &mut x[i * 784..(i + 1) * 784]);
        }
        let x = tract_ndarray::Array4::from_shape_vec((batch, 1, 28, 28), x)?;
        let out = model.run(tvec!(Tensor::from(x).into()))?;
        let scores = out[0].to_plain_array_view::<f32>()?;
        for i in 0..n {
            let row = scores.slice(tract_ndarray::s![i, ..]);
            let best = (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap_or(0);
            correct += usize::from(best == test.target(start + i) as usize);
        }
    }
    println!(
        "tract test accuracy {:.4}",
        correct as f64 / test.len() as f64
    );
    Ok(())
}
