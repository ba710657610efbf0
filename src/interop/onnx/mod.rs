//! ONNX export (feature `onnx`): [`export`] writes a model type with its weights as an ONNX
//! file that ONNX Runtime, tract, TensorRT or a browser can run; [`import`] reads such a file
//! back as a model type and its weights (what the `onnx2type` binary prints and writes).
//!
//! The file is static except for the batch: every shape after the batch dimension comes from
//! the type, and weights are initializers (`float32`, whatever the model's element type).
//! Opset 21, IR version 10. Each layer maps to its ONNX operator:
//!
//! | typenet layer                                   | ONNX                                  |
//! |-------------------------------------------------|---------------------------------------|
//! | `Linear`                                        | `Gemm` (`MatMul` + `Add` past rank 2) |
//! | `Conv2D` (stride, padding)                      | `Conv`                                |
//! | `MaxPool2D`, `AvgPool2D`                        | `MaxPool`, `AveragePool` (pads count) |
//! | `AvgPoolGlobal`, `MaxPoolGlobal`                | `GlobalAveragePool`/`GlobalMaxPool` + `Flatten` |
//! | `Flatten2D`                                     | `Flatten`                             |
//! | `BatchNorm1D`/`2D` (inference), `LayerNorm1D`   | `BatchNormalization`, `LayerNormalization` |
//! | `Dropout`, `DropoutOneIn`                       | `Identity`                            |
//! | activations, `Softmax`, `LogSoftmax`            | `Relu`, `Gelu`, `Softmax(axis=-1)`, … |
//! | `Residual`, `GeneralizedResidual`, `AddInto`    | the branches and `Add`                |
//! | `SplitInto`, tuples, `Repeated`                 | the layers in order                   |
//! | `Embedding`                                     | `Flatten`, `Cast` to `int64`, `Gather` |
//! | `EmbeddingBag`                                  | `Gather` (rows and a padding mask), `Mul`, `ReduceSum`, `Max`, `Div` |
//! | `PositionalEmbedding`                           | `Add`                                 |
//! | `Gru`, `Lstm` (`LastStep`, `AllSteps`)          | `GRU` (`linear_before_reset=1`), `LSTM`, between `Transpose`s, `Squeeze` |
//! | `SeqMean`, `SeqMax`, `SeqFirst`, `SeqLast`      | `ReduceMean`, `ReduceMax`, `Gather` (axis 1) |
//! | `SelfAttention`                                 | `MatMul`, `Add`, `Reshape`, `Transpose`, `Mul`, `Softmax` |
//! | `EncoderBlock`                                  | the attention, `Add`, `LayerNormalization`, the feed-forward layers |
//!
//! Token ids stay what typenet takes: a model starting with an embedding has a `float32` input
//! of shape `(batch, S, 1)` holding the ids of a batch of [`Tokens<S, V>`](crate::data::Tokens)
//! (cast to `int64` inside the graph; ids must be integers in `0..V`, which typenet checks and
//! the file does not). Recurrent layers are exported with their weights in ONNX's gate order
//! (`GRU`: update, reset, new; `LSTM`: input, output, forget, cell).
//!
//! A layer without a counterpart (a [`Custom`](crate::nn::Custom) layer, `PReLU`)
//! does not implement [`ToOnnx`]: exporting a model that holds one is a compile error naming it
//! (``error: `PReLU<f32, Cpu>` has no ONNX counterpart, so a model holding it cannot be
//! exported``):
//! ```compile_fail
//! use typenet::prelude::*;
//! let dev = Cpu::default();
//! let model = dev.build_module::<(Linear<4, 4>, PReLU), f32>();
//! typenet::onnx::export::<_, Rank1<4>>(&model, "never-written.onnx").ok();
//! ```

mod graph;
mod import;
mod layers;
#[allow(missing_docs, clippy::all)]
pub mod proto;
mod sequence;

pub use graph::{OnnxGraph, OnnxValue};
pub use import::{import, Imported};

use crate::{Error, Result};
use dfdx::prelude::ConstShape;
use prost::Message;
use std::path::Path;

