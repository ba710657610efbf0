//! [`import`]: an ONNX file of supported operators as a typenet model type and its weights.

use super::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, ModelProto, NodeProto, TensorProto,
};
use crate::{Error, Result};
use prost::Message;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// An ONNX model read as typenet layers: the model type (Rust source), the shape of one input
/// sample, and every weight under the name [`load_state_dict`](crate::interop::pytorch::load_state_dict)
/// expects for that type.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The model type, e.g. `(Linear<4, 8>, ReLU, Linear<8, 3>)` (tuples of at most six layers,
    /// nested as needed).
    pub model_type: String,
    /// The shape of one input sample (the graph's input without its batch dimension).
    pub input_shape: Vec<usize>,
    /// Each weight: its name (PyTorch's, e.g. `0.weight`), shape and values.
    pub tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl Imported {
    /// A Rust declaration of the model type, `#[typenet::network([..])] pub type {name} = …;`
    /// (the attribute computes every conv, pool and flatten size, so any input size compiles).
    pub fn declaration(&self, name: &str) -> String {
        let shape: Vec<String> = self.input_shape.iter().map(|d| d.to_string()).collect();
        format!(
            "#[typenet::network([{}])]\npub type {name} = {};\n",
            shape.join(", "),
            self.model_type
        )
    }

    /// Writes the weights as safetensors (`F32`, PyTorch's names), for
    /// [`load_state_dict`](crate::interop::pytorch::load_state_dict) into the model type.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file; [`Error::Checkpoint`] if it cannot be serialised.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bad = |reason: String| Error::Checkpoint {
            path: path.to_path_buf(),
            reason,
        };
        let bytes: Vec<Vec<u8>> = self
            .tensors
            .iter()
            .map(|(_, _, v)| v.iter().flat_map(|x| x.to_le_bytes()).collect())
            .collect();
        let mut views = Vec::with_capacity(self.tensors.len());
        for ((name, shape, _), data) in self.tensors.iter().zip(&bytes) {
            let view = safetensors::tensor::TensorView::new(
                safetensors::tensor::Dtype::F32,
                shape.clone(),
                data,
            )
            .map_err(|e| bad(format!("tensor {name}: {e:?}")))?;
            views.push((name.clone(), view));
        }
        let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
        let bytes = safetensors::serialize(views, &Some(meta))
            .map_err(|e| bad(format!("cannot serialise: {e:?}")))?;
        crate::checkpoint::write_file(path, |tmp| {
            std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
        })
    }
}

/// A layer found in the graph: a leaf with its type and weights, or a residual block.
#[derive(Debug, Clone)]
enum Layer {
    Leaf {
        ty: String,
        tensors: Vec<(&'static str, Vec<usize>, Vec<f32>)>,
    },
    Residual(Vec<Layer>),
}

/// Tuples of at most six: `items` grouped into nested tuples, as `(type, tensors)`.
fn render(
    items: &[Layer],
    path: &str,
    tensors: &mut Vec<(String, Vec<usize>, Vec<f32>)>,
) -> String {
    let join = |i: usize| {
        if path.is_empty() {
            i.to_string()
        } else {
            format!("{path}.{i}")
        }
    };
    if items.len() == 1 {
        return render_one(&items[0], path, tensors);
    }
    if items.len() <= 6 {
        let parts: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, l)| render_one(l, &join(i), tensors))
            .collect();
        return format!("({})", parts.join(", "));
    }
    // Balanced groups: as few as fit six per group.
    let groups = items.len().div_ceil(6).min(6);
    let size = items.len().div_ceil(groups);
    let parts: Vec<String> = items
        .chunks(size)
        .enumerate()
        .map(|(i, chunk)| {
            if chunk.len() == 1 {
                render_one(&chunk[0], &join(i), tensors)
            } else {
                render(chunk, &join(i), tensors)
            }
        })
        .collect();
    format!("({})", parts.join(", "))
}

