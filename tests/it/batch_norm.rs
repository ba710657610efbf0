//! typenet's `BatchNorm2D`/`BatchNorm1D` (fused CPU kernels) against dfdx's layers of the same
//! names, an independent implementation of the same definition: training outputs, running
//! statistics and gradients, inference outputs; and model files written with dfdx's layers
//! (typenet's checkpoints, npz, dfdx's own safetensors) loading into typenet's unchanged.

use dfdx::nn::builders as dfdx_nn;
use typenet::checkpoint::{export_npz, import_npz, load_model, save_model};
use typenet::prelude::*;

type New2 = (Conv2D<2, 3, 3>, BatchNorm2D<3>, ReLU);
type Old2 = (Conv2D<2, 3, 3>, dfdx_nn::BatchNorm2D<3>, ReLU);
type New1 = (Linear<5, 4>, BatchNorm1D<4>);
type Old1 = (Linear<5, 4>, dfdx_nn::BatchNorm1D<4>);

fn tmp(name: &str) -> std::path::PathBuf {
    crate::support::tmp_dir("batch-norm").join(name)
}

/// `|a − b| ≤ tol·(1 + |b|)` element-wise.
fn close(what: &str, a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + y.abs()),
            "{what}[{i}]: typenet {x}, dfdx {y}"
        );
    }
}

/// One training step of `L = Σ r·y` on both models (built from the same seed, so with the same
/// weights), given as closures running `forward_mut` on a leaky-traced input: compares outputs,
/// running statistics and the gradients of every parameter and of the input.
macro_rules! same_training_step {
    ($new:ident, $old:ident, $x:expr, $r:expr, $what:expr) => {{
        let (x, r) = ($x, $r);
        let y_new = $new.forward_mut(x.leaky_trace());
        let y_old = $old.forward_mut(x.leaky_trace());
        close(
            &format!("{}: y", $what),
            &y_new.retaped::<NoneTape>().as_vec(),
            &y_old.retaped::<NoneTape>().as_vec(),
            1e-5,
        );
        let g_new = (y_new * r.clone()).sum().backward();
        let g_old = (y_old * r).sum().backward();
        close(
            &format!("{}: dx", $what),
            &g_new.get(&x).as_vec(),
            &g_old.get(&x).as_vec(),
            1e-4,
        );
        close(
            &format!("{}: dweight", $what),
            &g_new.get(&$new.0.weight).as_vec(),
            &g_old.get(&$old.0.weight).as_vec(),
            1e-4,
        );
        close(
            &format!("{}: dscale", $what),
            &g_new.get(&$new.1.scale).as_vec(),
            &g_old.get(&$old.1.scale).as_vec(),
            1e-4,
        );
        close(
            &format!("{}: dbias", $what),
            &g_new.get(&$new.1.bias).as_vec(),
            &g_old.get(&$old.1.bias).as_vec(),
            1e-4,
        );
        for (name, a, b) in [
            ("running_mean", &$new.1.running_mean, &$old.1.running_mean),
            ("running_var", &$new.1.running_var, &$old.1.running_var),
        ] {
            close(
                &format!("{}: {name}", $what),
                &a.as_vec(),
                &b.as_vec(),
                1e-6,
            );
        }
    }};
}

#[test]
fn training_and_inference_match_dfdx_batch_norm_2d() {
    let mut new = Cpu::seed_from_u64(7).build_module::<New2, f32>();
    let mut old = Cpu::seed_from_u64(7).build_module::<Old2, f32>();
    let dev = Cpu::seed_from_u64(8);
    let (scale, bias): (Tensor<Rank1<3>, f32, _>, Tensor<Rank1<3>, f32, _>) =
        (dev.sample_normal(), dev.sample_normal());
    new.1.scale = scale.clone();
    new.1.bias = bias.clone();
    old.1.scale = scale;
    old.1.bias = bias;
    old.1.momentum = 0.25;
    new.1.momentum = 0.25;
    for step in 0..3 {
        // batches with a channel mean far from 0
        let x: Tensor<Rank4<4, 2, 7, 7>, f32, _> = dev.sample_normal() * 2.0 + 3.0;
        let r: Tensor<Rank4<4, 3, 5, 5>, f32, _> = dev.sample_normal();
        same_training_step!(new, old, x, r, format!("batch step {step}"));
    }
    // one image (C, H, W): statistics over the plane alone
    let x: Tensor<Rank3<2, 7, 7>, f32, _> = dev.sample_normal();
    let r: Tensor<Rank3<3, 5, 5>, f32, _> = dev.sample_normal();
    same_training_step!(new, old, x, r, "single image");

    let x: Tensor<Rank4<3, 2, 7, 7>, f32, _> = dev.sample_normal();
    close(
        "inference",
        &new.forward(x.clone()).as_vec(),
        &old.forward(x).as_vec(),
        1e-5,
    );
}

