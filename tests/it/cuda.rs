//! CUDA matches the CPU: the same weights and batch give the same loss and gradients on both
//! devices (the CPU's gradients are the ones `gradcheck` verifies against finite differences).
//!
//! Compiled only with `--features cuda`; CI compile-checks it with `dfdx/ci-check` (no GPU there),
//! and `scripts/gpu-check.sh` runs it on a GPU machine.

use typenet::prelude::*;

type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);

/// Largest |a - b| / (1 + |b|) over two equally long vectors.
fn max_rel(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / (1.0 + y.abs()))
        .fold(0.0, f32::max)
}

#[test]
fn mlp_loss_and_gradients_match_the_cpu() {
    let cpu = Cpu::seed_from_u64(0);
    let gpu = match Cuda::try_seed_from_u64(0) {
        Ok(d) => d,
        Err(e) => panic!("built with `cuda` but no usable GPU: {e:?}"),
    };
    let m_cpu = cpu.build_module::<Mlp, f32>();
    let m_gpu = m_cpu.to_device(&gpu);
    let x_cpu = cpu.sample_uniform_like(&(64, Const::<784>));
    let x_gpu = x_cpu.to_device(&gpu);
    let labels: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let y_cpu = cpu.tensor_from_vec(labels.clone(), (64,));
    let y_gpu = gpu.tensor_from_vec(labels, (64,));

    let loss_cpu = SparseCategoricalCrossentropy
        .try_loss(m_cpu.forward(x_cpu.trace(m_cpu.alloc_grads())), &y_cpu)
        .unwrap();
    let loss_gpu = SparseCategoricalCrossentropy
        .try_loss(m_gpu.forward(x_gpu.trace(m_gpu.alloc_grads())), &y_gpu)
        .unwrap();
    // f32 reductions run in a different order on the GPU: agree to 1e-5 relative.
    assert!(max_rel(&loss_gpu.as_vec(), &loss_cpu.as_vec()) < 1e-5);
    let (g_cpu, g_gpu) = (loss_cpu.backward(), loss_gpu.backward());
    for (a, b) in [
        (
            g_gpu.get(&m_gpu.0.weight).as_vec(),
            g_cpu.get(&m_cpu.0.weight).as_vec(),
        ),
        (
            g_gpu.get(&m_gpu.2.weight).as_vec(),
            g_cpu.get(&m_cpu.2.weight).as_vec(),
        ),
        (
            g_gpu.get(&m_gpu.2.bias).as_vec(),
            g_cpu.get(&m_cpu.2.bias).as_vec(),
        ),
    ] {
        assert!(
            max_rel(&a, &b) < 1e-4,
            "GPU gradient differs from the CPU's"
        );
    }
}

#[test]
fn trainer_fits_on_the_gpu() {
    let gpu = Cuda::try_seed_from_u64(0).expect("a GPU");
    let x: Vec<f32> = (0..4 * 2).map(|i| (i % 2) as f32).collect();
    let data = InMemory::<Rank1<2>, Classes<2>>::new(x, vec![0, 1, 0, 1]).unwrap();
    let mut model = Trainer::compile(
        &gpu,
        gpu.build_module::<(Linear<2, 8>, Tanh, Linear<8, 2>), f32>(),
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )
    .unwrap();
    let cfg = FitConfig {
        epochs: 100,
        batch_size: 4,
        verbosity: Verbosity::Silent,
        clip: Some(GradClip::Norm(5.0)),
        ..Default::default()
    };
    model.fit(&data, &cfg).unwrap();
    assert_eq!(model.evaluate(&data).unwrap().metrics["accuracy"], 1.0);
}

