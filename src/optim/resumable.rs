//! The optimizer that owns its state: one set of buffers per parameter tensor.

use super::rules::{Buf, UpdateRule};
use super::{HostSlices, LearningRate, OptimizerConfig};
use super::{OptimizerState, Resumable};
use crate::checkpoint::{read_checked, write, Entry, TensorSpec};
use crate::nn::TrainingDevice;
use crate::{Error, Result};
use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorMut, ViewTensorName,
    ViewTensorRef,
};
use dfdx::optim::{Optimizer, OptimizerUpdateError};
use dfdx::prelude::*;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::path::Path;

/// An optimizer for model `M` on device `D` following rule `C` (dfdx's `AdamConfig`,
/// `SgdConfig` or `RMSpropConfig`) whose state can be saved; built by [`Resumable`].
///
/// The state buffers live on `D` and are updated there by dfdx's kernels; saving and loading
/// copies them through host memory ([`TrainingDevice::with_slice`]).
///
/// A parameter the tape did not reach is updated with a zero gradient (dfdx's optimizers report
/// it as unused instead; typenet's trainer allocates every gradient, so it never sees either).
#[derive(Debug, Clone)]
pub struct ResumableOptimizer<M, C, D: Storage<f32> = Cpu> {
    /// The rule and its hyperparameters (the learning rate may be changed by schedules).
    pub cfg: C,
    step: i32,
    params: Vec<TensorSpec>,
    /// Buffers per parameter, in the model's visiting order; empty before the first step.
    state: Vec<Vec<Buf<D>>>,
    device: D,
    model: PhantomData<fn(&M)>,
}

impl<M, C: UpdateRule, D: Storage<f32>> ResumableOptimizer<M, C, D> {
    /// Updates applied so far.
    pub fn step(&self) -> i32 {
        self.step
    }
}

impl<M, C, D> OptimizerConfig<M, D> for Resumable<C>
where
    M: TensorCollection<f32, D>,
    C: UpdateRule,
    D: TrainingDevice + HostSlices,
{
    type Optimizer = ResumableOptimizer<M, C, D>;
    fn build(self, model: &M) -> Self::Optimizer {
        let mut op = Specs {
            out: Vec::new(),
            device: None,
        };
        // The visitor itself never fails, and only reads.
        let _ = M::iter_tensors(&mut RecursiveWalker {
            m: (model, String::new()),
            f: &mut op,
        });
        ResumableOptimizer {
            cfg: self.0,
            step: 0,
            params: op.out,
            state: Vec::new(),
            device: op.device.unwrap_or_default(),
            model: PhantomData,
        }
    }
}

/// Records the name and shape of every trainable tensor, and the device.
struct Specs<D> {
    out: Vec<TensorSpec>,
    device: Option<D>,
}

impl<D: Device<f32>> TensorVisitor<f32, D> for Specs<D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> std::result::Result<Option<Tensor<S, f32, D>>, D::Err> {
        if opts.do_gradient_update {
            self.device.get_or_insert_with(|| t.device().clone());
            self.out
                .push(TensorSpec::f32(name, t.shape().concrete().into()));
        }
        Ok(None)
    }
}

impl<M, C: UpdateRule, D: Storage<f32>> LearningRate for ResumableOptimizer<M, C, D> {
    fn lr(&self) -> f64 {
        self.cfg.lr()
    }
    fn set_lr(&mut self, lr: f64) {
        self.cfg.set_lr(lr);
    }
}

impl<M: TensorCollection<f32, D>, C: UpdateRule, D: TrainingDevice + HostSlices>
    Optimizer<M, D, f32> for ResumableOptimizer<M, C, D>
{
    fn update(
        &mut self,
        module: &mut M,
        gradients: &Gradients<f32, D>,
    ) -> std::result::Result<(), OptimizerUpdateError<D::Err>> {
        // dfdx keeps a checked gradient lookup private; a copy allows `get_or_alloc_mut`.
        let mut grads = gradients.clone();
        // 2^31 steps is beyond any training run; saturating keeps the kernel's `i32`.
        self.step = self.step.saturating_add(1);
        let mut op = Update {
            opt: self,
            grads: &mut grads,
            index: 0,
        };
        M::iter_tensors(&mut RecursiveWalker {
            m: module,
            f: &mut op,
        })
        .map(|_| ())
        .map_err(OptimizerUpdateError::DeviceError)
    }
}

struct Update<'a, M, C, D: Storage<f32>> {
    opt: &'a mut ResumableOptimizer<M, C, D>,
    grads: &'a mut Gradients<f32, D>,
    index: usize,
}

