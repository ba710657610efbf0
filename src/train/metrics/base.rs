//! The metric trait, the metrics a trainer is compiled with, and metrics by name.

use super::{
    Accuracy, ClassAverage, MacroAverage, MeanAbsolute, MeanSquared, Perplexity, TopKAccuracy, R2,
};
use crate::data::{Target, Targets};
use crate::{Error, Result};
use std::collections::BTreeMap;

/// A quantity tracked over an epoch, such as accuracy.
pub trait Metric: Send {
    /// The name it appears under in logs and [`History`](crate::train::History) (`accuracy`, `mae`, …).
    fn name(&self) -> String;
    /// Whether larger values are better: callbacks watching this metric with
    /// [`Mode::Auto`](crate::train::Mode::Auto) ask it.
    fn higher_is_better(&self) -> bool;
    /// Checks, before training starts, that this metric can be computed from `width`-wide
    /// outputs and these targets.
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()>;
    /// Adds one batch: `outputs` is row-major, `width` values per sample.
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>);
    /// The value over everything added since the last reset.
    fn compute(&self) -> f64;
    /// Forgets everything added.
    fn reset(&mut self);
    /// Where a one-wide output is split into class 0 and class 1 (the loss's
    /// [`binary_threshold`](crate::losses::Loss::binary_threshold): 0.5 for probabilities, 0 for
    /// logits). The trainer calls this before training and evaluating; metrics that do not
    /// threshold ignore it (the default).
    fn set_binary_threshold(&mut self, threshold: f32) {
        let _ = threshold;
    }
    /// Which output of a model with several outputs it measures (`0`, the only one, unless
    /// wrapped by [`on_output`](super::on_output) or named `output{k}_…`).
    fn output(&self) -> usize {
        0
    }
}

/// The metrics [`Trainer::compile`](crate::train::Trainer::compile) takes: names, metric
/// objects (yours included), or both.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # use typenet::train::metrics::{metric, MetricList};
/// # fn main() -> typenet::Result<()> {
/// let by_name: MetricList = (&["accuracy", "top_2_accuracy"]).into();
/// let objects: MetricList = vec![metric("mae")?, Box::new(typenet::train::metrics::R2::default()) as Box<dyn Metric>].into();
/// assert_eq!(by_name.names(), ["accuracy", "top_2_accuracy"]);
/// assert_eq!(objects.names(), ["mae", "r2"]);
/// # Ok(()) }
/// ```
pub struct MetricList(Vec<MetricItem>);

enum MetricItem {
    Name(String),
    Object(Box<dyn Metric>),
}

impl MetricList {
    /// The names of the metrics, as logs will show them (unknown names as given).
    pub fn names(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|m| match m {
                MetricItem::Name(n) => metric(n).map_or_else(|_| n.clone(), |m| m.name()),
                MetricItem::Object(m) => m.name(),
            })
            .collect()
    }

    /// Resolves the names.
    pub(crate) fn build(self) -> Result<Vec<Box<dyn Metric>>> {
        self.0
            .into_iter()
            .map(|m| match m {
                MetricItem::Name(n) => metric(&n),
                MetricItem::Object(m) => Ok(m),
            })
            .collect()
    }
}

impl<const N: usize> From<&[&str; N]> for MetricList {
    fn from(names: &[&str; N]) -> Self {
        names.as_slice().into()
    }
}

impl From<&[&str]> for MetricList {
    fn from(names: &[&str]) -> Self {
        MetricList(
            names
                .iter()
                .map(|n| MetricItem::Name(n.to_string()))
                .collect(),
        )
    }
}

impl From<Vec<Box<dyn Metric>>> for MetricList {
    fn from(metrics: Vec<Box<dyn Metric>>) -> Self {
        MetricList(metrics.into_iter().map(MetricItem::Object).collect())
    }
}

/// The compiled metrics of a trainer, updated together.
pub(crate) struct Metrics(Vec<Box<dyn Metric>>);

