//! Times one LeNet training step (forward, backward, Adam update) at batch 64 on random data and
//! prints the median over `--steps` steps (default 50) after 5 warm-up steps.
//!
//! A bench target without criterion's harness (`cargo test` does not build it):
//! ```text
//! cargo bench --bench lenet_step
//! cargo bench --bench lenet_step -- --steps 100 --cache
//! ```
//!
//! The net is `Conv2D<1,8,3>, ReLU, MaxPool2D<2,2>, Conv2D<8,16,3>, ReLU, MaxPool2D<2,2>,
//! Flatten2D, Linear<400,10>` on `(64, 1, 28, 28)` inputs with a runtime batch dimension, exactly
//! what [`Trainer`] feeds it. `--cache` turns on dfdx's allocation cache (`dev.enable_cache()`).
//!
//! Measured on a quiet 2-core machine (load average < 1), 100 steps per run: with `--cache` the
//! medians of 5 runs were 2.23–2.41 ms (best step 2.08 ms); without it 5.6–5.8 ms (3 runs), most
//! of the difference being page faults of fresh allocations (glibc returns freed memory to the
//! OS). PyTorch takes 4.6–7.4 ms per step for this net on the same machine, in
//! `scripts/compare.sh --threads 2` runs next to typenet's. `fit` turns the cache on by default.
use std::time::Instant;
use typenet::prelude::*;

/// A LeNet-style net: two 3×3 convolutions, each with a 2×2 max-pool, then one dense layer.
type LeNet = (
    (Conv2D<1, 8, 3>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<8, 16, 3>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<400, 10>),
);

fn main() {
    let steps: usize = std::env::args()
        .skip_while(|a| a != "--steps")
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let batch = 64;
    let dev = Cpu::seed_from_u64(0);
    if std::env::args().any(|a| a == "--cache") {
        dev.enable_cache();
    }
    let mut model = dev.build_module::<LeNet, f32>();
    let mut opt = Adam::new(&model, AdamConfig::default());
    let mut grads = model.alloc_grads();
    let x: Tensor<(usize, Const<1>, Const<28>, Const<28>), f32, _> =
        dev.sample_normal_like(&(batch, Const, Const, Const));
    let mut onehot = vec![0.0f32; batch * 10];
    for i in 0..batch {
        onehot[i * 10 + i % 10] = 1.0;
    }
    let y = dev.tensor_from_vec(onehot, (batch, Const::<10>));

    let mut times = Vec::with_capacity(steps);
    for step in 0..steps + 5 {
        let t = Instant::now();
        let out = model.forward_mut(x.clone().traced(grads));
        let loss = cross_entropy_with_logits_loss(out, y.clone());
        grads = loss.backward();
        if let Err(e) = opt.update(&mut model, &grads) {
            eprintln!("optimizer error: {e:?}");
            std::process::exit(1);
        }
        model.zero_grads(&mut grads);
        if step >= 5 {
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "LeNet train step, batch {batch}, Adam: median {:.3} ms, best {:.3} ms over {steps} steps ({} threads)",
        times[times.len() / 2],
        times[0],
        rayon::current_num_threads()
    );
}
