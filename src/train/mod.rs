//! Training: the Keras-style [`Trainer`] (`compile`, `fit`, `evaluate`, `predict`), the
//! [`Fit`] builder for validation, callbacks and backups, metrics and the history.

mod accumulate;
pub mod callbacks;
mod clip;
mod config;
mod fit;
mod history;
pub mod metrics;
mod model;
mod plot;
mod resume;
mod trainer;

pub use callbacks::{
    BatchLog, Callback, Context, Control, CsvLogger, EarlyStopping, JsonLinesLogger,
    LearningRateScheduler, Mode, ModelCheckpoint, ProgressLogger, ReduceLrOnPlateau, Schedule,
};
pub use clip::{clip_gradients, GradClip};
pub use config::{FitConfig, Verbosity};
pub use fit::Fit;
pub use history::{EpochLog, History};
pub use metrics::{metric, Metric, MetricList};
pub use model::TrainModel;
pub use resume::{latest_state, TrainState};
pub use trainer::{AdamTrainer, Built, Evaluation, Predictions, Trainer};
