//! Times the rows typenet is compared with PyTorch on, on random data, and prints them as one
//! JSON object. `scripts/perf/torch_bench.py` times the same rows in PyTorch (same models, batch
//! sizes, numbers of calls and row names) and `scripts/compare.sh` runs both and prints the ratios.
//!
//! | row | model | work |
//! |---|---|---|
//! | `mlp_step_b64`, `mlp_step_b256` | 784-128-10 MLP | train step |
//! | `mlp_infer_b1`, `mlp_infer_b256` | 784-128-10 MLP | inference |
//! | `lenet_step_b64` | LeNet (two 3×3 convs, pools, `Linear<400, 10>`) | train step |
//! | `cifar_step_b64` | the `cifar10_cnn` example's model | train step |
//! | `cifar_infer_b64`, `cifar_infer_b256` | the same | inference |
//! | `vgg_step_b32`, `vgg_infer_b32` | VGG-style: 3×3 convs 3-64-64, pool, 64-128-128, pool, 128-256, pool, `Linear<4096, 10>` on 3×32×32 | train step, inference |
//! | `resnet20_step_b64` | ResNet-20 for CIFAR (batch norm, 1×1 projection shortcuts, global average pooling) | train step |
//! | `gru_step_b64` | the `language_id` example's GRU, `(Embedding<96, 32>, Gru<32, 128>, Linear<128, 6>)` on 16 ids | train step |
//! | `attention_step_b64` | its transformer, `(Embedding<96, 64>, PositionalEmbedding<16, 64>, EncoderBlock<64, 4, 128>, SeqMean, Linear<64, 6>)` | train step |
//!
//! A train step is forward + sparse softmax cross-entropy (labels `i % classes`) + backward +
//! Adam (lr 1e-3) on one fixed random batch; inference is a forward pass without a tape. Each
//! side starts from its own default initialisation: every kernel timed is dense, so the time of
//! a step does not depend on the weights' values.
//!
//! A bench target without criterion's harness (`cargo test` does not build it):
//! ```text
//! cargo bench --bench perf_rows                 # a table, then the JSON line
//! cargo bench --bench perf_rows -- --json --threads 2
//! cargo bench --bench perf_rows -- --only vgg,resnet20 --memory
//! ```
//!
//! Each row: warm-up calls, then `--rounds` rounds (default 3) of timed calls; a round's figure
//! is the median call, and the row reports the median round with the fastest and slowest round
//! (`median_us`, `min_us`, `max_us`; the spread the README's table shows in brackets). All rows
//! take about a minute at one thread; `--only` picks rows by name or name prefix.
//! dfdx's allocation cache is on, as `FitConfig::allocation_cache` has it by default
//! (`--no-cache` turns it off). `--threads` sizes rayon's pool, which dfdx's and typenet's CPU
//! kernels use (default: `RAYON_NUM_THREADS`, else every core).
//!
//! `--memory` adds each row's `peak_mb`: the row runs again alone in a child process (the same
//! setup, then 4 calls), which reports its peak resident memory (`VmHWM` in `/proc/self/status`,
//! Linux only) less its resident memory before the model was built: the parameters, gradients,
//! Adam's moments, the batch, the activations and the allocation cache at their peak.
//! `torch_bench.py --memory` measures the same way.
//!
//! `--peak` measures the machine's f32 peak at `--threads` (an FMA-throughput loop, and the
//! `gemm` crate on 2048×2048 matrices) and adds, to the rows bound by matrix products (the MLP
//! at batch 256, the `cifar_*` and `vgg_*` rows), their FLOPs per call (`gflop_per_call`, from
//! the models' `Summarize::MACS`; a train step counts three forward passes), `gflops` and
//! `peak_fraction`. `--fmnist [DIR]` trains the MLP on Fashion-MNIST with `Trainer::fit` (5
//! epochs, batch 32, shuffled, Adam 1e-3; `--fmnist-epochs`, `--fmnist-batch`) and reports the
//! training seconds and the test accuracy (`fmnist`); `torch_bench.py --gemm --fmnist DIR` is
//! the PyTorch side of both. `docs/performance.md` has the measured figures.
//!
//! Measured on a 2-core machine shared with other jobs (load average 5), medians of five runs
//! in a row with `--threads 2`: MLP step b64 0.77–0.90 ms, b256 1.6–3.8 ms; inference b1 34 µs,
//! b256 0.61–1.08 ms; LeNet step b64 4.4–9.8 ms. With `--threads 1`, one run: 0.66 ms, 2.34 ms,
//! 34 µs, 0.75 ms, 4.8 ms (each within 1% across its rounds but LeNet's, 4.8–6.0 ms).
//! `docs/performance.md` has every row against PyTorch, with peak memory.
use clap::Parser;
use rand::rngs::StdRng;
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

