#![allow(missing_docs)] // criterion_group! generates undocumented items
//! typenet's criterion binary: groups per area (dfdx links once).
//!
//! `cargo bench --bench typenet -- <group>`; groups: `mlp_train_step`, `mlp_infer`,
//! `cnn_train_step`, `seq_train_step` (the `language_id` example's GRU and transformer), `fit_epoch` (trainer with and without prefetch vs a hand-written loop),
//! `device_fit_epoch` (one epoch on the GPU with `--features cuda`, else the CPU), `gemm`
//! (throughput in elements/s = FLOP/s), `data` (the data pipeline alone, batches per second:
//! criterion's elements/s). The two timing harnesses `perf_rows` and `lenet_step` are bench
//! targets of their own.
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use typenet::prelude::*;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
/// The same MLP on dfdx's own `Linear` (matmul + broadcast add on `gemm` 0.15): the baseline
/// typenet's `Linear` is measured against in the same run.
type DfdxMlp = (
    dfdx::nn::builders::Linear<784, 128>,
    ReLU,
    dfdx::nn::builders::Linear<128, 10>,
);

fn random_data(n: usize, seed: u64) -> InMemory<Rank1<784>, Classes<10>, u8> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let x: Vec<u8> = (0..n * 784).map(|_| rng.r#gen()).collect();
    let y: Vec<usize> = (0..n).map(|_| rng.gen_range(0..10)).collect();
    InMemory::new(x, y).expect("consistent synthetic data")
}

/// Runs `f` inside a rayon pool of `threads` threads (dfdx's CPU GEMM asks rayon how many
/// threads it may use), so one run can compare 1 and 2 threads.
fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool")
        .install(f)
}

/// One forward + backward + Adam step of the 784-128-10 MLP, with 1 and 2 threads, on typenet's
/// `Linear` (ids `1thr/…`, `2thr/…`) and on dfdx's (`dfdx_1thr/…`, `dfdx_2thr/…`).
fn mlp_train_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("mlp_train_step");
    for (batch, threads) in [
        (32usize, 1usize),
        (32, 2),
        (64, 1),
        (64, 2),
        (256, 1),
        (256, 2),
    ] {
        train_step::<Mlp>(
            &mut g,
            BenchmarkId::new(format!("{threads}thr"), batch),
            batch,
            threads,
        );
        let id = BenchmarkId::new(format!("dfdx_{threads}thr"), batch);
        train_step::<DfdxMlp>(&mut g, id, batch, threads);
    }
    g.finish();
}

fn train_step<M>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    batch: usize,
    threads: usize,
) where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: TrainModel<(usize, Const<784>), Cpu, Out = (usize, Const<10>)>,
{
    g.bench_function(id, |b| {
        // dfdx's CPU tensors are not Send: build everything on the pool's thread
        with_threads(threads, || {
            let dev = Cpu::seed_from_u64(0);
            let mut model = dev.build_module::<M, f32>();
            let mut grads = Some(model.alloc_grads());
            let mut opt = Adam::new(&model, AdamConfig::default());
            let x = dev.sample_normal_like(&(batch, Const::<784>));
            let y = dev.tensor_from_vec((0..batch).map(|i| i % 10).collect(), (batch,));
            b.iter(|| {
                let out = model.forward_mut(x.trace(grads.take().expect("returned each step")));
                let loss = SparseCategoricalCrossentropy
                    .try_loss(out, &y)
                    .expect("cpu");
                let mut g = loss.backward();
                opt.update(&mut model, &g).expect("all params used");
                model.zero_grads(&mut g);
                grads = Some(g);
            })
        })
    });
}

/// Inference of the 784-128-10 MLP at batch 1 and 256, on typenet's `Linear` and dfdx's (`dfdx_…`).
fn mlp_infer(c: &mut Criterion) {
    let mut g = c.benchmark_group("mlp_infer");
    for (batch, threads) in [(1usize, 1usize), (1, 2), (256, 1), (256, 2)] {
        infer::<Mlp>(
            &mut g,
            BenchmarkId::new(format!("{threads}thr"), batch),
            batch,
            threads,
        );
        let id = BenchmarkId::new(format!("dfdx_{threads}thr"), batch);
        infer::<DfdxMlp>(&mut g, id, batch, threads);
    }
    g.finish();
}

fn infer<M>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    batch: usize,
    threads: usize,
) where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: Module<Tensor<(usize, Const<784>), f32, Cpu>>,
{
    g.bench_function(id, |b| {
        with_threads(threads, || {
            let dev = Cpu::seed_from_u64(0);
            let model = dev.build_module::<M, f32>();
            let x = dev.sample_normal_like(&(batch, Const::<784>));
            b.iter(|| black_box(model.forward(x.clone())))
        })
    });
}

/// A LeNet-style net: one forward + backward + Adam step at batch 64, with dfdx's
/// allocation cache off and on.
type LeNet = (
    (Conv2D<1, 8, 3>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<8, 16, 3>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<400, 10>),
);