fn render_one(
    layer: &Layer,
    path: &str,
    tensors: &mut Vec<(String, Vec<usize>, Vec<f32>)>,
) -> String {
    match layer {
        Layer::Leaf { ty, tensors: own } => {
            for (leaf, shape, values) in own {
                let name = if path.is_empty() {
                    leaf.to_string()
                } else {
                    format!("{path}.{leaf}")
                };
                tensors.push((name, shape.clone(), values.clone()));
            }
            ty.clone()
        }
        Layer::Residual(inner) => {
            let inner_path = if path.is_empty() {
                "0".to_string()
            } else {
                format!("{path}.0")
            };
            format!("Residual<{}>", render(inner, &inner_path, tensors))
        }
    }
}

/// Reads the ONNX file at `path` as a typenet model: a chain of supported operators, with
/// `Add`s of a value and an earlier one read as [`Residual`](dfdx::nn::modules::Residual) blocks.
///
/// Supported: `Gemm` (and `MatMul` + `Add`), `Conv` (square kernel, equal strides and pads, no
/// groups or dilation), `MaxPool`, `AveragePool` (padding counted), global pools followed by
/// `Flatten`, `Flatten`, `BatchNormalization`, `LayerNormalization` (last axis), `Relu`,
/// `Sigmoid`, `Tanh`, `Gelu`, `Sin`, `Cos`, `Log`, `Exp`, `Sqrt`, `Abs`, `Softmax` and
/// `LogSoftmax` on the last axis, `Identity` and `Dropout` (dropped).
///
/// # Errors
/// [`Error::OnnxUnsupported`] naming every operator (and every setting) typenet has no layer
/// for, all at once; [`Error::OnnxImport`] naming the file if it is not a readable ONNX model;
/// [`Error::Io`].
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// type Mlp = (Linear<4, 8>, ReLU, Linear<8, 3>);
/// let dev = Cpu::default();
/// let model = dev.build_module::<Mlp, f32>();
/// let path = std::env::temp_dir().join(format!("typenet-doc-import-{}.onnx", std::process::id()));
/// typenet::onnx::export::<_, Rank1<4>>(&model, &path)?;
/// let imported = typenet::onnx::import(&path)?;
/// assert_eq!(imported.model_type, "(Linear<4, 8>, ReLU, Linear<8, 3>)");
/// assert_eq!(imported.tensors[0].0, "0.weight");
/// # Ok(()) }
/// ```
pub fn import(path: impl AsRef<Path>) -> Result<Imported> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let model = ModelProto::decode(bytes.as_slice())
        .map_err(|e| bad(path, format!("not an ONNX model: {e}")))?;
    Reader::new(path, model)?.read()
}

fn bad(path: &Path, reason: String) -> Error {
    Error::OnnxImport {
        path: path.to_path_buf(),
        reason,
    }
}

struct Reader {
    path: PathBuf,
    nodes: Vec<NodeProto>,
    weights: HashMap<String, (Vec<usize>, Vec<f32>)>,
    input: String,
    input_shape: Vec<usize>,
}

fn ints(node: &NodeProto, key: &str) -> Option<Vec<i64>> {
    node.attribute
        .iter()
        .find(|a| a.name == key)
        .map(|a| a.ints.clone())
}

fn int(node: &NodeProto, key: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == key).map(|a| a.i)
}

fn float(node: &NodeProto, key: &str) -> Option<f32> {
    node.attribute.iter().find(|a| a.name == key).map(|a| a.f)
}