/// The ONNX operator set written: opset 21 of the default domain.
pub const OPSET: i64 = 21;
/// The ONNX IR version written.
pub const IR_VERSION: i64 = 10;

/// A layer (or a model: tuples of layers) that can be written as ONNX operators.
///
/// Implemented for every typenet and dfdx layer with an ONNX counterpart (see the
/// [module docs](self)); a custom layer implements it with [`OnnxGraph::node`] and
/// [`OnnxGraph::weight`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no ONNX counterpart, so a model holding it cannot be exported",
    label = "no ONNX operator for this layer",
    note = "typenet exports Linear, Conv2D, the pools, Flatten2D, batch and layer norm, dropout, activations, softmax, residual and split/add combinators, embeddings, Gru, Lstm, sequence pooling and attention; a custom layer implements `ToOnnx` itself"
)]
pub trait ToOnnx {
    /// Appends this layer's operators to `graph`. `path` is the layer's place in the model (dfdx's
    /// tensor prefix, e.g. `1.0`), used to name its nodes and initializers; `inputs` are the
    /// values flowing in (one, except after a [`SplitInto`](dfdx::nn::modules::SplitInto)). Returns
    /// the values flowing out.
    ///
    /// # Errors
    /// [`Error::Onnx`] when the inputs do not fit the layer (their count or shape).
    fn to_onnx(
        &self,
        graph: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>>;
}

/// How [`export_with`] writes the batch dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Batch {
    /// A named dimension (`batch`): the file runs any batch size. The default.
    #[default]
    Dynamic,
    /// A fixed batch size: a fully static file (some runtimes and compilers need one).
    Fixed(usize),
}

/// The ONNX model of `model` on samples of shape `In`, as protobuf messages.
///
/// # Errors
/// [`Error::Onnx`] if a layer does not fit its input (a model exported for another `In`).
pub fn to_proto<M: ToOnnx, In: ConstShape>(model: &M, batch: Batch) -> Result<proto::ModelProto> {
    let sample: Vec<usize> = In::default().concrete().into();
    let mut graph = OnnxGraph::new();
    let input = OnnxValue {
        name: "input".into(),
        shape: sample,
    };
    let outputs = model.to_onnx(&mut graph, "", vec![input.clone()])?;
    Ok(graph.into_model(
        input,
        outputs,
        batch,
        crate::type_name::short_type_name::<M>(),
    ))
}

/// Writes `model`, on samples of shape `In` (without the batch), to the ONNX file `path`, with a
/// dynamic batch dimension (see [`export_with`] for a fixed one). Input `input`, outputs
/// `output` (`output_0`, `output_1`, … for several).
///
/// # Errors
/// [`Error::Onnx`] if a layer does not fit its input; [`Error::Io`] naming the file.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// type Mlp = (Linear<4, 8>, ReLU, Linear<8, 3>, Softmax);
/// let dev = Cpu::default();
/// let model = dev.build_module::<Mlp, f32>();
/// let path = std::env::temp_dir().join(format!("typenet-doc-{}.onnx", std::process::id()));
/// typenet::onnx::export::<_, Rank1<4>>(&model, &path)?;
/// let bytes = std::fs::read(&path)?;
/// assert!(bytes.len() > (4 * 8 + 8 + 8 * 3 + 3) * 4); // the weights are in the file
/// # Ok(()) }
/// ```
///
/// **PyTorch equivalent**: `torch.onnx.export(model, torch.zeros(1, *In), path)`.
pub fn export<M: ToOnnx, In: ConstShape>(model: &M, path: impl AsRef<Path>) -> Result<()> {
    export_with::<M, In>(model, path, Batch::Dynamic)
}

/// [`export`] with the batch dimension as `batch` says.
///
/// # Errors
/// As [`export`].
pub fn export_with<M: ToOnnx, In: ConstShape>(
    model: &M,
    path: impl AsRef<Path>,
    batch: Batch,
) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_proto::<M, In>(model, batch)?.encode_to_vec();
    crate::checkpoint::write_file(path, |tmp| {
        std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
    })
}
