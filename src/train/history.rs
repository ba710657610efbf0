//! The per-epoch record that `fit` returns.

use std::collections::BTreeMap;

/// One epoch's figures: training loss and metrics, `val_`-prefixed validation figures, seconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpochLog {
    /// 1-based epoch number.
    pub epoch: usize,
    /// `loss`, each metric by name, and `val_loss`, `val_<metric>` when validating.
    pub values: BTreeMap<String, f64>,
    /// Wall-clock seconds the epoch took (training and validation).
    pub seconds: f64,
}

/// Loss and metrics of every epoch, as Keras's `History`.
///
/// # Example
/// ```
/// # use typenet::train::{History, EpochLog};
/// let mut h = History::default();
/// h.epochs.push(EpochLog { epoch: 1, values: [("loss".to_string(), 0.5)].into(), seconds: 1.0 });
/// assert_eq!(h.series("loss"), Some(vec![0.5]));
/// assert!(h.to_json().contains("\"loss\":0.5"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// One entry per completed epoch.
    pub epochs: Vec<EpochLog>,
}

impl History {
    /// The values of `name` over the epochs (`loss`, `accuracy`, `val_loss`, …), if recorded.
    pub fn series(&self, name: &str) -> Option<Vec<f64>> {
        self.epochs.iter().map(|e| e.values.get(name).copied()).collect()
    }

    /// The last epoch's value of `name`.
    pub fn last(&self, name: &str) -> Option<f64> {
        self.epochs.last().and_then(|e| e.values.get(name).copied())
    }

    /// The history as one JSON object.
    pub fn to_json(&self) -> String {
        // Serialising plain numbers and strings cannot fail; NaN becomes null.
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}
