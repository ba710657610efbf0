//! Data-parallel `fit` without MPI: ranks as threads of this process, exchanging through a
//! [`Communicator`] of their own, against one process with gradient accumulation.

use std::sync::{Arc, Barrier, Mutex};
use typenet::distributed::{epoch_shard, Communicator};
use typenet::prelude::*;

#[test]
fn the_shards_of_an_epoch_are_disjoint_and_cover_it() {
    for (len, ranks, run) in [
        (10, 3, 2),
        (60_000, 2, 32),
        (7, 4, 3),
        (5, 8, 1),
        (64, 2, 32),
    ] {
        // a shuffled order: the shards must hold its samples, not positions
        let order: Vec<usize> = (0..len).map(|i| (i * 7919 + 3) % len).collect();
        let mut seen = vec![0u32; len];
        for r in 0..ranks {
            for s in epoch_shard(&order, r, ranks, run) {
                seen[s] += 1;
            }
        }
        assert!(
            seen.iter().all(|&c| c == 1),
            "{len} samples, {ranks} ranks × {run}"
        );
    }
    // and each step hands rank r the r-th run of the step's samples
    let order: Vec<usize> = (100..110).collect();
    assert_eq!(epoch_shard(&order, 1, 3, 2), vec![102, 103, 108, 109]);
    assert_eq!(epoch_shard(&order, 2, 3, 2), vec![104, 105]);
}

/// `size` threads of this process as ranks: each gather waits for all, then copies all.
#[derive(Clone)]
struct Threads {
    rank: usize,
    size: usize,
    slots: Arc<Mutex<Vec<Vec<f64>>>>,
    barrier: Arc<Barrier>,
}

impl Threads {
    fn world(size: usize) -> Vec<Threads> {
        let slots = Arc::new(Mutex::new(vec![Vec::new(); size]));
        let barrier = Arc::new(Barrier::new(size));
        (0..size)
            .map(|rank| Threads {
                rank,
                size,
                slots: slots.clone(),
                barrier: barrier.clone(),
            })
            .collect()
    }

    fn gather(&self, local: Vec<f64>) -> Vec<f64> {
        self.slots.lock().unwrap()[self.rank] = local;
        self.barrier.wait();
        let all = self.slots.lock().unwrap().concat();
        // nobody writes the next gather's slot before everyone has read this one
        self.barrier.wait();
        all
    }
}

impl Communicator for Threads {
    fn rank(&self) -> usize {
        self.rank
    }
    fn size(&self) -> usize {
        self.size
    }
    fn all_gather_f32(&self, local: &[f32], all: &mut [f32]) -> typenet::Result<()> {
        // f32 → f64 → f32 is exact
        let got = self.gather(local.iter().map(|&v| v as f64).collect());
        all.iter_mut().zip(got).for_each(|(a, g)| *a = g as f32);
        Ok(())
    }
    fn all_gather_f64(&self, local: &[f64], all: &mut [f64]) -> typenet::Result<()> {
        all.copy_from_slice(&self.gather(local.to_vec()));
        Ok(())
    }
}

type Net = (Linear<4, 8>, Tanh, Linear<8, 3>);

/// 75 samples of 4 features in 3 classes (deterministic, no generator).
fn blobs() -> InMemory<Rank1<4>, Classes<3>> {
    let n = 75;
    let x = (0..n * 4)
        .map(|i| ((i * 37 % 23) as f32 / 23.0 - 0.5) + if i % 4 == (i / 4) % 3 { 1.5 } else { 0.0 })
        .collect();
    InMemory::new(x, (0..n).map(|i| i % 3).collect()).unwrap()
}

/// Trains with Adam (seeded init) for 3 epochs, shuffled, with a validation set of 21 in
/// batches of 4; returns the weights and the History's figures.
fn train(comm: Option<&dyn Communicator>, accumulation_steps: usize) -> (Vec<f32>, Vec<String>) {
    let dev = Cpu::seed_from_u64(5);
    let mut m = Trainer::compile(
        &dev,
        dev.build_module::<Net, f32>(),
        AdamConfig {
            lr: 0.01,
            ..Default::default()
        },
        SparseCategoricalCrossentropy,
        &["accuracy", "f1"],
    )
    .unwrap();
    let data = blobs();
    let (train, val) = data.split(0.28, 1).unwrap();
    let cfg = FitConfig {
        epochs: 3,
        batch_size: 5,
        accumulation_steps,
        eval_batch_size: 4,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let fit = m.fitting(&train).validation(&val);
    let history = match comm {
        Some(c) => fit.distributed(c).run(&cfg),
        None => fit.run(&cfg),
    }
    .unwrap();
    let mut w = m.model.0.weight.as_vec();
    w.extend(m.model.0.bias.as_vec());
    w.extend(m.model.2.weight.as_vec());
    w.extend(m.model.2.bias.as_vec());
    let figures = history
        .epochs
        .iter()
        .map(|e| format!("{:?}", e.values))
        .collect();
    (w, figures)
}

#[test]
fn three_ranks_of_batch_5_equal_one_process_of_3_micro_batches_bit_for_bit() {
    // the oracle: one process, batch 5, 3 micro-batches per step (the same additions in the
    // same order); 54 training samples make steps of 15, the last of 9 (rank 2 holds none)
    let (one, one_history) = train(None, 3);
    let ranks: Vec<_> = Threads::world(3)
        .into_iter()
        .map(|c| std::thread::spawn(move || train(Some(&c), 1)))
        .collect();
    for (r, rank) in ranks.into_iter().enumerate() {
        let (w, history) = rank.join().unwrap();
        assert_eq!(w, one, "rank {r}'s weights");
        assert_eq!(history, one_history, "rank {r}'s History");
    }
    assert_eq!(one_history.len(), 3);
    assert!(one_history[2].contains("val_accuracy"));
}