impl Metrics {
    pub(crate) fn new(metrics: Vec<Box<dyn Metric>>) -> Self {
        Metrics(metrics)
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub(crate) fn names(&self) -> Vec<String> {
        self.0.iter().map(|m| m.name()).collect()
    }
    /// Whether each metric goes up, by name.
    pub(crate) fn directions(&self) -> BTreeMap<String, bool> {
        self.0
            .iter()
            .map(|m| (m.name(), m.higher_is_better()))
            .collect()
    }
    /// Checks every metric against one sample's targets of kind `T`, on the output it measures.
    pub(crate) fn check_outputs<T: Target>(&self, sample: &[T::Item]) -> Result<()> {
        if let Some(m) = self.0.iter().find(|m| m.output() >= T::OUTPUTS) {
            return Err(Error::MetricMismatch {
                metric: m.name(),
                needs: format!(
                    "output {} of the model, which has {} output{}",
                    m.output(),
                    T::OUTPUTS,
                    if T::OUTPUTS == 1 { "" } else { "s" }
                ),
            });
        }
        let zeros = vec![0.0; T::WIDTH * sample.len()];
        let mut result = Ok(());
        T::for_each_output(&zeros, sample, &mut |k, _, width, targets| {
            for m in self.0.iter().filter(|m| m.output() == k) {
                if result.is_ok() {
                    result = m.check(width, targets);
                }
            }
        });
        result
    }
    /// Adds a batch of outputs and targets of kind `T`, each metric on its output.
    pub(crate) fn update_outputs<T: Target>(&mut self, outputs: &[f32], items: &[T::Item]) {
        if T::OUTPUTS == 1 {
            return self.update(outputs, T::WIDTH, T::view(items));
        }
        T::for_each_output(outputs, items, &mut |k, values, width, targets| {
            for m in self.0.iter_mut().filter(|m| m.output() == k) {
                m.update(values, width, targets);
            }
        });
    }
    /// Tells each metric where its output splits one-wide values into two classes.
    pub(crate) fn set_binary_thresholds(&mut self, threshold: impl Fn(usize) -> f32) {
        self.0
            .iter_mut()
            .for_each(|m| m.set_binary_threshold(threshold(m.output())));
    }
    pub(crate) fn reset(&mut self) {
        self.0.iter_mut().for_each(|m| m.reset());
    }
    pub(crate) fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        self.0
            .iter_mut()
            .for_each(|m| m.update(outputs, width, targets));
    }
    /// Each metric's value by name.
    pub(crate) fn values(&self) -> BTreeMap<String, f64> {
        self.0.iter().map(|m| (m.name(), m.compute())).collect()
    }
}

/// Names [`metric`] accepts.
pub const METRIC_NAMES: &[&str] = &[
    "accuracy",
    "top_k_accuracy (e.g. top_5_accuracy)",
    "precision",
    "recall",
    "f1",
    "mse",
    "mae",
    "r2",
    "perplexity",
    "output{k}_{name} (e.g. output1_mae: output k of a model with several outputs)",
];

/// The metric called `name` (Keras's names: `accuracy`, `top_5_accuracy`, `mse`, `mae`, `r2`, …).
///
/// # Errors
/// [`Error::UnknownMetric`] listing the known names when `name` is not one of them.
pub fn metric(name: &str) -> Result<Box<dyn Metric>> {
    match name {
        "accuracy" | "acc" | "sparse_categorical_accuracy" => Ok(Box::new(Accuracy::default())),
        "mse" | "mean_squared_error" => Ok(Box::new(MeanSquared::default())),
        "mae" | "mean_absolute_error" => Ok(Box::new(MeanAbsolute::default())),
        "r2" | "r2_score" => Ok(Box::new(R2::default())),
        "precision" => Ok(Box::new(MacroAverage::new(ClassAverage::Precision))),
        "recall" => Ok(Box::new(MacroAverage::new(ClassAverage::Recall))),
        "f1" | "f1_score" => Ok(Box::new(MacroAverage::new(ClassAverage::F1))),
        "perplexity" => Ok(Box::new(Perplexity::default())),
        _ => {
            if let Some((k, rest)) = name
                .strip_prefix("output")
                .and_then(|r| r.split_once('_'))
                .and_then(|(k, rest)| Some((k.parse::<usize>().ok()?, rest)))
            {
                return Ok(super::on_output(k, metric(rest)?));
            }
            if let Some(k) = name
                .strip_prefix("top_")
                .and_then(|r| r.strip_suffix("_accuracy"))
                .and_then(|k| k.parse::<usize>().ok())
                .filter(|&k| k > 0)
            {
                return Ok(Box::new(TopKAccuracy::new(k)));
            }
            Err(Error::UnknownMetric {
                name: name.into(),
                known: METRIC_NAMES.iter().map(|n| n.to_string()).collect(),
            })
        }
    }
}

pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}
