//! Steps made of several micro-batches (gradient accumulation), on one process or on several
//! ranks ([`distributed`](crate::distributed) describes the step and its summation order), and
//! validation shared among ranks.

use super::clip::{check_features, check_loss, float};
use super::{FitConfig, TrainModel, Trainer};
use crate::data::{for_each_batch, Batch, BatchOf, Dataset, HostBatch, Target, Targets};
use crate::distributed::{epoch_shard, samples_of_rank, Communicator};
use crate::losses::Loss;
use crate::nn::TrainingDevice;
use crate::optim::LearningRate;
use crate::{Error, Result};
use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorVisitor, ViewTensorRef,
};
use dfdx::optim::Optimizer;
use dfdx::prelude::*;
use std::any::Any;

/// Copies the gradients of a model's trainable tensors, in the model's order, into a flat
/// vector (`into_flat`) or back from one.
struct Flat<'g, E: Dtype, D: Device<E>> {
    grads: &'g mut Gradients<E, D>,
    flat: &'g mut Vec<E>,
    into_flat: bool,
    at: usize,
    failed: Option<Error>,
}

impl<E: Dtype, D: TrainingDevice<E>> TensorVisitor<E, D> for Flat<'_, E, D> {
    type Viewer = ViewTensorRef;
    type Err = D::Err;
    type E2 = E;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, E, D>,
        t: &Tensor<S, E, D>,
    ) -> std::result::Result<Option<Tensor<S, E, D>>, D::Err> {
        if !opts.do_gradient_update {
            return Ok(None);
        }
        let buf = self.grads.get_or_alloc_mut(t)?;
        let (flat, at, into_flat) = (&mut *self.flat, &mut self.at, self.into_flat);
        let done = D::with_slice(buf, &mut |g| {
            if into_flat {
                flat.extend_from_slice(g);
            } else if let Some(src) = flat.get(*at..*at + g.len()) {
                g.copy_from_slice(src);
            }
            *at += g.len();
        });
        if let Err(e) = done {
            self.failed.get_or_insert(e);
        }
        Ok(None)
    }
}

