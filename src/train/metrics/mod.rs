//! Metrics: state that accumulates over batches and computes one number (update / compute /
//! reset, and whether higher is better), one file per family.

mod accuracy;
mod base;
mod confusion;
mod on_output;
mod perplexity;
mod regression;

pub use accuracy::{Accuracy, TopKAccuracy};
pub(crate) use base::{argmax, Metrics};
pub use base::{metric, Metric, MetricList, METRIC_NAMES};
pub use confusion::{ClassAverage, ConfusionMatrix, MacroAverage};
pub use on_output::{on_output, OnOutput};
pub use perplexity::Perplexity;
pub use regression::{MeanAbsolute, MeanSquared, R2};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Targets;

    #[test]
    fn accuracy_counts_argmax_hits() {
        let mut m = metric("accuracy").unwrap();
        // rows: argmax 1 (label 1: hit), argmax 0 (label 2: miss)
        m.update(
            &[0.1, 0.9, 0.0, 0.8, 0.1, 0.1],
            3,
            Targets::Classes(&[1, 2]),
        );
        assert_eq!(m.compute(), 0.5);
        m.reset();
        assert_eq!(m.compute(), 0.0);
    }

    #[test]
    fn binary_accuracy_splits_outputs_at_the_threshold_it_is_given() {
        // outputs 0.2 and -0.3 for targets 1 and 0: at 0.5 (probabilities) both read as class 0,
        // one hit; at 0 (logits) 0.2 reads as class 1, two hits
        let (outputs, targets) = ([0.2, -0.3], Targets::Values(&[1.0, 0.0], 1));
        let mut m = metric("accuracy").unwrap();
        m.update(&outputs, 1, targets);
        assert_eq!(m.compute(), 0.5);
        m.reset();
        m.set_binary_threshold(0.0);
        m.update(&outputs, 1, targets);
        assert_eq!(m.compute(), 1.0);
        m.reset(); // a reset forgets the counts, not the threshold
        m.update(&outputs, 1, targets);
        assert_eq!(m.compute(), 1.0);
    }

    #[test]
    fn top_k_accepts_the_class_among_the_k_largest() {
        let mut m = metric("top_2_accuracy").unwrap();
        m.update(
            &[0.5, 0.3, 0.2, 0.5, 0.3, 0.2],
            3,
            Targets::Classes(&[1, 2]),
        );
        assert_eq!(m.compute(), 0.5);
    }

    #[test]
    fn unknown_metric_is_an_error_naming_it() {
        let err = metric("acuracy").err().unwrap().to_string();
        assert!(err.contains("unknown metric `acuracy`"), "{err}");
    }

    #[test]
    fn mse_and_mae_average_over_all_values() {
        let mut mse = metric("mse").unwrap();
        let mut mae = metric("mae").unwrap();
        let t = Targets::Values(&[1.0, 1.0], 1);
        mse.update(&[0.0, 3.0], 1, t);
        mae.update(&[0.0, 3.0], 1, t);
        assert_eq!(mse.compute(), (1.0 + 4.0) / 2.0);
        assert_eq!(mae.compute(), (1.0 + 2.0) / 2.0);
    }

    #[test]
    fn r2_of_perfect_and_mean_predictions() {
        let mut r2 = metric("r2").unwrap();
        let t = Targets::Values(&[1.0, 2.0, 3.0], 1);
        r2.update(&[1.0, 2.0, 3.0], 1, t);
        assert_eq!(r2.compute(), 1.0);
        r2.reset();
        r2.update(&[2.0, 2.0, 2.0], 1, t); // predicting the mean explains nothing
        assert_eq!(r2.compute(), 0.0);
    }
}
