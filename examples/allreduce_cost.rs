//! Measures the transport of data-parallel `fit` on this machine: the time of one exchange of
//! P floats among the ranks, as `fit` does it (an all-gather, then the sum in rank order) and
//! as MPI's own `MPI_Allreduce` does it, for P from 1 Ki to 4 Mi floats. docs/distributed.md
//! fits the ring all-reduce model to these figures.
//!
//! ```text
//! cargo build --release --features mpi --example allreduce_cost
//! mpirun --allow-run-as-root -np 2 target/release/examples/allreduce_cost
//! mpirun --allow-run-as-root -np 2 target/release/examples/allreduce_cost --json
//! ```
//!
//! With `--steps`, rank 0 first times training steps alone (batch 32, Adam, one epoch of 2,048
//! synthetic samples after one of warm-up) of the 784-128-10 MLP (101,770 parameters) and of
//! `cifar10_cnn`'s CNN (545,098 parameters): the compute side of the model.
//!
//! Rank 0 prints one line per size: P, the bytes, the median microseconds of each exchange
//! over `--repeats` (after 5 untimed ones), and whether MPI's sum equals the ordered one bit for
//! bit on this run.
use clap::Parser;
use std::time::Instant;
use typenet::distributed::{Communicator, Mpi};
use typenet::prelude::*;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
type Cnn = (
    (Conv2D<3, 32, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<32, 64, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<4096, 128>, ReLU, Linear<128, 10>),
);

/// Milliseconds per step of `model` on 2,048 synthetic samples of `S` at batch 32 (the second
/// of two epochs).
fn step_ms<S, M>(model: M) -> typenet::Result<f64>
where
    S: BatchShape,
    M: TrainModel<<S as BatchShape>::Batched, Cpu>,
    SparseCategoricalCrossentropy: typenet::losses::Loss<M::Out, Classes<10>, f32>,
{
    let n = 2048;
    let x = (0..n * S::NUMEL)
        .map(|i| ((i * 7919) % 255) as f32 / 255.0)
        .collect();
    let data = InMemory::<S, Classes<10>>::new(x, (0..n).map(|i| i % 10).collect())?;
    let dev = Cpu::seed_from_u64(0);
    let mut t = Trainer::compile(
        &dev,
        model,
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &[],
    )?;
    let cfg = FitConfig {
        epochs: 2,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let h = t.fit(&data, &cfg)?;
    Ok(h.epochs[1].seconds * 1e3 / (n / 32) as f64)
}

#[derive(Parser)]
#[command(about = "Time the gradient exchange of data-parallel fit")]
struct Args {
    /// Timed exchanges per size (the median is reported).
    #[arg(long, default_value_t = 51)]
    repeats: usize,
    /// Time the MLP's and the CNN's training steps on rank 0 first.
    #[arg(long)]
    steps: bool,
    /// Print one JSON object per size instead of the table.
    #[arg(long)]
    json: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> typenet::Result<()> {
    let world = Mpi::init()?;
    let args = Args::parse();
    let (rank, ranks) = (world.rank(), world.size());
    if args.steps && rank == 0 {
        let dev = Cpu::seed_from_u64(0);
        let mlp = step_ms::<Rank1<784>, _>(dev.build_module::<Mlp, f32>())?;
        let cnn = step_ms::<Rank3<3, 32, 32>, _>(dev.build_module::<Cnn, f32>())?;
        println!("step (batch 32, one rank): MLP {mlp:.3} ms, CNN {cnn:.3} ms");
    }
    if rank == 0 && !args.json {
        println!("{ranks} ranks; median of {} exchanges", args.repeats);
        println!(
            "{:>9} {:>10} {:>14} {:>14} {:>9}",
            "floats", "bytes", "gather+sum µs", "allreduce µs", "same bits"
        );
    }
    for p in (10..=22).step_by(2).map(|k| 1usize << k) {
        // values that round differently in different orders
        let local: Vec<f32> = (0..p)
            .map(|i| ((i * 7919 + rank * 104_729) % 1_000_003) as f32 * 1.3e-3 - 0.3)
            .collect();
        let mut all = vec![0.0f32; p * ranks];
        let mut reduced = vec![0.0f32; p];
        let (mut gather, mut reduce) = (Vec::new(), Vec::new());
        let mut ordered = vec![0.0f32; p];
        for i in 0..args.repeats + 5 {
            world.barrier();
            let t = Instant::now();
            world.all_gather_f32(&local, &mut all)?;
            ordered.copy_from_slice(&all[..p]);
            for part in all.chunks(p).skip(1) {
                ordered.iter_mut().zip(part).for_each(|(s, &v)| *s += v);
            }
            let g = t.elapsed().as_secs_f64() * 1e6;
            world.barrier();
            let t = Instant::now();
            world.all_reduce_sum_f32(&local, &mut reduced);
            let r = t.elapsed().as_secs_f64() * 1e6;
            if i >= 5 {
                gather.push(g);
                reduce.push(r);
            }
        }
        let same = ordered
            .iter()
            .zip(&reduced)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        let (g, r) = (median(gather), median(reduce));
        if rank == 0 {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"ranks": ranks, "floats": p, "bytes": p * 4,
                        "gather_sum_us": g, "allreduce_us": r, "same_bits": same})
                );
            } else {
                println!("{p:>9} {:>10} {g:>14.1} {r:>14.1} {same:>9}", p * 4);
            }
        }
    }
    Ok(())
}