fn cnn_train_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("cnn_train_step");
    for cache in [false, true] {
        let dev = Cpu::seed_from_u64(0);
        if cache {
            dev.enable_cache();
        }
        let mut model = dev.build_module::<LeNet, f32>();
        let mut grads = Some(model.alloc_grads());
        let mut opt = Adam::new(&model, AdamConfig::default());
        let x: Tensor<(usize, Const<1>, Const<28>, Const<28>), f32, _> =
            dev.sample_normal_like(&(64, Const, Const, Const));
        let y = dev.tensor_from_vec((0..64).map(|i| i % 10).collect(), (64,));
        let name = if cache { "lenet64_cache" } else { "lenet64" };
        g.bench_function(name, |b| {
            b.iter(|| {
                let out = model.forward_mut(x.clone().traced(grads.take().expect("returned")));
                let loss = SparseCategoricalCrossentropy
                    .try_loss(out, &y)
                    .expect("cpu");
                let mut gr = loss.backward();
                opt.update(&mut model, &gr).expect("all params used");
                model.zero_grads(&mut gr);
                grads = Some(gr);
            })
        });
    }
    g.finish();
}

/// The `language_id` example's GRU: 16 token ids of a 96-id vocabulary, 6 classes.
type GruNet = (Embedding<96, 32>, Gru<32, 128>, Linear<128, 6>);
/// The `language_id` example's transformer (one encoder block of 4 heads, mean over positions).
type AttentionNet = (
    Embedding<96, 64>,
    PositionalEmbedding<16, 64>,
    EncoderBlock<64, 4, 128>,
    SeqMean,
    Linear<64, 6>,
);

/// One forward + backward + Adam step at batch 64 of the GRU (`gru/…`) and the transformer
/// (`attention/…`), with 1 and 2 threads (`…/1thr`, `…/2thr`); `scripts/compare.sh` times the
/// same steps beside PyTorch's (`gru_step_b64`, `attention_step_b64`).
fn seq_train_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("seq_train_step");
    for threads in [1usize, 2] {
        seq_step::<GruNet>(
            &mut g,
            BenchmarkId::new("gru", format!("{threads}thr")),
            threads,
        );
        let id = BenchmarkId::new("attention", format!("{threads}thr"));
        seq_step::<AttentionNet>(&mut g, id, threads);
    }
    g.finish();
}

fn seq_step<M>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    threads: usize,
) where
    M: BuildOnDevice<Cpu, f32>,
    M::Built: TrainModel<(usize, Const<16>, Vocab<96>), Cpu, Out = (usize, Const<6>)>,
{
    const BATCH: usize = 64;
    g.bench_function(id, |b| {
        with_threads(threads, || {
            let dev = Cpu::seed_from_u64(0);
            dev.enable_cache();
            let mut model = dev.build_module::<M, f32>();
            let mut grads = Some(model.alloc_grads());
            let mut opt = Adam::new(&model, AdamConfig::default());
            let mut rng = rand::rngs::StdRng::seed_from_u64(0);
            let ids = (0..BATCH * 16)
                .map(|_| rng.gen_range(0..96) as f32)
                .collect();
            let x = dev.tensor_from_vec(ids, (BATCH, Const::<16>, Vocab::<96>));
            let y = dev.tensor_from_vec((0..BATCH).map(|i| i % 6).collect(), (BATCH,));
            b.iter(|| {
                let out = model.forward_mut(x.clone().traced(grads.take().expect("returned")));
                let loss = SparseCategoricalCrossentropy
                    .try_loss(out, &y)
                    .expect("cpu");
                let mut gr = loss.backward();
                opt.update(&mut model, &gr).expect("all params used");
                model.zero_grads(&mut gr);
                grads = Some(gr);
            })
        })
    });
}

/// One `fit` epoch of the 784-128-10 MLP on whichever device this build has: the GPU with
/// `--features cuda` (when one is present), the CPU otherwise, so GPU numbers come from the same
/// bench.
fn device_fit_epoch(c: &mut Criterion) {
    #[cfg(feature = "cuda")]
    if let Ok(dev) = Cuda::try_seed_from_u64(0) {
        return fit_epoch_on(c, "cuda", dev);
    }
    fit_epoch_on(c, "cpu", Cpu::seed_from_u64(0));
}

fn fit_epoch_on<D: TrainingDevice + DeviceBuildExt>(c: &mut Criterion, name: &str, dev: D)
where
    Built<Mlp, D>: TrainModel<(usize, Const<784>), D, Out = (usize, Const<10>)>,
{
    let data = random_data(6_000, 1);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Mlp, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )
    .expect("known metric");
    let cfg = FitConfig {
        epochs: 1,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let mut g = c.benchmark_group("device_fit_epoch");
    g.sample_size(10);
    g.bench_function(name, |b| b.iter(|| model.fit(&data, &cfg).expect("fit")));
    g.finish();
}

