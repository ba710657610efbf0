//! Times the rows typenet is compared with PyTorch on, on random data, and prints them as one
//! JSON object: the 784-128-10 MLP (`Linear<784, 128>, ReLU, Linear<128, 10>`) train step at
//! batch 64 and 256 and inference at batch 1 and 256, and the LeNet train step at batch 64
//! (`Conv2D<1,8,3>, ReLU, MaxPool2D<2,2>, Conv2D<8,16,3>, ReLU, MaxPool2D<2,2>, Flatten2D,
//! Linear<400,10>`). A train step is forward + sparse softmax cross-entropy + backward + Adam
//! (lr 1e-3), as in `scripts/perf/torch_bench.py`, which times the same rows in PyTorch;
//! `scripts/compare.sh` runs both and prints the ratios.
//!
//! A bench target without criterion's harness (`cargo test` does not build it):
//! ```text
//! cargo bench --bench perf_rows                 # a table, then the JSON line
//! cargo bench --bench perf_rows -- --json --threads 2
//! ```
//!
//! Each row: warm-up calls, then `--rounds` rounds (default 3) of timed calls; a round's figure
//! is the median call, and the row reports the median round with the fastest and slowest round
//! (`median_us`, `min_us`, `max_us`; the spread the README's table shows in brackets). Takes
//! about 10 s.
//! dfdx's allocation cache is on, as `FitConfig::allocation_cache` has it by default
//! (`--no-cache` turns it off). `--threads` sizes rayon's pool, which dfdx's and typenet's CPU
//! kernels use (default: `RAYON_NUM_THREADS`, else every core).
//!
//! Measured on a 2-core machine shared with other jobs (load average 5), medians of five runs
//! in a row with `--threads 2`: MLP step b64 0.77–0.90 ms, b256 1.6–3.8 ms; inference b1 34 µs,
//! b256 0.61–1.08 ms; LeNet step b64 4.4–9.8 ms. With `--threads 1`, one run: 0.66 ms, 2.34 ms,
//! 34 µs, 0.75 ms, 4.8 ms (each within 1% across its rounds but LeNet's, 4.8–6.0 ms).
use clap::Parser;
use std::hint::black_box;
use std::time::Instant;
use typenet::prelude::*;

/// The 784-128-10 MLP.
type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);

/// A LeNet-style net: two 3×3 convolutions, each with a 2×2 max-pool, then one dense layer.
type LeNet = (
    (Conv2D<1, 8, 3>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<8, 16, 3>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<400, 10>),
);

#[derive(Parser)]
#[command(about = "Time the MLP and LeNet train steps and MLP inference, and print JSON")]
struct Args {
    /// Print only the JSON line (for scripts).
    #[arg(long)]
    json: bool,
    /// Threads in rayon's pool (default: RAYON_NUM_THREADS, else every core).
    #[arg(long)]
    threads: Option<usize>,
    /// Timed rounds per row; the median round is reported with the fastest and slowest.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Multiplies every row's number of timed calls (0.1 for a quick check).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Leave dfdx's allocation cache off.
    #[arg(long)]
    no_cache: bool,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One row's figures, in microseconds per call.
#[derive(serde::Serialize)]
struct Row {
    median_us: f64,
    min_us: f64,
    max_us: f64,
    calls_per_round: usize,
}

/// Times `f`: `warm` calls, then `rounds` rounds of `calls` timed calls each.
fn time_row(args: &Args, calls: usize, mut f: impl FnMut()) -> Row {
    let calls = ((calls as f64 * args.scale).round() as usize).max(1);
    for _ in 0..(calls / 10).max(3) {
        f();
    }
    let mut rounds: Vec<f64> = (0..args.rounds.max(1))
        .map(|_| {
            let mut t: Vec<f64> = (0..calls)
                .map(|_| {
                    let start = Instant::now();
                    f();
                    start.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            t.sort_by(f64::total_cmp);
            t[t.len() / 2]
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    let tenth = |us: f64| (us * 10.0).round() / 10.0;
    Row {
        median_us: tenth(rounds[rounds.len() / 2]),
        min_us: tenth(rounds[0]),
        max_us: tenth(rounds[rounds.len() - 1]),
        calls_per_round: calls,
    }
}

/// Times one train step (forward, loss, backward, Adam update) of `model` on `x`, labels `i % 10`.
fn train_step_row<M, In>(
    args: &Args,
    dev: &Cpu,
    mut model: M,
    x: Tensor<In, f32, Cpu>,
    calls: usize,
) -> Row
where
    In: Shape,
    M: TrainModel<In, Cpu, Out = (usize, Const<10>)>,
{
    let batch = x.shape().concrete()[0];
    let y = dev.tensor_from_vec((0..batch).map(|i| i % 10).collect(), (batch,));
    let mut opt = Adam::new(&model, AdamConfig::default());
    let mut grads = Some(model.alloc_grads());
    time_row(args, calls, || {
        let g = grads.take().expect("put back by the previous step");
        let out = model.forward_mut(x.clone().traced(g));
        let loss = SparseCategoricalCrossentropy
            .try_loss(out, &y)
            .expect("cpu");
        let mut g = loss.backward();
        opt.update(&mut model, &g).expect("every parameter is used");
        model.zero_grads(&mut g);
        grads = Some(g);
    })
}

fn main() {
    let args = Args::parse();
    let threads = args
        .threads
        .or_else(|| std::env::var("RAYON_NUM_THREADS").ok()?.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
    {
        eprintln!("could not size rayon's pool: {e}");
        std::process::exit(1);
    }
    let dev = Cpu::seed_from_u64(0);
    if !args.no_cache {
        dev.enable_cache();
    }

    let mut rows = serde_json::Map::new();
    let mut add = |name: &str, row: Row| {
        if !args.json {
            eprintln!(
                "{name:<16} {:>10.1} µs  [{:.1}–{:.1}]",
                row.median_us, row.min_us, row.max_us
            );
        }
        rows.insert(name.into(), serde_json::json!(row));
    };
    for (batch, calls) in [(64usize, 300usize), (256, 150)] {
        let x = dev.sample_normal_like(&(batch, Const::<784>));
        let row = train_step_row(&args, &dev, dev.build_module::<Mlp, f32>(), x, calls);
        add(&format!("mlp_step_b{batch}"), row);
    }
    for (batch, calls) in [(1usize, 2000usize), (256, 500)] {
        let model = dev.build_module::<Mlp, f32>();
        let x = dev.sample_normal_like(&(batch, Const::<784>));
        let row = time_row(&args, calls, || {
            black_box(model.forward(x.clone()));
        });
        add(&format!("mlp_infer_b{batch}"), row);
    }
    let x: Tensor<(usize, Const<1>, Const<28>, Const<28>), f32, _> =
        dev.sample_normal_like(&(64, Const, Const, Const));
    let row = train_step_row(&args, &dev, dev.build_module::<LeNet, f32>(), x, 60);
    add("lenet_step_b64", row);

    let report = serde_json::json!({
        "framework": "typenet",
        "threads": threads,
        "allocation_cache": !args.no_cache,
        "rounds": args.rounds.max(1),
        "rows": rows,
    });
    println!("{report}");
}
