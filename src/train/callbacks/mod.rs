//! Callbacks: the [`Callback`] trait and what it sees ([`Context`]), and the built-in ones:
//! progress, early stopping, checkpoints, history loggers, learning-rate schedules, backups.

mod backup;
pub mod base;
mod checkpoint;
mod early_stopping;
mod loggers;
mod progress;
mod schedules;

pub(crate) use backup::BackupAndRestore;
pub use base::{BatchLog, Callback, Context, Control, Mode};
pub use checkpoint::ModelCheckpoint;
pub use early_stopping::EarlyStopping;
pub use loggers::{CsvLogger, JsonLinesLogger};
pub use progress::ProgressLogger;
pub use schedules::{LearningRateScheduler, ReduceLrOnPlateau, Schedule};