/// dfdx's CPU GEMM (`gemm` 0.15, ids `MxKxN`) on the MLP's matrix shapes and on 2048²; criterion
/// reports the throughput in FLOP/s (2·m·k·n per product). typenet's own GEMM (`gemm` 0.19 with
/// AVX-512) is crate-private: `mlp_train_step` and `mlp_infer` measure it inside `Linear`.
fn gemm(c: &mut Criterion) {
    let mut g = c.benchmark_group("gemm");
    g.sample_size(10);
    let dev = Cpu::seed_from_u64(0);
    for (m, k, n) in [
        (256usize, 784usize, 128usize),
        (256, 128, 10),
        (2048, 2048, 2048),
    ] {
        let a: Tensor<(usize, usize), f32, _> = dev.sample_normal_like(&(m, k));
        let bm: Tensor<(usize, usize), f32, _> = dev.sample_normal_like(&(k, n));
        g.throughput(criterion::Throughput::Elements((2 * m * k * n) as u64));
        g.bench_function(format!("{m}x{k}x{n}"), |b| {
            b.iter(|| black_box(a.clone().matmul(bm.clone())))
        });
    }
    g.finish();
}

/// One epoch of `Trainer::fit` against the same work written by hand as a dfdx loop
/// (same data, batch 32, shuffling, u8 → f32 scaling, Adam, loss read back each step).
fn fit_epoch(c: &mut Criterion) {
    let data = random_data(6_000, 1);
    let mut g = c.benchmark_group("fit_epoch");
    g.sample_size(10);
    for (name, prefetch) in [("trainer", true), ("trainer_no_prefetch", false)] {
        g.bench_function(name, |b| {
            let dev = Cpu::seed_from_u64(0);
            let mut model = Trainer::compile(
                &dev,
                dev.build_module::<Mlp, f32>(),
                AdamConfig::default(),
                SparseCategoricalCrossentropy,
                &["accuracy"],
            )
            .expect("known metric");
            let cfg = FitConfig {
                epochs: 1,
                verbosity: Verbosity::Silent,
                prefetch,
                ..Default::default()
            };
            b.iter(|| model.fit(&data, &cfg).expect("fit"))
        });
    }
    g.bench_function("hand_loop", |b| {
        let dev = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<Mlp, f32>();
        let mut grads = Some(model.alloc_grads());
        let mut opt = Adam::new(&model, AdamConfig::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let mut order: Vec<usize> = (0..data.len()).collect();
        b.iter(|| {
            use rand::seq::SliceRandom;
            order.shuffle(&mut rng);
            let mut correct = 0usize;
            for chunk in order.chunks(32) {
                let mut x = vec![0f32; chunk.len() * 784];
                for (row, &i) in x.chunks_exact_mut(784).zip(chunk) {
                    data.write_features(i, row);
                }
                let labels: Vec<usize> = chunk.iter().map(|&i| data.target(i)).collect();
                let x = dev.tensor_from_vec(x, (chunk.len(), Const::<784>));
                let y = dev.tensor_from_vec(labels.clone(), (chunk.len(),));
                let out = model.forward_mut(x.traced(grads.take().expect("returned each step")));
                let host = out.retaped::<NoneTape>().as_vec();
                for (r, &l) in host.chunks_exact(10).zip(&labels) {
                    let am = (0..10).fold(0, |b, i| if r[i] > r[b] { i } else { b });
                    correct += usize::from(am == l);
                }
                let loss = SparseCategoricalCrossentropy
                    .try_loss(out, &y)
                    .expect("cpu");
                black_box(loss.array());
                let mut g = loss.backward();
                opt.update(&mut model, &g).expect("all params used");
                model.zero_grads(&mut g);
                grads = Some(g);
            }
            black_box(correct)
        })
    });
    g.finish();
}

/// The data pipeline alone: one shuffled epoch of a Fashion-MNIST-sized set (60,000 × 784
/// bytes, synthetic) in batches of 64 read into `f32` device tensors, through [`DataLoader`] on
/// the calling thread and through `prefetch` (a worker thread gathers the next batch while this
/// one is uploaded). Throughput is in batches per second (criterion's elements/s).
fn data(c: &mut Criterion) {
    use typenet::data::{prefetch, upload};
    const SAMPLES: usize = 60_000;
    const BATCH: usize = 64;
    type Fmnist = InMemory<Rank1<784>, Classes<10>, u8>;
    let data: Fmnist = random_data(SAMPLES, 2);
    let dev = Cpu::seed_from_u64(0);
    let mut g = c.benchmark_group("data");
    g.sample_size(10);
    g.throughput(criterion::Throughput::Elements(
        SAMPLES.div_ceil(BATCH) as u64
    ));
    g.bench_function("fmnist_b64_loader", |b| {
        b.iter(|| {
            for batch in DataLoader::new(&data, &dev, BATCH).shuffled(3) {
                black_box(batch.expect("cpu").x);
            }
        })
    });
    g.bench_function("fmnist_b64_prefetch", |b| {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..SAMPLES).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(3));
        b.iter(|| {
            prefetch(&data, &order, BATCH, None, |batches| {
                for host in batches {
                    black_box(upload::<Fmnist, Cpu>(&dev, host).expect("cpu").x);
                }
            })
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    mlp_train_step,
    mlp_infer,
    cnn_train_step,
    seq_train_step,
    fit_epoch,
    device_fit_epoch,
    gemm,
    data
);
criterion_main!(benches);