#[test]
fn training_and_inference_match_dfdx_batch_norm_1d() {
    let mut new = Cpu::seed_from_u64(3).build_module::<New1, f32>();
    let mut old = Cpu::seed_from_u64(3).build_module::<Old1, f32>();
    let dev = Cpu::seed_from_u64(4);
    for step in 0..3 {
        let x: Tensor<Rank2<6, 5>, f32, _> = dev.sample_normal();
        let r: Tensor<Rank2<6, 4>, f32, _> = dev.sample_normal();
        same_training_step!(new, old, x, r, format!("features step {step}"));
    }
    let x: Tensor<Rank2<5, 5>, f32, _> = dev.sample_normal();
    close(
        "inference",
        &new.forward(x.clone()).as_vec(),
        &old.forward(x).as_vec(),
        1e-5,
    );

    // sequences (B, C, L): statistics over the batch and the length
    let mut new = Cpu::default().build_module::<BatchNorm1D<4>, f32>();
    let mut old = Cpu::default().build_module::<dfdx_nn::BatchNorm1D<4>, f32>();
    let x: Tensor<Rank3<3, 4, 5>, f32, _> = dev.sample_normal();
    let y_new = new.forward_mut(x.leaky_trace()).retaped::<NoneTape>();
    let y_old = old.forward_mut(x.leaky_trace()).retaped::<NoneTape>();
    close("sequence y", &y_new.as_vec(), &y_old.as_vec(), 1e-5);
    let v = (new.running_var.as_vec(), old.running_var.as_vec());
    close("sequence running_var", &v.0, &v.1, 1e-6);
    close(
        "sequence inference",
        &new.forward(x.clone()).as_vec(),
        &old.forward(x).as_vec(),
        1e-5,
    );
}

/// dfdx's layer with random scale and bias, its own epsilon and momentum, and running
/// statistics moved by three training batches.
fn trained_dfdx_model(dev: &Cpu) -> <Old2 as BuildOnDevice<Cpu, f32>>::Built {
    let mut m = dev.build_module::<Old2, f32>();
    m.1.scale = dev.sample_normal();
    m.1.bias = dev.sample_normal();
    m.1.epsilon = 1e-3;
    m.1.momentum = 0.3;
    for _ in 0..3 {
        let x: Tensor<Rank4<4, 2, 6, 6>, f32, _> = dev.sample_normal() + 1.0;
        let _ = m.forward_mut(x.traced(m.alloc_grads()));
    }
    m
}

#[test]
fn files_written_with_dfdx_batch_norm_load_into_typenets() -> typenet::Result<()> {
    let dev = Cpu::seed_from_u64(11);
    let old = trained_dfdx_model(&dev);
    let x: Tensor<Rank4<2, 2, 6, 6>, f32, _> = dev.sample_normal();
    let want = old.forward(x.clone()).as_vec();
    let ours = tmp("typenet.safetensors");
    let npz = tmp("model.npz");
    let dfdx_file = tmp("dfdx.safetensors");
    save_model(&old, &ours)?;
    export_npz(&old, &npz)?;
    old.save_safetensors(&dfdx_file)
        .expect("dfdx writes its file");

    let mut loaded = Vec::new();
    let mut m = dev.build_module::<New2, f32>();
    load_model(&mut m, &ours)?;
    loaded.push(("typenet checkpoint", m));
    let mut m = dev.build_module::<New2, f32>();
    import_npz(&mut m, &npz)?;
    loaded.push(("npz", m));
    let mut m = dev.build_module::<New2, f32>();
    m.load_safetensors(&dfdx_file).expect("dfdx's file loads");
    loaded.push(("dfdx safetensors", m));
    for (what, m) in loaded {
        for (name, a, b) in [
            ("scale", &m.1.scale, &old.1.scale),
            ("bias", &m.1.bias, &old.1.bias),
            ("running_mean", &m.1.running_mean, &old.1.running_mean),
            ("running_var", &m.1.running_var, &old.1.running_var),
        ] {
            assert_eq!(a.as_vec(), b.as_vec(), "{what}: {name}");
        }
        assert_eq!((m.1.epsilon, m.1.momentum), (1e-3, 0.3), "{what}");
        close(what, &m.forward(x.clone()).as_vec(), &want, 1e-5);
    }
    Ok(())
}