/// A small CNN with every conv/pool feature (padding, stride 2, both pools).
type Cnn = (
    (Conv2D<1, 4, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
    (Conv2D<4, 6, 3, 2, 1>, Tanh, AvgPool2D<2, 1, 1>),
    (Flatten2D, Linear<150, 10>),
);

#[test]
fn cnn_loss_and_gradients_match_the_cpu() {
    // the GPU runs the dfdx-op fallback, the CPU typenet's kernels
    let cpu = Cpu::seed_from_u64(1);
    let gpu = Cuda::try_seed_from_u64(1).expect("a GPU");
    let m_cpu = cpu.build_module::<Cnn, f32>();
    let m_gpu = m_cpu.to_device(&gpu);
    let x_cpu = cpu.sample_normal_like(&(8, Const::<1>, Const::<16>, Const::<16>));
    let x_gpu = x_cpu.to_device(&gpu);
    let labels: Vec<usize> = (0..8).map(|i| i % 10).collect();
    let y_cpu = cpu.tensor_from_vec(labels.clone(), (8,));
    let y_gpu = gpu.tensor_from_vec(labels, (8,));
    let loss_cpu = SparseCategoricalCrossentropy
        .try_loss(m_cpu.forward(x_cpu.trace(m_cpu.alloc_grads())), &y_cpu)
        .unwrap();
    let loss_gpu = SparseCategoricalCrossentropy
        .try_loss(m_gpu.forward(x_gpu.trace(m_gpu.alloc_grads())), &y_gpu)
        .unwrap();
    assert!(max_rel(&loss_gpu.as_vec(), &loss_cpu.as_vec()) < 1e-5);
    let (g_cpu, g_gpu) = (loss_cpu.backward(), loss_gpu.backward());
    for (a, b) in [
        (
            g_gpu.get(&m_gpu.0 .0.weight).as_vec(),
            g_cpu.get(&m_cpu.0 .0.weight).as_vec(),
        ),
        (
            g_gpu.get(&m_gpu.0 .0.bias).as_vec(),
            g_cpu.get(&m_cpu.0 .0.bias).as_vec(),
        ),
        (
            g_gpu.get(&m_gpu.1 .0.weight).as_vec(),
            g_cpu.get(&m_cpu.1 .0.weight).as_vec(),
        ),
    ] {
        assert!(
            max_rel(&a, &b) < 1e-4,
            "GPU conv gradient differs from the CPU's"
        );
    }
}

#[test]
fn resumable_optimizers_step_like_dfdx_and_save_on_the_gpu() {
    let gpu = Cuda::try_seed_from_u64(2).expect("a GPU");
    let x: Vec<f32> = (0..4 * 2).map(|i| (i % 2) as f32).collect();
    let data = InMemory::<Rank1<2>, Classes<2>>::new(x, vec![0, 1, 0, 1]).unwrap();
    type Net = (Linear<2, 8>, Tanh, Linear<8, 2>);
    let net = gpu.build_module::<Net, f32>();
    let cfg = FitConfig {
        epochs: 3,
        batch_size: 2,
        verbosity: Verbosity::Silent,
        ..Default::default()
    };
    let rms = RMSpropConfig {
        momentum: Some(0.5),
        centered: true,
        ..Default::default()
    };
    let loss = SparseCategoricalCrossentropy;
    let mut a = Trainer::compile(&gpu, net.clone(), rms, loss, &[]).unwrap();
    let mut b = Trainer::compile(&gpu, net, Resumable(rms), loss, &[]).unwrap();
    let hb = b.fit(&data, &cfg).unwrap();
    a.fit(&data, &cfg).unwrap();
    // the same dfdx kernel on the same device: bit-for-bit equal parameters
    assert_eq!(a.model.2.weight.as_vec(), b.model.2.weight.as_vec());
    let dir = std::env::temp_dir().join(format!("typenet-cuda-resume-{}", std::process::id()));
    let saved = b.save_state(&dir, &hb, &cfg).unwrap();
    let step = b.optimizer.step();
    b.optimizer = Resumable(rms).build(&b.model);
    b.load_state(&saved).unwrap();
    assert_eq!(b.optimizer.step(), step);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn conv_layers_pass_gradcheck_on_the_gpu() {
    // the fallback's gradients (dfdx's gather, matmul, max, mean) against finite differences, in
    // f64 on the GPU; inputs spread apart so no max-pool window holds a near-tie
    let gpu = Cuda::try_seed_from_u64(3).expect("a GPU");
    let mut m =
        gpu.build_module::<(Conv2D<2, 3, 3, 2, 1>, MaxPool2D<2, 1, 1>, AvgPool2D<2>), f64>();
    let values: Vec<f64> = (0..2 * 2 * 5 * 5)
        .map(|i| ((i * 37) % 100) as f64 / 50.0 - 1.0)
        .collect();
    let x = gpu.tensor_from_vec(values, (Const::<2>, Const::<2>, Const::<5>, Const::<5>));
    let report = gradcheck(&mut m, &x, &GradCheckConfig::default()).unwrap();
    assert!(report.passed(), "{report}");
}