/// The `cifar10_cnn` example's model.
type CifarCnn = (
    (Conv2D<3, 32, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<32, 64, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<4096, 128>, ReLU, Linear<128, 10>),
);

/// A VGG-style stack on 3×32×32: 32×32 → 16×16 → 8×8 → 4×4.
type Vgg = (
    (
        Conv2D<3, 64, 3, 1, 1>,
        ReLU,
        Conv2D<64, 64, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (
        Conv2D<64, 128, 3, 1, 1>,
        ReLU,
        Conv2D<128, 128, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
    ),
    (Conv2D<128, 256, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Flatten2D, Linear<4096, 10>),
);

/// A ResNet basic block keeping `C` channels.
type Block<const C: usize> = (
    Residual<(
        Conv2D<C, C, 3, 1, 1>,
        BatchNorm2D<C>,
        ReLU,
        Conv2D<C, C, 3, 1, 1>,
        BatchNorm2D<C>,
    )>,
    ReLU,
);

/// A ResNet basic block from `I` to `O` channels at half the resolution, with a 1×1
/// projection shortcut.
type Down<const I: usize, const O: usize> = (
    GeneralizedResidual<
        (
            Conv2D<I, O, 3, 2, 1>,
            BatchNorm2D<O>,
            ReLU,
            Conv2D<O, O, 3, 1, 1>,
            BatchNorm2D<O>,
        ),
        (Conv2D<I, O, 1, 2>, BatchNorm2D<O>),
    >,
    ReLU,
);

/// ResNet-20 for CIFAR: a stem, three stages of three blocks (16, 32, 64 channels on 32×32,
/// 16×16, 8×8), global average pooling, a linear classifier.
type ResNet20 = (
    (Conv2D<3, 16, 3, 1, 1>, BatchNorm2D<16>, ReLU),
    (Block<16>, Block<16>, Block<16>),
    (Down<16, 32>, Block<32>, Block<32>),
    (Down<32, 64>, Block<64>, Block<64>),
    (AvgPoolGlobal, Linear<64, 10>),
);

/// Token ids per sequence and vocabulary size of the `language_id` example.
const LEN: usize = 16;
const VOCAB: usize = 96;

/// The `language_id` example's recurrent model.
type GruNet = (Embedding<VOCAB, 32>, Gru<32, 128>, Linear<128, 6>);

/// The `language_id` example's transformer.
type AttentionNet = (
    Embedding<VOCAB, 64>,
    PositionalEmbedding<LEN, 64>,
    EncoderBlock<64, 4, 128>,
    SeqMean,
    Linear<64, 6>,
);

/// Every row, in the order they run.
const ROWS: [&str; 13] = [
    "mlp_step_b64",
    "mlp_step_b256",
    "mlp_infer_b1",
    "mlp_infer_b256",
    "lenet_step_b64",
    "cifar_step_b64",
    "cifar_infer_b64",
    "cifar_infer_b256",
    "vgg_step_b32",
    "vgg_infer_b32",
    "resnet20_step_b64",
    "gru_step_b64",
    "attention_step_b64",
];

#[derive(Parser)]
#[command(about = "Time typenet's performance rows (train steps and inference) and print JSON")]
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
    /// Only these rows: comma-separated names or name prefixes (`vgg,resnet20`).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Also measure each row's peak resident memory, in a child process per row.
    #[arg(long)]
    memory: bool,
    /// Child mode of `--memory`: run the rows 4 calls each and print the peak memory.
    #[arg(long, hide = true)]
    rss: bool,
    /// Also measure the machine's f32 peak (an FMA-throughput loop and a 2048³ GEMM of the
    /// `gemm` crate, at `--threads`) and report the fraction of it the GEMM-bound rows reach.
    #[arg(long)]
    peak: bool,
    /// Also train the 784-128-10 MLP on Fashion-MNIST from DIR's IDX files (default: where the
    /// `dataset-fashion-mnist` package installs them) and report the wall time and test accuracy.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = FASHION_MNIST_DIR)]
    fmnist: Option<std::path::PathBuf>,
    /// Epochs of `--fmnist`.
    #[arg(long, default_value_t = 5)]
    fmnist_epochs: usize,
    /// Batch size of `--fmnist`.
    #[arg(long, default_value_t = 32)]
    fmnist_batch: usize,
    /// Passed by `cargo bench` to every bench target; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    fn wants(&self, row: &str) -> bool {
        self.only.is_empty()
            || self
                .only
                .iter()
                .any(|o| !o.is_empty() && row.starts_with(o.as_str()))
    }
}