/// Reads (`into_flat`) or writes the flat gradient of `model` from or to `grads`.
fn flat_grads<E: Dtype, D: TrainingDevice<E>, M: TensorCollection<E, D>>(
    model: &M,
    grads: &mut Gradients<E, D>,
    flat: &mut Vec<E>,
    into_flat: bool,
) -> Result<()> {
    if into_flat {
        flat.clear();
    }
    let mut visit = Flat {
        grads,
        flat,
        into_flat,
        at: 0,
        failed: None,
    };
    M::iter_tensors(&mut RecursiveWalker {
        m: model,
        f: &mut visit,
    })
    .map_err(Error::device)?;
    match visit.failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every rank's `local`, rank 0's first, through the communicator's `f32` or `f64` gather.
// a `&Vec` because the element type is found by downcasting it (`[E]` is unsized, not `Any`)
#[allow(clippy::ptr_arg)]
fn gather<E: Dtype>(comm: &dyn Communicator, local: &Vec<E>) -> Result<Vec<E>> {
    let mut all = vec![E::default(); local.len() * comm.size()];
    let done = if let (Some(l), Some(a)) = (
        (local as &dyn Any).downcast_ref::<Vec<f32>>(),
        (&mut all as &mut dyn Any).downcast_mut::<Vec<f32>>(),
    ) {
        comm.all_gather_f32(l, a)
    } else if let (Some(l), Some(a)) = (
        (local as &dyn Any).downcast_ref::<Vec<f64>>(),
        (&mut all as &mut dyn Any).downcast_mut::<Vec<f64>>(),
    ) {
        comm.all_gather_f64(l, a)
    } else {
        Err(Error::Distributed {
            rank: comm.rank(),
            reason: format!(
                "models in {} cannot be trained on several ranks (f32 and f64 can)",
                std::any::type_name::<E>()
            ),
        })
    };
    done.map(|()| all)
}

/// The layout of one micro-batch's record in a gathered buffer: `[n, loss, outputs, labels]`,
/// outputs and labels padded to `capacity` samples (empty when no metric needs them).
#[derive(Clone, Copy)]
struct Record {
    capacity: usize,
    /// Output values per sample (0 without metrics).
    width: usize,
    /// Label values per sample (0 without metrics).
    label_width: usize,
    /// Whether labels are class indices.
    classes: bool,
}

impl Record {
    fn new<T: Target>(capacity: usize, metrics: bool) -> Result<Self> {
        if metrics && T::OUTPUTS > 1 {
            return Err(Error::InvalidArgument {
                what: "metrics of a model with several outputs",
                value: format!("{} outputs", T::OUTPUTS),
                expected: "left out when accumulating gradients or training on several ranks \
                    (compute them with `evaluate` afterwards)"
                    .into(),
            });
        }
        // several outputs' targets have no flat view: refused above when metrics need them
        let (classes, label_width) = match T::view(&[]) {
            Targets::Classes(_) => (true, 1),
            Targets::Values(_, w) => (false, w),
        };
        let on = usize::from(metrics);
        Ok(Record {
            capacity,
            width: T::WIDTH * on,
            label_width: label_width * on,
            classes,
        })
    }

    fn len(&self) -> usize {
        2 + self.capacity * (self.width + self.label_width)
    }

    /// Appends a micro-batch's record to `out`.
    fn push<E: Dtype>(
        &self,
        out: &mut Vec<E>,
        (n, loss): (usize, f64),
        outputs: &[f32],
        labels: Targets<'_>,
    ) {
        let start = out.len();
        out.push(float(n as f64));
        out.push(float(loss));
        if self.width > 0 {
            out.extend(outputs.iter().map(|&v| float::<E>(v as f64)));
            out.resize(start + 2 + self.capacity * self.width, E::default());
            match labels {
                Targets::Classes(c) => out.extend(c.iter().map(|&v| float::<E>(v as f64))),
                Targets::Values(v, _) => out.extend(v.iter().map(|&v| float::<E>(v as f64))),
            }
        }
        out.resize(start + self.len(), E::default());
    }

    /// Reads a record: its sample count and loss, and hands its outputs and labels to `each`.
    fn read<E: Dtype>(
        &self,
        rec: &[E],
        samples: Option<usize>,
        each: &mut dyn FnMut(&[f32], Targets<'_>),
    ) -> (usize, f64) {
        let to = |v: &E| v.to_f64().unwrap_or(f64::NAN);
        let n = samples.unwrap_or(to(&rec[0]) as usize).min(self.capacity);
        let loss = to(&rec[1]);
        if self.width > 0 {
            let out_at = 2;
            let lab_at = 2 + self.capacity * self.width;
            let outputs: Vec<f32> = rec[out_at..out_at + n * self.width]
                .iter()
                .map(|v| to(v) as f32)
                .collect();
            let labels = &rec[lab_at..lab_at + n * self.label_width];
            if self.classes {
                let c: Vec<usize> = labels.iter().map(|v| to(v) as usize).collect();
                each(&outputs, Targets::Classes(&c));
            } else {
                let v: Vec<f32> = labels.iter().map(|v| to(v) as f32).collect();
                each(&outputs, Targets::Values(&v, self.label_width));
            }
        }
        (n, loss)
    }
}

/// Where a step stands in the epoch: the samples of the whole step (all ranks), the samples
/// per micro-batch, the micro-batches per rank.
pub(super) struct Step {
    pub(super) samples: usize,
    pub(super) batch_size: usize,
    pub(super) micro_batches: usize,
}

impl<M, O, L, D, E> Trainer<M, O, L, D, E>
where
    E: Dtype,
    D: TrainingDevice<E>,
    O: Optimizer<M, D, E> + LearningRate,
{
    /// This rank's part of a step: each micro-batch's gradient alone, weighted by its share of
    /// the step's samples and added in order into `sum`; each micro-batch's record appended to
    /// `records`. Returns the number of micro-batches.
    fn local_part<Ds>(
        &mut self,
        micro: Vec<HostBatch<Ds::Target>>,
        step: &Step,
        record: Record,
        sum: &mut Vec<E>,
        records: &mut Vec<E>,
        (epoch, batch): (usize, usize),
    ) -> Result<usize>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        let mut flat = Vec::new();
        let count = micro.len();
        for host in micro {
            let n = host.targets.len();
            check_features(&host.features, n, (epoch, batch))?;
            let tensors = Batch::<Ds, D, E>::upload(&self.device, host)?;
            let grads = match self.grads.take() {
                Some(g) => g,
                None => self.model.try_alloc_grads().map_err(Error::device)?,
            };
            let out = self
                .model
                .try_forward_mut(tensors.x.traced(grads))
                .map_err(Error::device)?;
            let outputs = match record.width {
                0 => Vec::new(),
                _ => super::trainer::to_f32(out.retaped::<NoneTape>().as_vec()),
            };
            let loss = self.loss.try_loss(out, &tensors.y).map_err(Error::device)?;
            let value = super::trainer::scalar(&loss);
            check_loss(value, (epoch, batch))?;
            let mut grads = loss.try_backward().map_err(Error::device)?;
            flat_grads(&self.model, &mut grads, &mut flat, true)?;
            let w = float::<E>(n as f64 / step.samples as f64);
            if sum.is_empty() {
                sum.extend(flat.iter().map(|&g| g * w));
            } else {
                sum.iter_mut().zip(&flat).for_each(|(s, &g)| *s += g * w);
            }
            self.model
                .try_zero_grads(&mut grads)
                .map_err(Error::device)?;
            self.grads = Some(grads);
            let labels = Ds::Target::view(&tensors.labels);
            record.push(records, (n, value), &outputs, labels);
        }
        Ok(count)
    }

    /// One optimizer step from this rank's micro-batches of it (`micro`, possibly none on the
    /// last step of an epoch): the gradients of all ranks summed in rank order, then clipping,
    /// the guards and the update as in a plain step; the metrics updated with every
    /// micro-batch in order. Returns the step's loss summed over its samples, and its samples.
    pub(super) fn accumulated_step<Ds>(
        &mut self,
        micro: Vec<HostBatch<Ds::Target>>,
        step: &Step,
        comm: &dyn Communicator,
        cfg: &FitConfig,
        (epoch, batch): (usize, usize),
    ) -> Result<(f64, usize)>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        let record = Record::new::<Ds::Target>(step.batch_size, !self.metrics.is_empty())?;
        let params = self.model.num_trainable_params();
        // one fused buffer per rank: [status, count, gradient sum, records]
        let mut sum = Vec::with_capacity(params);
        let mut records = Vec::new();
        let part =
            self.local_part::<Ds>(micro, step, record, &mut sum, &mut records, (epoch, batch));
        let (status, count) = match &part {
            Ok(count) => (0.0, *count),
            Err(_) => (1.0, 0),
        };
        sum.resize(params, E::default());
        records.resize(step.micro_batches * record.len(), E::default());
        let mut local = Vec::with_capacity(2 + params + records.len());
        local.push(float::<E>(status));
        local.push(float::<E>(count as f64));
        local.extend(sum);
        local.extend(records);
        let all = gather(comm, &local)?;
        let seg = local.len();
        if let Some(failed) = all.chunks(seg).position(|s| s[0] != E::default()) {
            part?;
            return Err(Error::Distributed {
                rank: failed,
                reason: format!(
                    "failed in epoch {epoch}, step {batch} (its own error says why); every rank stops"
                ),
            });
        }
        let mut total: Option<Vec<E>> = None;
        let (mut loss_sum, mut seen) = (0.0f64, 0usize);
        let width = <Ds::Target as Target>::WIDTH;
        for s in all.chunks(seg) {
            let count = s[1].to_usize().unwrap_or(0);
            if count == 0 {
                continue;
            }
            let grad = &s[2..2 + params];
            match total.as_mut() {
                None => total = Some(grad.to_vec()),
                Some(t) => t.iter_mut().zip(grad).for_each(|(t, &g)| *t += g),
            }
            for rec in s[2 + params..].chunks(record.len()).take(count) {
                let metrics = &mut self.metrics;
                let (n, loss) = record.read(rec, None, &mut |out, labels| {
                    metrics.update(out, width, labels)
                });
                loss_sum += loss * n as f64;
                seen += n;
            }
        }
        let mut grads = match self.grads.take() {
            Some(g) => g,
            None => self.model.try_alloc_grads().map_err(Error::device)?,
        };
        let mut total = total.unwrap_or_default();
        flat_grads(&self.model, &mut grads, &mut total, false)?;
        self.finish_step(grads, cfg, epoch, batch)?;
        Ok((loss_sum, seen))
    }
}

