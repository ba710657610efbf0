//! Built-in callbacks: early stopping, checkpoints, history loggers, learning-rate schedules.

mod checkpoint;
mod early_stopping;
mod loggers;
mod schedules;

pub use checkpoint::ModelCheckpoint;
pub use early_stopping::EarlyStopping;
pub use loggers::{CsvLogger, JsonLinesLogger};
pub use schedules::{LearningRateScheduler, ReduceLrOnPlateau, Schedule};