/// One row's figures, in microseconds per call.
#[derive(serde::Serialize)]
struct Row {
    median_us: f64,
    min_us: f64,
    max_us: f64,
    calls_per_round: usize,
}

/// Times `f`: `warm` calls, then `rounds` rounds of `calls` timed calls each (with `--rss`, 3
/// warm-up calls and one timed call).
fn time_row(args: &Args, calls: usize, mut f: impl FnMut()) -> Row {
    let (calls, rounds) = if args.rss {
        (1, 1)
    } else {
        (
            ((calls as f64 * args.scale).round() as usize).max(1),
            args.rounds.max(1),
        )
    };
    for _ in 0..(calls / 10).max(3) {
        f();
    }
    let mut rounds: Vec<f64> = (0..rounds)
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

/// Times one train step (forward, loss, backward, Adam update) of `model` on `x`, labels
/// `i % C`.
fn train_step_row<M, In, const C: usize>(
    args: &Args,
    dev: &Cpu,
    mut model: M,
    x: Tensor<In, f32, Cpu>,
    calls: usize,
) -> Row
where
    In: Shape,
    M: TrainModel<In, Cpu, Out = (usize, Const<C>)>,
{
    let batch = x.shape().concrete()[0];
    let y = dev.tensor_from_vec((0..batch).map(|i| i % C).collect(), (batch,));
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

/// Times inference (a forward pass without a tape) of `model` on `x`.
fn infer_row<M, In>(args: &Args, model: M, x: Tensor<In, f32, Cpu>, calls: usize) -> Row
where
    In: Shape,
    M: Module<Tensor<In, f32, Cpu>>,
{
    time_row(args, calls, || {
        black_box(model.forward(x.clone()));
    })
}

type Images<const C: usize, const H: usize> = (usize, Const<C>, Const<H>, Const<H>);

/// A random batch of `b` CIFAR-sized images.
fn cifar_batch(dev: &Cpu, b: usize) -> Tensor<Images<3, 32>, f32, Cpu> {
    dev.sample_normal_like(&(b, Const, Const, Const))
}

/// A batch of `b` sequences of `LEN` random token ids.
fn token_batch(dev: &Cpu, b: usize) -> Tensor<(usize, Const<LEN>, Vocab<VOCAB>), f32, Cpu> {
    let mut rng = StdRng::seed_from_u64(0);
    let ids = (0..b * LEN)
        .map(|_| rng.gen_range(0..VOCAB) as f32)
        .collect();
    dev.tensor_from_vec(ids, (b, Const, Vocab))
}

/// Times the row `name`; `None` for a name this binary does not know.
fn run_row(args: &Args, dev: &Cpu, name: &str) -> Option<Row> {
    let row = match name {
        "mlp_step_b64" | "mlp_step_b256" => {
            let (batch, calls) = if name.ends_with("b64") {
                (64, 300)
            } else {
                (256, 150)
            };
            let x = dev.sample_normal_like(&(batch, Const::<784>));
            train_step_row(args, dev, dev.build_module::<Mlp, f32>(), x, calls)
        }
        "mlp_infer_b1" | "mlp_infer_b256" => {
            let (batch, calls) = if name.ends_with("b1") {
                (1, 2000)
            } else {
                (256, 500)
            };
            let x = dev.sample_normal_like(&(batch, Const::<784>));
            infer_row(args, dev.build_module::<Mlp, f32>(), x, calls)
        }
        "lenet_step_b64" => {
            let x: Tensor<Images<1, 28>, f32, _> =
                dev.sample_normal_like(&(64, Const, Const, Const));
            train_step_row(args, dev, dev.build_module::<LeNet, f32>(), x, 60)
        }
        "cifar_step_b64" => {
            let model = dev.build_module::<CifarCnn, f32>();
            train_step_row(args, dev, model, cifar_batch(dev, 64), 20)
        }
        "cifar_infer_b64" | "cifar_infer_b256" => {
            let (batch, calls) = if name.ends_with("b64") {
                (64, 40)
            } else {
                (256, 12)
            };
            let model = dev.build_module::<CifarCnn, f32>();
            infer_row(args, model, cifar_batch(dev, batch), calls)
        }
        "vgg_step_b32" => {
            let model = dev.build_module::<Vgg, f32>();
            train_step_row(args, dev, model, cifar_batch(dev, 32), 6)
        }
        "vgg_infer_b32" => {
            let model = dev.build_module::<Vgg, f32>();
            infer_row(args, model, cifar_batch(dev, 32), 12)
        }
        "resnet20_step_b64" => {
            let model = dev.build_module::<ResNet20, f32>();
            train_step_row(args, dev, model, cifar_batch(dev, 64), 6)
        }
        "gru_step_b64" => {
            let model = dev.build_module::<GruNet, f32>();
            train_step_row(args, dev, model, token_batch(dev, 64), 60)
        }
        "attention_step_b64" => {
            let model = dev.build_module::<AttentionNet, f32>();
            train_step_row(args, dev, model, token_batch(dev, 64), 60)
        }
        _ => return None,
    };
    Some(row)
}

/// Floating-point operations of one call of a row bound by matrix products, from the model's
/// multiply-adds per sample (`Summarize::MACS`, 2 FLOPs each) times the batch; a train step
/// counts three forward passes (the forward's products, and the backward's for the inputs' and
/// the weights' gradients; the first layer's input gradient, which is not computed, makes this
/// a slight overestimate). `None` for the other rows.
fn gemm_flops(name: &str) -> Option<f64> {
    let mlp = <Mlp as Summarize<Rank1<784>>>::MACS;
    let cifar = <CifarCnn as Summarize<Rank3<3, 32, 32>>>::MACS;
    let vgg = <Vgg as Summarize<Rank3<3, 32, 32>>>::MACS;
    let (macs, batch, passes) = match name {
        "mlp_step_b256" => (mlp, 256, 3),
        "mlp_infer_b256" => (mlp, 256, 1),
        "cifar_step_b64" => (cifar, 64, 3),
        "cifar_infer_b64" => (cifar, 64, 1),
        "cifar_infer_b256" => (cifar, 256, 1),
        "vgg_step_b32" => (vgg, 32, 3),
        "vgg_infer_b32" => (vgg, 32, 1),
        _ => return None,
    };
    Some(2.0 * (macs * batch * passes) as f64)
}

/// The FMA-throughput loop of `--peak`: independent chains of vector fused multiply-adds, as
/// many as the registers hold, so the FMA units never wait for a result (two units with a
/// 4-cycle latency need 8 chains in flight).
#[cfg(target_arch = "x86_64")]
mod fma_loop {
    use std::arch::x86_64::*;

    /// FLOPs of one iteration of [`avx2`]: 12 chains × 8 lanes × 2.
    pub const AVX2_FLOPS: f64 = 12.0 * 8.0 * 2.0;
    /// FLOPs of one iteration of [`avx512`]: 24 chains × 16 lanes × 2.
    pub const AVX512_FLOPS: f64 = 24.0 * 16.0 * 2.0;

    /// `iters` rounds of 12 chained 256-bit FMAs (`acc = acc·m + c`); returns their sum.
    #[target_feature(enable = "avx2,fma")]
    pub fn avx2(iters: usize, m: f32, c: f32) -> f32 {
        let (m, c) = (_mm256_set1_ps(m), _mm256_set1_ps(c));
        let mut acc = [_mm256_setzero_ps(); 12];
        for _ in 0..iters {
            for a in &mut acc {
                *a = _mm256_fmadd_ps(*a, m, c);
            }
        }
        let mut sum = _mm256_setzero_ps();
        for a in acc {
            sum = _mm256_add_ps(sum, a);
        }
        let mut lanes = [0f32; 8];
        // SAFETY: `lanes` holds 8 floats, the width of one store.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }

    /// `iters` rounds of 24 chained 512-bit FMAs; returns their sum.
    #[target_feature(enable = "avx512f")]
    pub fn avx512(iters: usize, m: f32, c: f32) -> f32 {
        let (m, c) = (_mm512_set1_ps(m), _mm512_set1_ps(c));
        let mut acc = [_mm512_setzero_ps(); 24];
        for _ in 0..iters {
            for a in &mut acc {
                *a = _mm512_fmadd_ps(*a, m, c);
            }
        }
        let mut sum = _mm512_setzero_ps();
        for a in acc {
            sum = _mm512_add_ps(sum, a);
        }
        _mm512_reduce_add_ps(sum)
    }
}

/// One of [`fma_loop`]'s kernels: `(iterations, m, c)` to the sum of its chains.
#[cfg(target_arch = "x86_64")]
type FmaKernel = fn(usize, f32, f32) -> f32;

/// The FMA loop's throughput on `threads` threads (each its own loop), in GFLOP/s: the best of
/// 3 runs of about 0.2 s each, with the widest vectors the CPU has. `None` off x86-64 or
/// without AVX2 and FMA.
fn fma_peak_gflops(threads: usize) -> Option<(f64, &'static str)> {
    #[cfg(target_arch = "x86_64")]
    {
        let (kernel, per_iter, iters, isa): (FmaKernel, f64, usize, &str) =
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY (both closures): the CPU was just checked for the kernel's features.
                (
                    |n, m, c| unsafe { fma_loop::avx512(n, m, c) },
                    fma_loop::AVX512_FLOPS,
                    25_000_000,
                    "avx512",
                )
            } else if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                (
                    |n, m, c| unsafe { fma_loop::avx2(n, m, c) },
                    fma_loop::AVX2_FLOPS,
                    50_000_000,
                    "avx2",
                )
            } else {
                return None;
            };
        let best = (0..3)
            .map(|_| {
                let start = Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..threads {
                        s.spawn(|| black_box(kernel(iters, black_box(0.999_999), black_box(1e-6))));
                    }
                });
                per_iter * (iters * threads) as f64 / start.elapsed().as_secs_f64() / 1e9
            })
            .fold(0.0, f64::max);
        Some((best, isa))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = threads;
        None
    }
}

