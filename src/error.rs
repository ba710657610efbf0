//! The one error type of typenet, and the checkpoint-mismatch payload it carries
//! ([`TensorSpec`], [`TensorMismatch`]; re-exported from [`checkpoint`](crate::checkpoint)).

use std::fmt;
use std::path::PathBuf;

/// Every failure typenet reports: each message names what failed and where.
///
/// Errors from dfdx (device errors, optimizer errors) convert into this type, so
/// training code needs no `.unwrap()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An IDX (MNIST-format) file is malformed.
    #[error("IDX error: {path}: {reason}")]
    Idx {
        /// The file that was read.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A CSV file is malformed or does not fit the model.
    #[error("CSV error: {path}: {location}{reason}")]
    Csv {
        /// The file that was read.
        path: PathBuf,
        /// Where in the file, e.g. `line 3, column 2 (sepal_width): `; empty for the whole file.
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// A CIFAR binary file is malformed.
    #[error("CIFAR error: {path}: {reason}")]
    Cifar {
        /// The file that was read.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A file could not be opened or read.
    #[error("I/O error: {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A data set's files are not where they were looked for.
    #[error("data set not found: {path}: {hint}")]
    DatasetMissing {
        /// The directory or file that is missing.
        path: PathBuf,
        /// How to get the data set.
        hint: String,
    },
    /// A label is outside `0..classes`.
    #[error("label error: {path}: record {index} has label {label}, but the model has {classes} classes (0..={max})", max = classes - 1)]
    LabelOutOfRange {
        /// The file the label came from.
        path: PathBuf,
        /// Index of the record.
        index: usize,
        /// The label found.
        label: usize,
        /// The number of classes expected.
        classes: usize,
    },
    /// A checkpoint file is truncated, not a safetensors file, or holds inconsistent state.
    #[error("checkpoint error: {path}: {reason}")]
    Checkpoint {
        /// The file or directory read.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// A checkpoint's tensors do not fit the model (or optimizer) it is loaded into; nothing
    /// was loaded. Lists every tensor that differs.
    #[error(
        "checkpoint mismatch: {path}: {} tensor(s) do not fit `{target}`{}:{}",
        mismatches.len(),
        saved_from.as_ref().map(|m| format!(" (saved from `{m}`)")).unwrap_or_default(),
        list_mismatches(mismatches)
    )]
    CheckpointMismatch {
        /// The file read.
        path: PathBuf,
        /// The type loaded into.
        target: String,
        /// The model type recorded in the file's metadata, if any.
        saved_from: Option<String>,
        /// Each disagreement: expected (the model) vs found (the file).
        mismatches: Vec<TensorMismatch>,
    },
    /// A device (CPU or CUDA) operation failed, e.g. out of memory.
    #[error("device error: {source}")]
    Device {
        /// The device's error (its text, where the device's error type is only `Display`).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The optimizer could not update the model.
    #[error("optimizer error: {0}")]
    Optimizer(String),
    /// A configuration value is invalid (e.g. batch size 0, unknown metric name).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A metric name that no metric answers to.
    #[error("unknown metric `{name}`; known metrics: {}", known.join(", "))]
    UnknownMetric {
        /// The name asked for.
        name: String,
        /// The names that are known.
        known: Vec<String>,
    },
    /// A metric cannot be computed from this model's outputs and these targets.
    #[error("metric `{metric}` {reason}")]
    MetricMismatch {
        /// The metric's name.
        metric: String,
        /// What it needs that it did not get.
        reason: String,
    },
    /// A callback watches a quantity this run does not log, or whose direction (up or down)
    /// cannot be told.
    #[error("{callback} monitors `{monitor}`, which this fit does not log as the loss or a compiled metric; logged: {}", logged.join(", "))]
    UnknownMonitor {
        /// The callback.
        callback: String,
        /// The name it watches.
        monitor: String,
        /// Every name the run logs.
        logged: Vec<String>,
    },
    /// A callback's saved state (in a training backup) is not what the callback saves.
    #[error("{callback}: {reason}")]
    CallbackState {
        /// The callback.
        callback: String,
        /// What did not fit.
        reason: String,
    },
    /// An argument or setting is outside the values it may take.
    #[error("invalid {what}: {value} ({expected})")]
    InvalidArgument {
        /// What the value is, e.g. `batch size`.
        what: String,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: String,
    },
    /// A loss or metric became NaN or infinite during training.
    #[error("training diverged: {what} is {value} at epoch {epoch}, batch {batch}")]
    NonFinite {
        /// The quantity that became non-finite (e.g. `loss`).
        what: String,
        /// Its value.
        value: f64,
        /// Epoch (1-based).
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
    },
    /// A gradient from the tape disagrees with its finite-difference estimate
    /// (see [`gradcheck`](crate::gradcheck)).
    #[error("gradient check failed: {tensor}{index:?}: the tape's gradient is {analytic:e} but central differences give {numeric:e}")]
    GradCheck {
        /// The tensor checked: a parameter's path in the model (e.g. `0.weight`) or `input`.
        tensor: String,
        /// The element's index in each dimension of the tensor.
        index: Vec<usize>,
        /// The gradient the tape computed.
        analytic: f64,
        /// The central finite-difference estimate.
        numeric: f64,
    },
}

/// `std::result::Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl From<dfdx::tensor::CpuError> for Error {
    fn from(e: dfdx::tensor::CpuError) -> Self {
        Error::Device {
            source: Box::new(e),
        }
    }
}

impl<Err: std::fmt::Display> From<dfdx::optim::OptimizerUpdateError<Err>> for Error {
    fn from(e: dfdx::optim::OptimizerUpdateError<Err>) -> Self {
        Error::Optimizer(e.to_string())
    }
}

impl Error {
    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Converts any device error (`D::Err`, which dfdx only bounds by `Display`) into
    /// [`Error::Device`], keeping its text.
    pub fn device(e: impl std::fmt::Display) -> Self {
        Error::Device {
            source: e.to_string().into(),
        }
    }
}

/// A tensor's name, element type and shape, as a safetensors header lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// Path in the model, e.g. `0.weight` (dfdx's naming).
    pub name: String,
    /// Element type as safetensors spells it: `F32` for tensors, `F64` for dfdx's scalars.
    pub dtype: String,
    /// Dimensions, outermost first (`[]` for a scalar).
    pub shape: Vec<usize>,
}

