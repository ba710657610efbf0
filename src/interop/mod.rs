//! Moving models between typenet and other tools:
//! - [`pytorch`]: PyTorch `state_dict`s saved as safetensors, loaded into a typenet model (names
//!   and shapes checked against the type) and written back in PyTorch's names;
//! - `onnx` (feature `onnx`): ONNX export of a model type with its weights, and the
//!   `onnx2type` binary, which turns an ONNX file back into a model type and a weight file.

#[cfg(feature = "onnx")]
pub mod onnx;
pub mod pytorch;