fn string(node: &NodeProto, key: &str) -> Option<String> {
    node.attribute
        .iter()
        .find(|a| a.name == key && a.r#type == AttributeType::String as i32)
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
}

/// The values of a `float` initializer (raw little-endian bytes or `float_data`).
fn values(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != DataType::Float as i32 {
        return None;
    }
    if !t.raw_data.is_empty() {
        Some(
            t.raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    } else {
        Some(t.float_data.clone())
    }
}

impl Reader {
    fn new(path: &Path, model: ModelProto) -> Result<Self> {
        let graph = model
            .graph
            .ok_or_else(|| bad(path, "the model has no graph".into()))?;
        let mut weights = HashMap::new();
        for t in &graph.initializer {
            let v = values(t)
                .ok_or_else(|| bad(path, format!("initializer {} is not float32", t.name)))?;
            let dims: Vec<usize> = t.dims.iter().map(|&d| d.max(0) as usize).collect();
            if dims.iter().product::<usize>() != v.len() {
                return Err(bad(
                    path,
                    format!(
                        "initializer {} holds {} values for shape {dims:?}",
                        t.name,
                        v.len()
                    ),
                ));
            }
            weights.insert(t.name.clone(), (dims, v));
        }
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !weights.contains_key(&i.name))
            .collect();
        let [input] = inputs[..] else {
            return Err(bad(
                path,
                format!(
                    "typenet models take one input, the graph has {}",
                    inputs.len()
                ),
            ));
        };
        use super::proto::{tensor_shape_proto::dimension::Value, type_proto};
        let dims = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
            Some(type_proto::Value::TensorType(t)) => {
                t.shape.as_ref().map(|s| s.dim.clone()).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        let mut input_shape = Vec::new();
        for d in dims.iter().skip(1) {
            match d.value {
                Some(Value::DimValue(n)) if n > 0 => input_shape.push(n as usize),
                _ => {
                    return Err(bad(
                        path,
                        format!(
                            "input {} has a dimension after the batch that is not a fixed size",
                            input.name
                        ),
                    ))
                }
            }
        }
        if dims.is_empty() {
            return Err(bad(path, format!("input {} has no shape", input.name)));
        }
        Ok(Reader {
            path: path.to_path_buf(),
            nodes: graph.node,
            weights,
            input: input.name.clone(),
            input_shape,
        })
    }

    fn weight(&self, name: Option<&String>) -> Option<(Vec<usize>, Vec<f32>)> {
        name.and_then(|n| self.weights.get(n)).cloned()
    }

    fn read(self) -> Result<Imported> {
        // The chain so far: its layers, the current value and its shape, and where each earlier
        // value of the chain began (for residual blocks).
        let mut items: Vec<Layer> = Vec::new();
        let mut current = self.input.clone();
        let mut shape = self.input_shape.clone();
        let mut seen: HashMap<String, (usize, Vec<usize>)> =
            HashMap::from([(current.clone(), (0, shape.clone()))]);
        let mut unsupported: Vec<String> = Vec::new();
        let mut pending_global: Option<(&'static str, usize)> = None;
        let mut i = 0;
        while i < self.nodes.len() {
            let node = &self.nodes[i];
            i += 1;
            let op = node.op_type.as_str();
            let out = node.output.first().cloned().unwrap_or_default();
            let x = node.input.first().cloned().unwrap_or_default();
            let mut fail = |what: String| {
                if !unsupported.contains(&what) {
                    unsupported.push(what);
                }
            };
            if op == "Add"
                && node.input.len() == 2
                && !node.input.iter().any(|n| self.weights.contains_key(n))
            {
                // A value plus an earlier value of the chain: a residual block.
                let other = node.input.iter().find(|n| **n != current);
                match other.and_then(|n| seen.get(n)) {
                    Some((start, s))
                        if node.input.contains(&current) && *s == shape && *start < items.len() =>
                    {
                        let inner = items.split_off(*start);
                        items.push(Layer::Residual(inner));
                    }
                    _ => fail("Add (of two branches that are not a residual block)".into()),
                }
                current = out;
                seen.insert(current.clone(), (items.len(), shape.clone()));
                continue;
            }
            if x != current && op != "Constant" {
                fail(format!("{op} (off the main chain)"));
                current = out;
                continue;
            }
            let push = |items: &mut Vec<Layer>, ty: String, tensors| {
                items.push(Layer::Leaf { ty, tensors })
            };
            let layer: std::result::Result<(), String> = 'layer: {
                match op {
                    "Identity" | "Dropout" => {}
                    "Relu" | "Sigmoid" | "Tanh" | "Sin" | "Cos" | "Log" | "Exp" | "Sqrt"
                    | "Abs" => {
                        let ty = match op {
                            "Relu" => "ReLU",
                            "Log" => "Ln",
                            other => other,
                        };
                        push(&mut items, ty.to_string(), vec![]);
                    }
                    "Gelu" => {
                        let ty = if string(node, "approximate").as_deref() == Some("tanh") {
                            "FastGeLU"
                        } else {
                            "ExactGeLU"
                        };
                        push(&mut items, ty.to_string(), vec![]);
                    }
                    "Mul" if node.input.len() == 2 && node.input[1] == current => {
                        push(&mut items, "Square".into(), vec![])
                    }
                    "Softmax" | "LogSoftmax" => {
                        let axis = int(node, "axis").unwrap_or(-1);
                        if axis != -1 && axis != shape.len() as i64 {
                            break 'layer Err(format!("{op} (axis {axis}, not the last)"));
                        }
                        push(&mut items, op.to_string(), vec![]);
                    }
                    "Gemm" => {
                        let (Some((wd, w)), [i_]) = (self.weight(node.input.get(1)), &shape[..])
                        else {
                            break 'layer Err(
                                "Gemm (without a weight initializer, or on a non-flat input)"
                                    .into(),
                            );
                        };
                        let trans_b = int(node, "transB").unwrap_or(0) == 1;
                        if int(node, "transA").unwrap_or(0) != 0
                            || float(node, "alpha").is_some_and(|a| a != 1.0)
                            || float(node, "beta").is_some_and(|b| b != 1.0)
                        {
                            break 'layer Err("Gemm (transA, alpha or beta)".into());
                        }
                        let (o, inp, weight) = if trans_b {
                            (wd[0], wd[1], w)
                        } else {
                            (wd[1], wd[0], transpose(&w, wd[0], wd[1]))
                        };
                        if inp != *i_ {
                            break 'layer Err(format!(
                                "Gemm (takes {inp} features, its input has {i_})"
                            ));
                        }
                        let bias = match self.weight(node.input.get(2)) {
                            Some((bd, b)) if bd.iter().product::<usize>() == o => b,
                            Some(_) => {
                                break 'layer Err("Gemm (bias not of the output's size)".into())
                            }
                            None => vec![0.0; o],
                        };
                        shape = vec![o];
                        push(
                            &mut items,
                            format!("Linear<{inp}, {o}>"),
                            vec![("weight", vec![o, inp], weight), ("bias", vec![o], bias)],
                        );
                    }
                    "MatMul" => {
                        let Some((wd, w)) =
                            self.weight(node.input.get(1)).filter(|(d, _)| d.len() == 2)
                        else {
                            break 'layer Err("MatMul (without a 2-D weight initializer)".into());
                        };
                        let (inp, o) = (wd[0], wd[1]);
                        if shape.last() != Some(&inp) {
                            break 'layer Err(format!(
                                "MatMul (takes {inp} features, its input has shape {shape:?})"
                            ));
                        }
                        // A following Add of a bias initializer is the layer's bias.
                        let mut bias = vec![0.0; o];
                        let mut output = out.clone();
                        if let Some(next) = self.nodes.get(i)
                            && next.op_type == "Add"
                            && next.input.first() == Some(&out)
                            && let Some((bd, b)) = self.weight(next.input.get(1))
                            && bd.iter().product::<usize>() == o
                        {
                            bias = b;
                            output = next.output.first().cloned().unwrap_or_default();
                            i += 1;
                        }
                        *shape.last_mut().expect("checked above") = o;
                        push(
                            &mut items,
                            format!("Linear<{inp}, {o}>"),
                            vec![
                                ("weight", vec![o, inp], transpose(&w, inp, o)),
                                ("bias", vec![o], bias),
                            ],
                        );
                        current = output.clone();
                        break 'layer Ok(());
                    }
                    "Conv" => {
                        let Some((wd, w)) =
                            self.weight(node.input.get(1)).filter(|(d, _)| d.len() == 4)
                        else {
                            break 'layer Err("Conv (without a 4-D weight initializer)".into());
                        };
                        let (o, c, k) = (wd[0], wd[1], wd[2]);
                        let (s, p) = match square(node, k) {
                            Ok(sp) => sp,
                            Err(e) => break 'layer Err(e),
                        };
                        if wd[3] != k
                            || int(node, "group").unwrap_or(1) != 1
                            || ints(node, "dilations").is_some_and(|d| d.iter().any(|&x| x != 1))
                        {
                            break 'layer Err("Conv (non-square kernel, groups or dilation)".into());
                        }
                        let [ci, h, wi] = shape[..] else {
                            break 'layer Err("Conv (on a non-(C, H, W) input)".into());
                        };
                        if ci != c {
                            break 'layer Err(format!(
                                "Conv (takes {c} channels, its input has {ci})"
                            ));
                        }
                        let bias = self
                            .weight(node.input.get(2))
                            .map(|b| b.1)
                            .unwrap_or_else(|| vec![0.0; o]);
                        shape = vec![o, (h + 2 * p - k) / s + 1, (wi + 2 * p - k) / s + 1];
                        let ty = match (s, p) {
                            (1, 0) => format!("Conv2D<{c}, {o}, {k}>"),
                            (_, 0) => format!("Conv2D<{c}, {o}, {k}, {s}>"),
                            _ => format!("Conv2D<{c}, {o}, {k}, {s}, {p}>"),
                        };
                        push(
                            &mut items,
                            ty,
                            vec![("weight", wd, w), ("bias", vec![o], bias)],
                        );
                    }
                    "MaxPool" | "AveragePool" => {
                        let k = ints(node, "kernel_shape").unwrap_or_default();
                        let [k0, k1] = k[..] else {
                            break 'layer Err(format!("{op} (not 2-D)"));
                        };
                        if k0 != k1 || int(node, "ceil_mode").unwrap_or(0) != 0 {
                            break 'layer Err(format!("{op} (non-square kernel or ceil_mode)"));
                        }
                        let k = k0 as usize;
                        let (s, p) = match square(node, k) {
                            Ok(sp) => sp,
                            Err(e) => break 'layer Err(e),
                        };
                        if op == "AveragePool"
                            && p > 0
                            && int(node, "count_include_pad").unwrap_or(0) != 1
                        {
                            break 'layer Err("AveragePool (padding not counted)".into());
                        }
                        let [c, h, w] = shape[..] else {
                            break 'layer Err(format!("{op} (on a non-(C, H, W) input)"));
                        };
                        shape = vec![c, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1];
                        let name = if op == "MaxPool" {
                            "MaxPool2D"
                        } else {
                            "AvgPool2D"
                        };
                        let ty = if p == 0 {
                            format!("{name}<{k}, {s}>")
                        } else {
                            format!("{name}<{k}, {s}, {p}>")
                        };
                        push(&mut items, ty, vec![]);
                    }
                    "GlobalAveragePool" | "GlobalMaxPool" => {
                        let [c, _, _] = shape[..] else {
                            break 'layer Err(format!("{op} (on a non-(C, H, W) input)"));
                        };
                        pending_global = Some((
                            if op == "GlobalMaxPool" {
                                "MaxPoolGlobal"
                            } else {
                                "AvgPoolGlobal"
                            },
                            c,
                        ));
                    }
                    "Flatten" => {
                        if int(node, "axis").unwrap_or(1) != 1 {
                            break 'layer Err("Flatten (axis other than 1)".into());
                        }
                        if let Some((ty, c)) = pending_global.take() {
                            shape = vec![c];
                            push(&mut items, ty.to_string(), vec![]);
                        } else if let [c, h, w] = shape[..] {
                            shape = vec![c * h * w];
                            push(&mut items, "Flatten2D".into(), vec![]);
                        } else if shape.len() != 1 {
                            break 'layer Err("Flatten (of other than a (C, H, W) input)".into());
                        }
                    }
                    "BatchNormalization" => {
                        let stats: Option<Vec<_>> =
                            (1..5).map(|j| self.weight(node.input.get(j))).collect();
                        let Some(stats) = stats else {
                            break 'layer Err(
                                "BatchNormalization (statistics not initializers)".into()
                            );
                        };
                        let c = shape[0];
                        let ty = match shape.len() {
                            3 => format!("BatchNorm2D<{c}>"),
                            1 => format!("BatchNorm1D<{c}>"),
                            _ => {
                                break 'layer Err(
                                    "BatchNormalization (on other than (C,) or (C, H, W))".into(),
                                )
                            }
                        };
                        if let Err(e) = check_epsilon(node, op) {
                            break 'layer Err(e);
                        }
                        let mut it = stats.into_iter().map(|(_, v)| v);
                        let mut next = || it.next().unwrap_or_default();
                        push(
                            &mut items,
                            ty,
                            vec![
                                ("weight", vec![c], next()),
                                ("bias", vec![c], next()),
                                ("running_mean", vec![c], next()),
                                ("running_var", vec![c], next()),
                            ],
                        );
                    }
                    "LayerNormalization" => {
                        let m = *shape.last().unwrap_or(&0);
                        let axis = int(node, "axis").unwrap_or(-1);
                        if axis != -1 && axis != shape.len() as i64 {
                            break 'layer Err("LayerNormalization (not over the last axis)".into());
                        }
                        if let Err(e) = check_epsilon(node, op) {
                            break 'layer Err(e);
                        }
                        let (Some((_, g)), Some((_, b))) = (
                            self.weight(node.input.get(1)),
                            self.weight(node.input.get(2)),
                        ) else {
                            break 'layer Err(
                                "LayerNormalization (scale or bias not initializers)".into(),
                            );
                        };
                        push(
                            &mut items,
                            format!("LayerNorm1D<{m}>"),
                            vec![("weight", vec![m], g), ("bias", vec![m], b)],
                        );
                    }
                    other => break 'layer Err(other.to_string()),
                }
                current = out.clone();
                Ok(())
            };
            if let Err(what) = layer {
                fail(what);
                current = out;
            }
            seen.entry(current.clone())
                .or_insert((items.len(), shape.clone()));
        }
        if !unsupported.is_empty() {
            return Err(Error::OnnxUnsupported {
                path: self.path,
                ops: unsupported,
            });
        }
        if items.is_empty() {
            return Err(bad(&self.path, "the graph has no layers".into()));
        }
        let mut tensors = Vec::new();
        let model_type = render(&items, "", &mut tensors);
        Ok(Imported {
            model_type,
            input_shape: self.input_shape,
            tensors,
        })
    }
}