impl<M, C: UpdateRule, D: HostSlices> TensorVisitor<f32, D> for Update<'_, M, C, D> {
    type Viewer = ViewTensorMut;
    type Err = D::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        p: &mut Tensor<S, f32, D>,
    ) -> std::result::Result<Option<Tensor<S, f32, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let i = self.index;
        self.index += 1;
        if self.opt.state.len() <= i {
            self.opt.state.resize_with(i + 1, Vec::new);
        }
        let slots = &mut self.opt.state[i];
        if slots.is_empty() {
            let n = p.shape().num_elements();
            for s in 0..C::SLOTS.len() {
                // zeroed on every device
                let mut buf = Storage::<f32>::try_alloc_len(&self.opt.device, n)?;
                if C::starts_at_one(s) {
                    self.opt.device.try_fill_with_ones(&mut buf)?;
                }
                slots.push(buf);
            }
        }
        let g = self.grads.get_or_alloc_mut(p)?;
        self.opt.cfg.apply(self.opt.step, p, slots, g)?;
        Ok(None)
    }
}

impl<M, C: UpdateRule, D: Storage<f32>> ResumableOptimizer<M, C, D> {
    /// The spec of every state buffer, `<param>.<slot>`, in order.
    fn slot_specs(&self) -> Vec<TensorSpec> {
        self.params
            .iter()
            .flat_map(|p| {
                C::SLOTS
                    .iter()
                    .map(|s| TensorSpec::f32(format!("{}.{s}", p.name), p.shape.clone()))
            })
            .collect()
    }
}

impl<M, C: UpdateRule, D: TrainingDevice> OptimizerState for ResumableOptimizer<M, C, D> {
    fn save_state(&self, path: &Path) -> Result<()> {
        let mut entries = Vec::new();
        if self.state.len() == self.params.len() {
            let bufs = self.state.iter().flatten();
            for (spec, buf) in self.slot_specs().into_iter().zip(bufs) {
                // `with_slice` takes the buffer mutably: read a copy (on the CPU, a memcpy)
                let mut bytes = Vec::new();
                D::with_slice(&mut buf.clone(), &mut |v| {
                    bytes = v.iter().flat_map(|x| x.to_le_bytes()).collect()
                })?;
                entries.push(Entry {
                    spec,
                    trainable: false,
                    bytes,
                });
            }
        }
        let metadata = HashMap::from([
            ("typenet.optimizer".to_string(), C::NAME.to_string()),
            ("typenet.step".to_string(), self.step.to_string()),
            // `Display` of an f64 reads back to the same bits
            ("typenet.lr".to_string(), self.cfg.lr().to_string()),
        ]);
        write(path, &entries, metadata)
    }

    fn settings(&self) -> String {
        let mut cfg = self.cfg.clone();
        cfg.set_lr(0.0);
        format!("{} {cfg:?}", C::NAME).replace("lr: 0.0, ", "")
    }

    fn load_state(&mut self, path: &Path) -> Result<()> {
        let bad = |reason: String| Error::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let header = crate::checkpoint::read_info(path)?.metadata;
        let rule = header.get("typenet.optimizer").cloned().unwrap_or_default();
        if rule != C::NAME {
            return Err(bad(format!(
                "holds `{rule}` optimizer state, not `{}`",
                C::NAME
            )));
        }
        let number = |key: &str| -> Result<f64> {
            header
                .get(key)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| bad(format!("metadata `{key}` is missing or not a number")))
        };
        let (step, lr) = (number("typenet.step")? as i32, number("typenet.lr")?);
        let expected = if step == 0 {
            Vec::new()
        } else {
            self.slot_specs()
        };
        let (_, mut values) = read_checked(path, &expected, std::any::type_name::<Self>())?;
        let mut state = Vec::with_capacity(self.params.len());
        for p in (step != 0).then_some(&self.params).into_iter().flatten() {
            let mut slots = Vec::with_capacity(C::SLOTS.len());
            for s in C::SLOTS {
                let name = format!("{}.{s}", p.name);
                let Some(crate::checkpoint::Values::F32(v)) = values.remove(&name) else {
                    return Err(bad(format!("tensor {name} is missing")));
                };
                let mut buf =
                    Storage::<f32>::try_alloc_len(&self.device, v.len()).map_err(Error::device)?;
                // `read_checked` checked the length against the parameter's shape
                D::with_slice(&mut buf, &mut |b| b.copy_from_slice(&v))?;
                slots.push(buf);
            }
            state.push(slots);
        }
        self.state = state;
        self.step = step;
        self.cfg.set_lr(lr);
        Ok(())
    }
}