/// The `gemm` crate's f32 product of two 2048×2048 matrices on `threads` threads, in GFLOP/s
/// (2·2048³ FLOPs over the median of 5 timed calls after 2 warm-up calls): what a tuned GEMM
/// reaches on this machine.
fn gemm_peak_gflops(threads: usize) -> f64 {
    const N: usize = 2048;
    let a: Vec<f32> = (0..N * N).map(|i| (i % 13) as f32 * 0.1 - 0.6).collect();
    let b: Vec<f32> = (0..N * N).map(|i| (i % 7) as f32 * 0.1 - 0.3).collect();
    let mut c = vec![0f32; N * N];
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let mut call = || {
        let n = N as isize;
        // SAFETY: three row-major N×N buffers of N·N floats each; `c` is not read.
        unsafe {
            gemm::gemm(
                N,
                N,
                N,
                c.as_mut_ptr(),
                1,
                n,
                false,
                a.as_ptr(),
                1,
                n,
                b.as_ptr(),
                1,
                n,
                0.0,
                1.0,
                false,
                false,
                false,
                par,
            );
        }
        black_box(c[0]);
    };
    for _ in 0..2 {
        call();
    }
    let mut t: Vec<f64> = (0..5)
        .map(|_| {
            let start = Instant::now();
            call();
            start.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    2.0 * (N * N * N) as f64 / t[t.len() / 2] / 1e9
}

/// `--fmnist`: the whole run users make (`Trainer::fit`, shuffled batches, pixels scaled to
/// [0, 1], Adam lr 1e-3, dfdx's default PyTorch-style initialisation), then the test accuracy.
/// Without the prefetch thread, so `--threads` counts every thread that works.
fn fmnist(args: &Args, dev: &Cpu, dir: &std::path::Path) -> typenet::Result<serde_json::Value> {
    let start = Instant::now();
    let data = FashionMnist::load(dir)?;
    let load_s = start.elapsed().as_secs_f64();
    let mut model = Trainer::compile(
        dev,
        dev.build_module::<Mlp, f32>(),
        AdamConfig::default(),
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    let cfg = FitConfig {
        epochs: args.fmnist_epochs,
        batch_size: args.fmnist_batch,
        verbosity: Verbosity::Silent,
        prefetch: false,
        allocation_cache: !args.no_cache,
        ..Default::default()
    };
    let start = Instant::now();
    model.fit(&data.train, &cfg)?;
    let train_s = start.elapsed().as_secs_f64();
    let test = model.evaluate(&data.test)?;
    Ok(serde_json::json!({
        "epochs": args.fmnist_epochs,
        "batch": args.fmnist_batch,
        "train_s": (train_s * 1000.0).round() / 1000.0,
        "load_s": (load_s * 1000.0).round() / 1000.0,
        "test_accuracy": test.metrics["accuracy"],
    }))
}

/// Resident memory now and at its peak (`VmRSS`, `VmHWM`), in MiB; `None` off Linux.
fn resident_mb() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |key: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        let kb: f64 = line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Runs `--rss` children of this binary, one per row, and returns each row's peak memory (MiB).
fn peak_memory(
    args: &Args,
    threads: usize,
    rows: &[&str],
) -> serde_json::Map<String, serde_json::Value> {
    let mut peaks = serde_json::Map::new();
    let Ok(exe) = std::env::current_exe() else {
        return peaks;
    };
    for row in rows {
        let mut cmd = std::process::Command::new(&exe);
        cmd.args(["--rss", "--only", row, "--threads", &threads.to_string()]);
        if args.no_cache {
            cmd.arg("--no-cache");
        }
        let out = match cmd.output() {
            Ok(out) if out.status.success() => out,
            Ok(out) => {
                eprintln!(
                    "--memory: row {row} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                continue;
            }
            Err(e) => {
                eprintln!("--memory: could not run {}: {e}", exe.display());
                continue;
            }
        };
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(v) = text
            .lines()
            .last()
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .and_then(|v| v.get("peak_mb").cloned())
        {
            peaks.insert((*row).into(), v);
        }
    }
    peaks
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
    let names: Vec<&str> = ROWS
        .iter()
        .copied()
        .filter(|r| !r.is_empty() && args.wants(r))
        .collect();

    if args.rss {
        // one row per child: its peak over its resident memory before the model was built
        let Some((before, _)) = resident_mb() else {
            eprintln!("--memory needs /proc/self/status (Linux)");
            std::process::exit(1);
        };
        for name in &names {
            run_row(&args, &dev, name);
        }
        let peak = resident_mb().map_or(f64::NAN, |(_, hwm)| hwm);
        let mb = ((peak - before) * 10.0).round() / 10.0;
        println!("{}", serde_json::json!({ "rows": names, "peak_mb": mb }));
        return;
    }

    let mut rows = serde_json::Map::new();
    for name in &names {
        let Some(row) = run_row(&args, &dev, name) else {
            continue;
        };
        if !args.json {
            eprintln!(
                "{name:<20} {:>12.1} µs  [{:.1}–{:.1}]",
                row.median_us, row.min_us, row.max_us
            );
        }
        rows.insert((*name).into(), serde_json::json!(row));
    }
    if args.memory {
        for (name, mb) in peak_memory(&args, threads, &names) {
            if !args.json {
                eprintln!("{name:<20} peak {mb} MiB");
            }
            if let Some(serde_json::Value::Object(row)) = rows.get_mut(&name) {
                row.insert("peak_mb".into(), mb);
            }
        }
    }

    let mut report = serde_json::json!({
        "framework": "typenet",
        "threads": threads,
        "allocation_cache": !args.no_cache,
        "rounds": args.rounds.max(1),
        "rows": rows,
    });
    for (name, row) in report["rows"].as_object_mut().into_iter().flatten() {
        if let (Some(flops), Some(us)) = (gemm_flops(name), row["median_us"].as_f64()) {
            row["gflop_per_call"] = serde_json::json!((flops / 1e5).round() / 1e4);
            row["gflops"] = serde_json::json!((flops / us / 1e3 * 10.0).round() / 10.0);
        }
    }
    if args.peak {
        let fma = fma_peak_gflops(threads);
        let gemm = gemm_peak_gflops(threads);
        // the machine's f32 peak: the FMA loop where it runs, else the tuned GEMM
        let peak = fma.map_or(gemm, |(g, _)| g.max(gemm));
        if !args.json {
            eprintln!(
                "f32 peak at {threads} thread(s): FMA loop {} GFLOP/s, gemm 2048³ {gemm:.1} GFLOP/s",
                fma.map_or("-".into(), |(g, isa)| format!("{g:.1} ({isa})"))
            );
        }
        report["peak"] = serde_json::json!({
            "fma_gflops": fma.map(|(g, _)| (g * 10.0).round() / 10.0),
            "fma_isa": fma.map(|(_, isa)| isa),
            "gemm2048_gflops": (gemm * 10.0).round() / 10.0,
            "peak_gflops": (peak * 10.0).round() / 10.0,
        });
        for (name, row) in report["rows"].as_object_mut().into_iter().flatten() {
            if let Some(g) = row["gflops"].as_f64() {
                row["peak_fraction"] = serde_json::json!((g / peak * 1000.0).round() / 1000.0);
                if !args.json {
                    eprintln!(
                        "{name:<20} {g:>8.1} GFLOP/s, {:.1}% of peak",
                        100.0 * g / peak
                    );
                }
            }
        }
    }
    if let Some(dir) = &args.fmnist {
        match fmnist(&args, &dev, dir) {
            Ok(v) => {
                if !args.json {
                    eprintln!("fmnist: {v}");
                }
                report["fmnist"] = v;
            }
            Err(e) => {
                eprintln!("--fmnist: {e}");
                std::process::exit(1);
            }
        }
    }
    println!("{report}");
}