/// typenet's norms use an epsilon of 1e-5 (the type cannot carry another).
fn check_epsilon(node: &NodeProto, op: &str) -> std::result::Result<(), String> {
    match float(node, "epsilon") {
        Some(e) if (e - 1e-5).abs() > 1e-9 => Err(format!("{op} (epsilon {e}, typenet's is 1e-5)")),
        _ => Ok(()),
    }
}

/// The one stride and padding of a square window (`strides` and `pads` all equal).
fn square(node: &NodeProto, _k: usize) -> std::result::Result<(usize, usize), String> {
    let strides = ints(node, "strides").unwrap_or_else(|| vec![1, 1]);
    let pads = ints(node, "pads").unwrap_or_else(|| vec![0; 4]);
    if string(node, "auto_pad").is_some_and(|a| a != "NOTSET") {
        return Err(format!("{} (auto_pad)", node.op_type));
    }
    let all_equal = |v: &[i64]| v.windows(2).all(|w| w[0] == w[1]) && !v.is_empty();
    if !all_equal(&strides) || !all_equal(&pads) || strides[0] < 1 || pads[0] < 0 {
        return Err(format!("{} (unequal strides or pads)", node.op_type));
    }
    Ok((strides[0] as usize, pads[0] as usize))
}

/// The transpose of a row-major `rows × cols` matrix.
fn transpose(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut t = vec![0.0; w.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = w[r * cols + c];
        }
    }
    t
}
