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
    /// An I/O error converted by `?` from the program's own code, where no path is known.
    #[error("I/O error: {0}")]
    UnlocatedIo(#[source] std::io::Error),
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
    /// A tensor read from a checkpoint or `.npz` file holds NaN or an infinity; nothing was
    /// loaded. Loading such a file needs an explicit opt-in
    /// ([`LoadOptions::allow_non_finite`](crate::checkpoint::LoadOptions::allow_non_finite)).
    #[error("non-finite checkpoint: {path}: tensor {tensor} holds {value} at element {index} ({count} non-finite value(s) in all)")]
    NonFiniteTensor {
        /// The file read.
        path: PathBuf,
        /// The tensor's name, e.g. `0.weight`.
        tensor: String,
        /// The flat (row-major) index of its first non-finite element.
        index: usize,
        /// That element's value (NaN, `inf` or `-inf`).
        value: f64,
        /// How many of the tensor's elements are not finite.
        count: usize,
    },
    /// A NumPy `.npz` archive is malformed or one of its arrays cannot be read; nothing was
    /// loaded.
    #[error("npz error: {path}{}: {reason}", if member.is_empty() { String::new() } else { format!(": {member}") })]
    Npz {
        /// The archive read.
        path: PathBuf,
        /// The archive member (e.g. `0.weight.npy`) the problem is in; empty for the archive
        /// as a whole.
        member: String,
        /// What was wrong.
        reason: String,
    },
    /// Another run holds the lock of a checkpoint directory: two runs writing states into one
    /// directory would overwrite each other's.
    #[error("checkpoint directory {dir} is in use by another run ({holder}); wait for it to end or use another directory")]
    CheckpointLocked {
        /// The directory.
        dir: PathBuf,
        /// The run holding it, as its lock file describes it: process id, host and start time.
        holder: String,
    },
    /// A run asked to resume from a directory that holds no usable training state, though it
    /// holds the remains of one (a `latest` pointer or `epoch-NNNN` entries).
    #[error("cannot resume from {dir}: {reason}")]
    NoUsableState {
        /// The directory.
        dir: PathBuf,
        /// What is there, and why none of it can be used.
        reason: String,
    },
    /// A run asked to resume from a state written with different settings (a resumed run would
    /// not continue the saved one).
    #[error("cannot resume from {path}: it was trained with {setting} = {saved}, this run has {setting} = {current}")]
    ResumeSettings {
        /// The state directory.
        path: PathBuf,
        /// The setting that differs, e.g. `batch_size`.
        setting: String,
        /// Its value in the saved run.
        saved: String,
        /// Its value in this run.
        current: String,
    },
    /// A device (CPU or CUDA) operation failed, e.g. out of memory.
    #[error("device error: {source}")]
    Device {
        /// The device's error (its text where the device's error type is not known).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The optimizer could not update the model.
    #[error("optimizer error: {source}")]
    Optimizer {
        /// The optimizer's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An argument is outside the values it may take, e.g. a batch size of 0 or a held-out
    /// fraction outside `(0, 1)`.
    #[error("{what} {value} must be {expected}")]
    InvalidArgument {
        /// The argument, e.g. `batch size`.
        what: &'static str,
        /// The value given.
        value: String,
        /// What it must be, e.g. `at least 1`.
        expected: String,
    },
    /// Two lengths that must agree do not, e.g. features and targets given to
    /// [`InMemory::new`](crate::data::InMemory::new).
    #[error("{what}: expected {expected}, found {found}")]
    LengthMismatch {
        /// What was counted.
        what: String,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// Something that needs at least one element was given none, e.g. statistics of an empty
    /// data set.
    #[error("cannot {operation} with an empty {what}")]
    Empty {
        /// What is empty, e.g. `data set`.
        what: &'static str,
        /// What it was needed for, e.g. `standardise`.
        operation: &'static str,
    },
    /// An index is past the end of a data set.
    #[error("index {index} out of range for a data set of {len} samples")]
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// A class index is outside `0..classes`: a sample's target, or the class asked of a
    /// model with `classes` outputs (e.g. by [`saliency`](crate::interpret::saliency)).
    #[error("{}", class_out_of_range(*sample, *class, *classes))]
    ClassOutOfRange {
        /// The sample whose target it is; `None` for a class asked of a model.
        sample: Option<usize>,
        /// The class index found.
        class: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A sample's real-valued target is NaN or infinite.
    #[error("target of sample {sample}: value {position} is {value}")]
    NonFiniteTarget {
        /// The sample's index.
        sample: usize,
        /// Which of the sample's values.
        position: usize,
        /// The value found.
        value: f32,
    },
    /// A metric name that no metric has.
    #[error("unknown metric `{name}`; known metrics: {}", known.join(", "))]
    UnknownMetric {
        /// The name given.
        name: String,
        /// The names that are known.
        known: Vec<String>,
    },
    /// A metric that cannot be computed on these targets or outputs.
    #[error("metric `{metric}` needs {needs}")]
    MetricMismatch {
        /// The metric's name.
        metric: String,
        /// What it needs, e.g. `class targets`.
        needs: String,
    },
    /// A callback monitors a quantity that the fit does not log.
    #[error("{callback} monitors `{monitor}`, which this fit does not log; logged: {}", logged.join(", "))]
    UnknownMonitor {
        /// The callback, e.g. `EarlyStopping`.
        callback: String,
        /// The quantity it monitors.
        monitor: String,
        /// The quantities that are logged.
        logged: Vec<String>,
    },
    /// A callback's saved state cannot be restored.
    #[error("{callback}: cannot restore saved state: {reason}")]
    CallbackState {
        /// The callback.
        callback: String,
        /// What does not fit.
        reason: String,
    },
    /// A value could not be written as (or read from) JSON.
    #[error("cannot serialise {what}: {source}")]
    Serialization {
        /// What was being serialised, e.g. `an epoch log`.
        what: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// No font was found to draw a chart's labels.
    #[error("no TrueType font for chart labels (tried {tried}); install one with `apt-get install -y fonts-dejavu-core` or set TYPENET_FONT")]
    FontMissing {
        /// The places looked in.
        tried: String,
    },
    /// A NaN or an infinity appeared during training: in the loss, a gradient, a parameter
    /// after the optimizer step, or the batch's input features.
    #[error("training diverged: {what} is {value} at epoch {epoch}, batch {batch}")]
    NonFinite {
        /// The quantity that became non-finite, in words: `loss`, `the gradient of 0.weight`,
        /// `parameter 2.bias after the optimizer step`, `input feature 3 of row 5 of the batch`.
        what: String,
        /// The tensor it was found in, where there is one: a parameter's path in the model
        /// (e.g. `0.1.weight`, for its gradient or its value) or `input`; `None` for the loss.
        tensor: Option<String>,
        /// Its value.
        value: f64,
        /// Epoch (1-based).
        epoch: usize,
        /// Batch within the epoch (1-based).
        batch: usize,
    },
    /// A checkpoint was saved from a different architecture than the model it is loaded into,
    /// although every tensor's name and shape fit (a ReLU swapped for a Tanh, say); nothing was
    /// loaded. Loading anyway (a deliberate transfer) needs
    /// [`LoadOptions::allow_architecture_change`](crate::checkpoint::LoadOptions::allow_architecture_change).
    #[error("architecture mismatch: {path}: saved from `{saved}`, loaded into `{expected}` (the tensors fit; set LoadOptions::allow_architecture_change to load anyway)")]
    ArchitectureMismatch {
        /// The file read.
        path: PathBuf,
        /// The architecture recorded in the file (see [`crate::checkpoint::architecture`]).
        saved: String,
        /// The architecture of the model loaded into.
        expected: String,
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
    /// A token id is not below the vocabulary size of its data set or layer.
    #[error("token id {id} at position {position} of sample {sample} is outside the vocabulary 0..{vocabulary}")]
    TokenOutOfRange {
        /// The sample (row of the batch for a layer).
        sample: usize,
        /// The position in the sequence.
        position: usize,
        /// The id found (as read; a non-integer feature is reported rounded down).
        id: u64,
        /// The vocabulary size.
        vocabulary: usize,
    },
    /// A sequence is longer than the fixed length of its data set.
    #[error("sample {sample} has {length} tokens, more than the sequence length {max}")]
    SequenceTooLong {
        /// The sample.
        sample: usize,
        /// Its number of tokens.
        length: usize,
        /// The data set's sequence length.
        max: usize,
    },
    /// A vocabulary has more ids than the vocabulary size of the type it is used with.
    #[error("a vocabulary of {size} ids does not fit a vocabulary type of {max} ids")]
    VocabularyTooLarge {
        /// Ids of the vocabulary (padding and out-of-vocabulary included).
        size: usize,
        /// The size the type allows.
        max: usize,
    },
    /// A line of a text file cannot be used as a sample.
    #[error("text error: {path}: line {line}: {reason}")]
    TextLine {
        /// The file that was read.
        path: PathBuf,
        /// The line (1-based).
        line: usize,
        /// What was wrong with it.
        reason: String,
    },
    /// A model cannot be written as ONNX: a layer does not fit the input it is given (a model
    /// exported for another input shape).
    #[error("ONNX export: layer {layer}: {reason}")]
    Onnx {
        /// The layer: its place in the model (e.g. `1.0`) and type.
        layer: String,
        /// What does not fit.
        reason: String,
    },
    /// An ONNX file cannot be read as a typenet model: not an ONNX model, or a graph typenet
    /// cannot take (several inputs, weights that are not `float32`).
    #[error("ONNX import: {path}: {reason}")]
    OnnxImport {
        /// The file read.
        path: PathBuf,
        /// What was wrong with it.
        reason: String,
    },
    /// An ONNX file uses operators (or settings of them) typenet has no layer for: every one.
    #[error("ONNX import: {path}: no typenet layer for: {}", ops.join(", "))]
    OnnxUnsupported {
        /// The file read.
        path: PathBuf,
        /// Each unsupported operator, with the setting that is not supported where it is one
        /// (e.g. `Conv (non-square kernel, groups or dilation)`), in graph order.
        ops: Vec<String>,
    },
    /// Data-parallel training failed on one of the ranks (see
    /// [`distributed`](crate::distributed)): its transport failed, or another rank reported an
    /// error during the step, which every rank then stops with.
    #[error("distributed training: rank {rank}: {reason}")]
    Distributed {
        /// The rank that failed (0-based).
        rank: usize,
        /// What went wrong there.
        reason: String,
    },
}

/// The message of [`Error::ClassOutOfRange`].
fn class_out_of_range(sample: Option<usize>, class: usize, classes: usize) -> String {
    match sample {
        Some(i) => format!("target of sample {i}: class {class} is outside 0..{classes}"),
        None => format!(
            "class {class} is out of range: the model has {classes} outputs per sample (0..={})",
            classes.saturating_sub(1)
        ),
    }
}

/// `std::result::Result` with [`Error`] unless another error type is named, so
/// `use typenet::prelude::*` still lets a program write `Result<T, MyError>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `?` on the program's own file operations inside a function returning [`Result`]: the error
/// becomes [`Error::UnlocatedIo`] (typenet's own file operations report [`Error::Io`] with the
/// path instead).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// fn read_settings(path: &str) -> Result<String> {
///     Ok(std::fs::read_to_string(path)?)
/// }
/// let err = read_settings("/no/such/settings.toml").unwrap_err();
/// assert!(matches!(err, Error::UnlocatedIo(_)));
/// ```
impl From<std::io::Error> for Error {
    fn from(source: std::io::Error) -> Self {
        Error::UnlocatedIo(source)
    }
}

impl From<dfdx::tensor::CpuError> for Error {
    fn from(e: dfdx::tensor::CpuError) -> Self {
        Error::device_source(e)
    }
}

impl<Err: std::fmt::Display> From<dfdx::optim::OptimizerUpdateError<Err>> for Error {
    fn from(e: dfdx::optim::OptimizerUpdateError<Err>) -> Self {
        // the device's error type is generic here: its text is kept
        Error::Optimizer {
            source: e.to_string().into(),
        }
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

    /// Converts any device error (`D::Err`, which is only known to be displayable) into
    /// [`Error::Device`], keeping its text; [`Error::device_source`] keeps the error itself.
    pub fn device(e: impl std::fmt::Display) -> Self {
        Error::Device {
            source: e.to_string().into(),
        }
    }

    /// Converts a device error into [`Error::Device`] with the error as its
    /// [`source`](std::error::Error::source).
    pub fn device_source(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Error::Device {
            source: Box::new(e),
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
