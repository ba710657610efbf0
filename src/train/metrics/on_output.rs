//! [`OnOutput`]: a metric of one output of a model with several outputs.

use super::Metric;
use crate::data::Targets;
use crate::Result;

/// `metric` measured on output `output` of a model with several outputs, logged as
/// `output{k}_{name}` (Keras logs `{output}_{metric}`).
///
/// The name `"output1_mae"` in [`Trainer::compile`](crate::train::Trainer::compile)'s metric
/// list means `on_output(1, metric("mae")?)`; a metric not wrapped measures output 0.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # use typenet::train::metrics::on_output;
/// # fn main() -> typenet::Result<()> {
/// let m = on_output(1, metric("mae")?);
/// assert_eq!((m.name(), m.output()), ("output1_mae".to_string(), 1));
/// assert_eq!(metric("output1_mae")?.name(), "output1_mae");
/// # Ok(()) }
/// ```
pub fn on_output(output: usize, metric: Box<dyn Metric>) -> Box<dyn Metric> {
    Box::new(OnOutput { output, metric })
}

/// A metric of one output; made by [`on_output`].
pub struct OnOutput {
    output: usize,
    metric: Box<dyn Metric>,
}

impl Metric for OnOutput {
    fn name(&self) -> String {
        format!("output{}_{}", self.output, self.metric.name())
    }
    fn higher_is_better(&self) -> bool {
        self.metric.higher_is_better()
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        self.metric.check(width, targets)
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        self.metric.update(outputs, width, targets);
    }
    fn compute(&self) -> f64 {
        self.metric.compute()
    }
    fn reset(&mut self) {
        self.metric.reset();
    }
    fn set_binary_threshold(&mut self, threshold: f32) {
        self.metric.set_binary_threshold(threshold);
    }
    fn output(&self) -> usize {
        self.output
    }
}
