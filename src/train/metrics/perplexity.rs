//! Perplexity: `exp` of the mean cross-entropy per counted token.

use super::Metric;
use crate::data::{Targets, IGNORE};
use crate::{Error, Result};

/// `exp(-mean log softmax(z)[y])` over every output row whose class is not
/// [`IGNORE`](crate::data::IGNORE): how many equally likely choices the model's predictions are
/// worth, 1 for a certain and right model, `C` for a uniform one over `C` classes.
///
/// It reads its outputs as logits. With per-token targets
/// ([`TokenClasses`](crate::data::TokenClasses)) a row is one position of a sequence.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # use typenet::data::Targets;
/// let mut p = metric("perplexity").unwrap();
/// // uniform logits over 4 classes: perplexity 4; the padded position is not counted
/// p.update(&[0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0, 0.0], 4, Targets::Classes(&[2, IGNORE]));
/// assert!((p.compute() - 4.0).abs() < 1e-9);
/// ```
///
/// **Keras equivalent**: `keras_nlp.metrics.Perplexity(from_logits=True)`.
#[derive(Debug, Default, Clone)]
pub struct Perplexity {
    nll: f64,
    count: u64,
}

impl Metric for Perplexity {
    fn name(&self) -> String {
        "perplexity".into()
    }
    fn higher_is_better(&self) -> bool {
        false
    }
    fn check(&self, width: usize, targets: Targets<'_>) -> Result<()> {
        match targets {
            Targets::Classes(_) if width >= 2 => Ok(()),
            _ => Err(Error::MetricMismatch {
                metric: "perplexity".into(),
                needs: "class targets and at least 2 logits per row".into(),
            }),
        }
    }
    fn update(&mut self, outputs: &[f32], width: usize, targets: Targets<'_>) {
        let Targets::Classes(classes) = targets else {
            return;
        };
        for (row, &c) in outputs.chunks_exact(width.max(1)).zip(classes) {
            if c == IGNORE || c >= row.len() {
                continue;
            }
            let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
            let sum: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
            self.nll += m + sum.ln() - row[c] as f64;
            self.count += 1;
        }
    }
    fn compute(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            (self.nll / self.count as f64).exp()
        }
    }
    fn reset(&mut self) {
        *self = Perplexity::default();
    }
}