impl TensorSpec {
    pub(crate) fn f32(name: String, shape: Vec<usize>) -> Self {
        TensorSpec {
            name,
            dtype: "F32".into(),
            shape,
        }
    }

    /// A tensor of element type `E`: `F64` for 8-byte floats, `F32` otherwise.
    pub(crate) fn float<E>(name: String, shape: Vec<usize>) -> Self {
        TensorSpec {
            name,
            dtype: if std::mem::size_of::<E>() == 8 {
                "F64"
            } else {
                "F32"
            }
            .into(),
            shape,
        }
    }

    pub(crate) fn f64_scalar(name: String) -> Self {
        TensorSpec {
            name,
            dtype: "F64".into(),
            shape: Vec::new(),
        }
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// `F32 [128, 784]`.
    fn describe(&self) -> String {
        format!("{} {:?}", self.dtype, self.shape)
    }
}

/// One way a checkpoint file disagrees with the model it is loaded into.
///
/// # Example
/// ```
/// # use typenet::checkpoint::{TensorMismatch, TensorSpec};
/// let m = TensorMismatch {
///     name: "0.weight".into(),
///     expected: Some(TensorSpec { name: "0.weight".into(), dtype: "F32".into(), shape: vec![4, 3] }),
///     found: Some(TensorSpec { name: "0.weight".into(), dtype: "F32".into(), shape: vec![5, 3] }),
/// };
/// assert_eq!(m.to_string(), "0.weight: expected F32 [4, 3], found F32 [5, 3]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorMismatch {
    /// The tensor's name.
    pub name: String,
    /// What the model holds (`None`: the file has a tensor the model lacks).
    pub expected: Option<TensorSpec>,
    /// What the file holds (`None`: the file lacks a tensor of the model).
    pub found: Option<TensorSpec>,
}

impl fmt::Display for TensorMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |s: &Option<TensorSpec>| match s {
            Some(s) => s.describe(),
            None => "nothing".into(),
        };
        write!(
            f,
            "{}: expected {}, found {}",
            self.name,
            show(&self.expected),
            show(&self.found)
        )
    }
}

/// The mismatches, one per line, for [`Error::CheckpointMismatch`].
fn list_mismatches(mismatches: &[TensorMismatch]) -> String {
    mismatches
        .iter()
        .map(|m| format!("\n  {m}"))
        .collect::<String>()
}
