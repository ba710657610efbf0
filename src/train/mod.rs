//! Training: the Keras-style [`Trainer`], its configuration, metrics and history.

pub mod callback;
pub mod callbacks;
mod clip;
mod config;
mod history;
pub mod metrics;
mod model;
mod plot;
mod progress;
mod resume;
mod trainer;

pub use callback::{Callback, Context, Control, Mode};
pub use callbacks::{
    CsvLogger, EarlyStopping, JsonLinesLogger, LearningRateScheduler, ModelCheckpoint,
    ReduceLrOnPlateau, Schedule,
};
pub use clip::{clip_gradients, GradClip};
pub use config::{FitConfig, Verbosity};
pub use history::{EpochLog, History};
pub use metrics::{metric, Metric};
pub use model::TrainModel;
pub(crate) use progress::Progress;
pub use resume::{latest_state, TrainState};
pub use trainer::{AdamTrainer, Built, Evaluation, Predictions, Trainer};
