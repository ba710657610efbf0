//! Conv and pool layers in models: runtime sizes, single samples, a training step at CIFAR and
//! ImageNet sizes, checkpoints. (The kernels and layers against a naive f64 reference and
//! central finite differences are unit tests beside them, in `src/nn/`.)

use typenet::prelude::*;

#[test]
fn runtime_sizes_and_single_samples() {
    let dev = Cpu::seed_from_u64(4);
    type Net = (
        Conv2D<1, 4, 3, 1, 1>,
        ReLU,
        MaxPool2D<2, 2>,
        AvgPool2D<2, 2>,
    );
    let m = dev.build_module::<Net, f32>();
    // runtime spatial dims: checked when run
    let x: Tensor<(usize, Const<1>, usize, usize), f32, _> =
        dev.sample_normal_like(&(3, Const, 13, 9));
    let y = m.forward(x);
    assert_eq!(y.shape().concrete(), [3, 4, 3, 2]);
    // a single sample
    let y: Tensor<Rank3<4, 3, 2>, f32, _> = m.forward(dev.sample_normal::<Rank3<1, 13, 9>>());
    assert!(y.as_vec().iter().all(|v| v.is_finite()));
    // a runtime size smaller than the kernel is an error, not a panic
    let conv = dev.build_module::<Conv2D<1, 1, 5>, f32>();
    let tiny: Tensor<(Const<1>, usize, usize), f32, _> = dev.zeros_like(&(Const, 3, 3));
    assert!(conv.try_forward(tiny).is_err());
}

#[test]
fn cifar_shaped_net_fits_a_fixed_batch() {
    type Cifar = (
        (Conv2D<3, 16, 3, 1, 1>, ReLU, MaxPool2D<2, 2>),
        (
            Conv2D<16, 32, 3, 1, 1>,
            BatchNorm2D<32>,
            ReLU,
            MaxPool2D<2, 2>,
        ),
        (Conv2D<32, 32, 3, 2, 1>, ReLU, Flatten2D, Linear<512, 10>),
    );
    let s = summary::<Cifar, Rank3<3, 32, 32>>();
    assert_eq!(s.rows.last().map(|r| r.output.clone()), Some(vec![10]));
    assert_eq!(s.total, <Cifar as Params>::PARAMS);
    let dev = Cpu::seed_from_u64(5);
    let mut m = dev.build_module::<Cifar, f32>();
    let mut opt = Adam::new(&m, Default::default());
    let x: Tensor<(usize, Const<3>, Const<32>, Const<32>), f32, _> =
        dev.sample_normal_like(&(4, Const, Const, Const));
    // one-hot targets: sample i is class i, which the net can fit on this one fixed batch
    let mut one_hot = vec![0.0f32; 40];
    for i in 0..4 {
        one_hot[i * 10 + i] = 1.0;
    }
    let y = dev.tensor_from_vec(one_hot, (4, Const::<10>));
    // five Adam steps on the fixed batch: the loss is finite and goes down
    let mut losses = Vec::new();
    for _ in 0..5 {
        let grads = m.alloc_grads();
        let out = m.forward_mut(x.clone().traced(grads));
        let loss = cross_entropy_with_logits_loss(out, y.clone());
        losses.push(loss.array());
        let grads = loss.backward();
        opt.update(&mut m, &grads).expect("update");
    }
    let l0 = losses[0];
    assert!(l0.is_finite());
    assert!(losses.iter().all(|l| l.is_finite()), "{losses:?}");
    assert!(losses[4] < l0, "no progress on a fixed batch: {losses:?}");
}

#[test]
fn imagenet_sized_input_gets_gradients_and_a_step_lowers_the_loss() {
    type Stem = (
        (Conv2D<3, 8, 7, 2, 3>, ReLU, MaxPool2D<3, 2, 1>),
        (Conv2D<8, 8, 3, 2, 1>, ReLU, AvgPoolGlobal, Linear<8, 10>),
    );
    let dev = Cpu::seed_from_u64(6);
    let mut m = dev.build_module::<Stem, f32>();
    let mut opt = Sgd::new(&m, Default::default());
    let x: Tensor<Rank4<1, 3, 224, 224>, f32, _> = dev.sample_normal();
    let grads = m.alloc_grads();
    let out: Tensor<Rank2<1, 10>, f32, _, _> = m.forward_mut(x.clone().traced(grads));
    let loss = out.square().mean();
    let l0 = loss.array();
    let grads = loss.backward();
    // every parameter gets a finite gradient, not all zero
    let (stem, head) = (&m.0, &m.1);
    let (conv1, conv2, dense) = (&stem.0, &head.0, &head.3);
    let params: [(&str, Vec<f32>); 6] = [
        ("conv1.weight", grads.get(&conv1.weight).as_vec()),
        ("conv1.bias", grads.get(&conv1.bias).as_vec()),
        ("conv2.weight", grads.get(&conv2.weight).as_vec()),
        ("conv2.bias", grads.get(&conv2.bias).as_vec()),
        ("dense.weight", grads.get(&dense.weight).as_vec()),
        ("dense.bias", grads.get(&dense.bias).as_vec()),
    ];
    for (name, g) in &params {
        assert!(g.iter().all(|v| v.is_finite()), "{name}: {g:?}");
        assert!(g.iter().any(|&v| v != 0.0), "{name}: all zero");
    }
    opt.update(&mut m, &grads).expect("update");
    // a small gradient step lowers the loss it followed
    let l1 = m.forward(x).square().mean::<Rank0, _>().array();
    assert!(l0.is_finite() && l1 < l0, "loss {l0} -> {l1}");
    let s = summary::<Stem, Rank3<3, 224, 224>>();
    assert_eq!(s.rows[0].output, vec![8, 112, 112]);
    assert_eq!(s.rows[2].output, vec![8, 56, 56]);
}

#[test]
fn conv_weights_save_load_and_reset() {
    type Net = (
        Conv2D<1, 2, 3>,
        ReLU,
        MaxPool2D<2, 2>,
        Flatten2D,
        Linear<2, 3>,
    );
    let dev = Cpu::seed_from_u64(7);
    let mut a = dev.build_module::<Net, f32>();
    let b = dev.build_module::<Net, f32>();
    assert_ne!(a.0.weight.as_vec(), b.0.weight.as_vec());
    let path =
        std::env::temp_dir().join(format!("typenet-conv-{}.safetensors", std::process::id()));
    b.save_safetensors(&path).expect("save");
    a.load_safetensors(&path).expect("load");
    let _ = std::fs::remove_file(&path);
    assert_eq!(a.0.weight.as_vec(), b.0.weight.as_vec());
    assert_eq!(a.0.bias.as_vec(), b.0.bias.as_vec());
    assert_eq!(a.num_trainable_params(), <Net as Params>::PARAMS);
    a.reset_params();
    assert_ne!(a.0.weight.as_vec(), b.0.weight.as_vec());
}