impl<M, O, L, D: Device<E>, E: Dtype> Trainer<M, O, L, D, E> {
    /// Loss and metrics on `data` with the batches dealt among the ranks (batch i to rank
    /// i mod N): each round, every rank evaluates its batch, and every rank then adds the
    /// round's batches to the loss and the metrics in batch order, as one process would.
    pub(super) fn evaluate_shared<Ds>(
        &mut self,
        data: &Ds,
        batch_size: usize,
        comm: &dyn Communicator,
    ) -> Result<super::Evaluation>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        let (rank, ranks) = (comm.rank(), comm.size());
        self.prepare_metrics(data)?;
        self.metrics.reset();
        let record = Record::new::<Ds::Target>(batch_size, !self.metrics.is_empty())?;
        let width = <Ds::Target as Target>::WIDTH;
        let order: Vec<usize> = (0..data.len()).collect();
        let mine = epoch_shard(&order, rank, ranks, batch_size);
        let rounds = data.len().div_ceil(batch_size * ranks);
        let (loss_sum, seen) = for_each_batch(
            data,
            &mine,
            batch_size,
            None,
            false,
            |batches| -> Result<(f64, usize)> {
                let (mut loss_sum, mut seen) = (0.0f64, 0usize);
                for round in 0..rounds {
                    let start = round * batch_size * ranks;
                    let mut local = Vec::with_capacity(1 + record.len());
                    let held = samples_of_rank(data.len(), start, rank, batch_size);
                    let host = if held > 0 { batches.next() } else { None };
                    let status = match host {
                        Some(host) => self.evaluate_batch::<Ds>(host, record, &mut local),
                        None => {
                            local.resize(1 + record.len(), E::default());
                            Ok(())
                        }
                    };
                    if status.is_err() {
                        local.clear();
                        local.resize(1 + record.len(), E::default());
                        local[0] = float(1.0);
                    }
                    let all = gather(comm, &local)?;
                    if let Some(failed) = all.chunks(local.len()).position(|s| s[0] != E::default())
                    {
                        status?;
                        return Err(Error::Distributed {
                            rank: failed,
                            reason: "failed during validation; every rank stops".into(),
                        });
                    }
                    for (r, s) in all.chunks(local.len()).enumerate() {
                        let n = samples_of_rank(data.len(), start, r, batch_size);
                        if n == 0 {
                            continue;
                        }
                        let metrics = &mut self.metrics;
                        let (n, loss) = record.read(&s[1..], Some(n), &mut |out, labels| {
                            metrics.update(out, width, labels)
                        });
                        loss_sum += loss * n as f64;
                        seen += n;
                    }
                }
                Ok((loss_sum, seen))
            },
        )?;
        Ok(super::Evaluation {
            loss: loss_sum / seen.max(1) as f64,
            metrics: self.metrics.values(),
        })
    }

    /// Evaluates one batch into a record after a status of 0.
    fn evaluate_batch<Ds>(
        &mut self,
        host: HostBatch<Ds::Target>,
        record: Record,
        out: &mut Vec<E>,
    ) -> Result<()>
    where
        Ds: Dataset,
        M: TrainModel<BatchOf<Ds>, D, E>,
        L: Loss<M::Out, Ds::Target, E>,
    {
        let batch = Batch::<Ds, D, E>::upload(&self.device, host)?;
        let y = self.model.try_forward(batch.x).map_err(Error::device)?;
        let outputs = match record.width {
            0 => Vec::new(),
            _ => super::trainer::to_f32(y.as_vec()),
        };
        let loss = self.loss.try_loss(y, &batch.y).map_err(Error::device)?;
        out.push(E::default());
        record.push(
            out,
            (batch.labels.len(), super::trainer::scalar(&loss)),
            &outputs,
            Ds::Target::view(&batch.labels),
        );
        Ok(())
    }
}
