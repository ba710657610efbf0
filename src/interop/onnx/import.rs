//! [`import`]: an ONNX file of supported operators as a typenet model type and its weights.

use super::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, ModelProto, NodeProto, TensorProto,
};
use crate::dims::PAD;
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
    /// A Rust declaration of the model type: `#[typenet::network([..])] pub type {name} = …;`
    /// for `(C, H, W)` and `(N,)` samples (the attribute computes every conv, pool and flatten
    /// size, so any input size compiles), a plain `pub type` for sequences, with the sample's
    /// shape in its doc comment (`(S, 1)` token ids are a batch of `Tokens<S, V>`).
    pub fn declaration(&self, name: &str) -> String {
        let shape: Vec<String> = self.input_shape.iter().map(|d| d.to_string()).collect();
        match self.input_shape[..] {
            [_] | [_, _, _] => format!(
                "#[typenet::network([{}])]\npub type {name} = {};\n",
                shape.join(", "),
                self.model_type
            ),
            [s, 1] if self.model_type.contains("Embedding") => format!(
                "/// Takes token ids: batches of `(usize, Const<{s}>, Vocab<V>)`, V the embedding's vocabulary.\npub type {name} = {};\n",
                self.model_type
            ),
            _ => format!(
                "/// Takes samples of shape ({}).\npub type {name} = {};\n",
                shape.join(", "),
                self.model_type
            ),
        }
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

/// A layer found in the graph: a leaf with its type and weights, or a combinator of branches.
#[derive(Debug, Clone)]
enum Layer {
    Leaf {
        ty: String,
        tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
    },
    /// `Residual<F>`: `x + f(x)`.
    Residual(Vec<Layer>),
    /// `GeneralizedResidual<F, R>`: `f(x) + r(x)`.
    Generalized(Vec<Layer>, Vec<Layer>),
    /// `SplitInto<(A, B, …)>`: every branch on the one input (the graph's outputs).
    Split(Vec<Vec<Layer>>),
}

/// `path.child`, or `child` at the top.
fn child(path: &str, child: impl std::fmt::Display) -> String {
    if path.is_empty() {
        child.to_string()
    } else {
        format!("{path}.{child}")
    }
}

/// Tuples of at most six: `items` grouped into nested tuples, as `(type, tensors)`.
fn render(
    items: &[Layer],
    path: &str,
    tensors: &mut Vec<(String, Vec<usize>, Vec<f32>)>,
) -> String {
    let join = |i: usize| child(path, i);
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

/// The branches of a `SplitInto` at `path`: `(A, B, …)`, branch `i` under
/// `path.0.i`.
fn render_branches(
    branches: &[Vec<Layer>],
    path: &str,
    tensors: &mut Vec<(String, Vec<usize>, Vec<f32>)>,
) -> String {
    let parts: Vec<String> = branches
        .iter()
        .enumerate()
        .map(|(i, b)| render(b, &child(path, format!("0.{i}")), tensors))
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
                tensors.push((child(path, leaf), shape.clone(), values.clone()));
            }
            ty.clone()
        }
        Layer::Residual(inner) => {
            format!("Residual<{}>", render(inner, &child(path, 0), tensors))
        }
        Layer::Generalized(f, r) => {
            let f = render(f, &child(path, "f"), tensors);
            let r = render(r, &child(path, "r"), tensors);
            format!("GeneralizedResidual<{f}, {r}>")
        }
        Layer::Split(branches) => {
            format!("SplitInto<{}>", render_branches(branches, path, tensors))
        }
    }
}

/// Reads the ONNX file at `path` as a typenet model: supported operators from the input on, the
/// combinators as their branches and `Add`s.
///
/// Supported: `Gemm` (and `MatMul` + `Add`), `Conv` (square kernel, equal strides and pads, no
/// groups or dilation), `MaxPool`, `AveragePool` (padding counted), global pools followed by
/// `Flatten`, `Flatten`, `BatchNormalization`, `LayerNormalization` (last axis), `Relu`,
/// `Sigmoid`, `Tanh`, `Gelu`, `Sin`, `Cos`, `Log`, `Exp`, `Sqrt`, `Abs`, `Softmax` and
/// `LogSoftmax` on the last axis, `Identity` and `Dropout` (dropped); and the operator groups
/// [`export`](super::export) writes for the sequence layers (embeddings, `GRU`, `LSTM`, sequence
/// pools, self-attention, encoder blocks).
///
/// A value read by several nodes is a combinator: `x + f(x)` is a
/// [`Residual`](dfdx::nn::modules::Residual); branches whose ends `Add`s sum are
/// [`GeneralizedResidual`](dfdx::nn::modules::GeneralizedResidual)s nested as the sums are (a
/// `SplitInto` followed by an `AddInto` reads back this way, the same sums: the flat graph does
/// not say where the split ends); branches that end the graph are a
/// [`SplitInto`](dfdx::nn::modules::SplitInto).
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
    /// `int64` initializers: axes, shapes and indices.
    ints: HashMap<String, (Vec<usize>, Vec<i64>)>,
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
        let mut int_values = HashMap::new();
        for t in &graph.initializer {
            if t.data_type == DataType::Int64 as i32 {
                let v: Vec<i64> = if t.raw_data.is_empty() {
                    t.int64_data.clone()
                } else {
                    t.raw_data
                        .chunks_exact(8)
                        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                        .collect()
                };
                let dims = t.dims.iter().map(|&d| d.max(0) as usize).collect();
                int_values.insert(t.name.clone(), (dims, v));
                continue;
            }
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
            .filter(|i| !weights.contains_key(&i.name) && !int_values.contains_key(&i.name))
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
            ints: int_values,
            input: input.name.clone(),
            input_shape,
        })
    }

    fn weight(&self, name: Option<&String>) -> Option<(Vec<usize>, Vec<f32>)> {
        name.and_then(|n| self.weights.get(n)).cloned()
    }

    fn read(self) -> Result<Imported> {
        let mut readers: HashMap<String, Vec<usize>> = HashMap::new();
        for (n, node) in self.nodes.iter().enumerate() {
            for input in &node.input {
                let list = readers.entry(input.clone()).or_default();
                if list.last() != Some(&n) {
                    list.push(n);
                }
            }
        }
        let mut walk = Walk {
            r: &self,
            readers,
            done: vec![false; self.nodes.len()],
            unsupported: Vec::new(),
        };
        let chain = walk.chain(self.input.clone(), self.input_shape.clone());
        // Whatever the walk from the input did not reach is not a layer of the chain.
        for (n, node) in self.nodes.iter().enumerate() {
            if !walk.done[n] {
                walk.fail(format!("{} (off the main chain)", node.op_type));
            }
        }
        if !walk.unsupported.is_empty() {
            return Err(Error::OnnxUnsupported {
                path: self.path.clone(),
                ops: walk.unsupported,
            });
        }
        if chain.items.is_empty() {
            return Err(bad(&self.path, "the graph has no layers".into()));
        }
        let mut tensors = Vec::new();
        let model_type = render(&chain.items, "", &mut tensors);
        Ok(Imported {
            model_type,
            input_shape: self.input_shape,
            tensors,
        })
    }
}

/// A walk over the graph from its input: which nodes read each value, which nodes were read,
/// and every operator (or setting) found with no typenet layer.
struct Walk<'a> {
    r: &'a Reader,
    readers: HashMap<String, Vec<usize>>,
    done: Vec<bool>,
    unsupported: Vec<String>,
}

/// Layers in a row, and the value and shape they end with.
struct Chain {
    items: Vec<Layer>,
    end: String,
    shape: Vec<usize>,
}

/// What one node (with the nodes it is read together with) gives: a layer or none (an
/// identity), and the value it ends with.
type Step = std::result::Result<(Option<Layer>, String), String>;

fn leaf(ty: impl Into<String>, tensors: Vec<(&str, Vec<usize>, Vec<f32>)>) -> Option<Layer> {
    Some(Layer::Leaf {
        ty: ty.into(),
        tensors: tensors
            .into_iter()
            .map(|(name, shape, values)| (name.to_string(), shape, values))
            .collect(),
    })
}

/// The numbers between `<` and `>` of a leaf of type `name<…>`.
fn params_of(layer: &Layer, name: &str) -> Option<Vec<usize>> {
    let Layer::Leaf { ty, .. } = layer else {
        return None;
    };
    ty.strip_prefix(name)?
        .strip_prefix('<')?
        .strip_suffix('>')?
        .split(',')
        .map(|n| n.trim().parse().ok())
        .collect()
}

/// The tensors of a leaf, each under `prefix.`.
fn tensors_under(layer: Layer, prefix: &str) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    match layer {
        Layer::Leaf { tensors, .. } => tensors
            .into_iter()
            .map(|(name, shape, values)| (format!("{prefix}.{name}"), shape, values))
            .collect(),
        _ => Vec::new(),
    }
}

/// The `(M, H, F)` of four layers that are an encoder block as export writes one:
/// `Residual<SelfAttention<M, H>>`, `LayerNorm1D<M>`, `Residual<(Linear<M, F>, ReLU,
/// Linear<F, M>)>`, `LayerNorm1D<M>`.
fn encoder_block(four: &[Layer]) -> Option<(usize, usize, usize)> {
    let [Layer::Residual(a), n1, Layer::Residual(ff), n2] = four else {
        return None;
    };
    let ([att], [ff1, relu, ff2]) = (&a[..], &ff[..]) else {
        return None;
    };
    let a = params_of(att, "SelfAttention")?;
    let (n1, n2) = (params_of(n1, "LayerNorm1D")?, params_of(n2, "LayerNorm1D")?);
    let (f1, f2) = (params_of(ff1, "Linear")?, params_of(ff2, "Linear")?);
    let relu = matches!(relu, Layer::Leaf { ty, .. } if ty == "ReLU");
    (relu && [n1[0], n2[0], f1[0], f2[1]] == [a[0]; 4] && f1[1] == f2[0])
        .then_some((a[0], a[1], f1[1]))
}

/// Encoder blocks among `items` (see [`encoder_block`]) as `EncoderBlock<M, H, F>`.
fn encoder_blocks(items: Vec<Layer>) -> Vec<Layer> {
    let mut out: Vec<Layer> = Vec::with_capacity(items.len());
    for item in items {
        out.push(item);
        let n = out.len();
        let Some((m, h, f)) = n.checked_sub(4).and_then(|k| encoder_block(&out[k..])) else {
            continue;
        };
        let mut parts = out.split_off(n - 4).into_iter();
        let mut tensors = Vec::new();
        let inner = |l: Option<Layer>| match l {
            Some(Layer::Residual(v)) => v,
            _ => Vec::new(),
        };
        let attention = inner(parts.next());
        let norm1 = parts.next();
        let ff = inner(parts.next());
        let norm2 = parts.next();
        let named = attention
            .into_iter()
            .map(|l| (l, "attention"))
            .chain(norm1.map(|l| (l, "norm1")))
            .chain(ff.into_iter().zip(["ff1", "relu", "ff2"]))
            .chain(norm2.map(|l| (l, "norm2")));
        for (layer, prefix) in named {
            tensors.extend(tensors_under(layer, prefix));
        }
        out.push(Layer::Leaf {
            ty: format!("EncoderBlock<{m}, {h}, {f}>"),
            tensors,
        });
    }
    out
}

impl Walk<'_> {
    fn fail(&mut self, what: String) {
        if !self.unsupported.contains(&what) {
            self.unsupported.push(what);
        }
    }

    fn node(&self, n: usize) -> &NodeProto {
        &self.r.nodes[n]
    }

    fn out(&self, n: usize) -> String {
        self.node(n).output.first().cloned().unwrap_or_default()
    }

    /// The nodes reading `value`, in graph order.
    fn readers_of(&self, value: &str) -> Vec<usize> {
        self.readers.get(value).cloned().unwrap_or_default()
    }

    /// The one node reading `value`, if it is of operator `op` (and not read yet).
    fn only_reader(&self, value: &str, op: &str) -> Option<usize> {
        match self.readers_of(value)[..] {
            [n] if self.node(n).op_type == op && !self.done[n] => Some(n),
            _ => None,
        }
    }

    /// An `Add` of two computed values (not of a weight): where branches meet.
    fn is_join(&self, n: usize) -> bool {
        let node = self.node(n);
        node.op_type == "Add"
            && node.input.len() == 2
            && !node.input.iter().any(|i| self.r.weights.contains_key(i))
    }

    /// The `int64` initializer `name`.
    fn ints_of(&self, name: Option<&String>) -> Option<&(Vec<usize>, Vec<i64>)> {
        name.and_then(|n| self.r.ints.get(n))
    }

    /// Layers from `value` on, as far as one value leads to the next: a value read by several
    /// nodes is a residual block, a generalized residual or a split (see [`Walk::fork`]); the
    /// chain ends at a value nobody reads or that an `Add` of branches reads.
    fn chain(&mut self, mut value: String, mut shape: Vec<usize>) -> Chain {
        let mut items = Vec::new();
        loop {
            let readers = self.readers_of(&value);
            match readers[..] {
                [] => break,
                [n] if self.is_join(n) || self.done[n] => break,
                [n] => {
                    let (layer, out) = self.step(n, &value, &mut shape);
                    items.extend(layer);
                    value = out;
                }
                _ => match self.fork(&value, &shape, &readers) {
                    Some((layers, out, s)) => {
                        items.extend(layers);
                        value = out;
                        shape = s;
                    }
                    None => break,
                },
            }
        }
        Chain {
            items: encoder_blocks(items),
            end: value,
            shape,
        }
    }

    /// The layer at node `n`, which reads `value`; an unsupported one is recorded and passed
    /// over (the shape unchanged), so that every one is named.
    fn step(&mut self, n: usize, value: &str, shape: &mut Vec<usize>) -> (Option<Layer>, String) {
        self.done[n] = true;
        match self.layer(n, value, shape) {
            Ok(done) => done,
            Err(what) => {
                self.fail(what);
                (None, self.out(n))
            }
        }
    }

    /// A branch: the layer at node `n` (reading `value`), then the chain after it.
    fn branch(&mut self, n: usize, value: &str, shape: &[usize]) -> Chain {
        let mut shape = shape.to_vec();
        let (layer, out) = self.step(n, value, &mut shape);
        let mut chain = self.chain(out, shape);
        if let Some(l) = layer {
            chain.items.insert(0, l);
        }
        chain
    }

    /// `value` read by several nodes, as export writes the combinators:
    /// - one branch and an `Add` of `value` and the branch's end: `Residual`;
    /// - 2 to 6 branches ending the graph: `SplitInto` (outputs `output_0`, …);
    /// - branches whose ends `Add`s sum, two at a time: `GeneralizedResidual`s nested as the
    ///   sums are (`b₀ + (b₁ + b₂)` is `GeneralizedResidual<B0, GeneralizedResidual<B1, B2>>`),
    ///   the same sums in the same order. A `SplitInto` followed by an `AddInto` is such a
    ///   graph: an ONNX graph does not say where one ends and the other begins, so it reads
    ///   back as generalized residuals whose branches hold both parts.
    fn fork(
        &mut self,
        value: &str,
        shape: &[usize],
        readers: &[usize],
    ) -> Option<(Vec<Layer>, String, Vec<usize>)> {
        let joins: Vec<usize> = readers
            .iter()
            .copied()
            .filter(|&n| self.is_join(n))
            .collect();
        let starts: Vec<usize> = readers
            .iter()
            .copied()
            .filter(|&n| !self.is_join(n) && !self.done[n])
            .collect();
        let mut branches = Vec::new();
        if let Some((attention, out)) = self.attention(value, shape, &starts) {
            let mut chain = self.chain(out, shape.to_vec());
            chain.items.insert(0, attention);
            branches.push(chain);
        }
        for &n in &starts {
            if !self.done[n] {
                branches.push(self.branch(n, value, shape));
            }
        }
        let what = format!(
            "a value read by {} nodes other than as a residual, split or add block",
            readers.len()
        );
        if branches.is_empty() || branches.iter().any(|b| b.items.is_empty()) {
            self.fail(format!("{what} (an empty branch)"));
            return None;
        }
        if let [j] = joins[..] {
            let node = self.node(j);
            let reads = |v: &str| node.input.iter().any(|i| i == v);
            let [b] = &branches[..] else {
                self.fail(what);
                return None;
            };
            if !(reads(value) && reads(&b.end) && b.shape == shape) {
                self.fail(what);
                return None;
            }
            self.done[j] = true;
            let items = branches.remove(0).items;
            return Some((vec![Layer::Residual(items)], self.out(j), shape.to_vec()));
        }
        if joins.is_empty() && branches.len() == 1 {
            // Several readers, one layer (self-attention reads its input three times).
            let b = branches.remove(0);
            return Some((b.items, b.end, b.shape));
        }
        if !joins.is_empty() || branches.len() < 2 {
            self.fail(what);
            return None;
        }
        if branches.len() <= 6 && branches.iter().all(|b| self.readers_of(&b.end).is_empty()) {
            // The graph's outputs.
            let items = branches.into_iter().map(|b| b.items).collect();
            return Some((vec![Layer::Split(items)], String::new(), Vec::new()));
        }
        // Sums of two branch ends (or sums), until one value is left.
        let mut pending: Vec<(String, Vec<Layer>, Vec<usize>)> = branches
            .into_iter()
            .map(|b| (b.end, b.items, b.shape))
            .collect();
        while pending.len() > 1 {
            let found = pending.iter().enumerate().find_map(|(a, (v, _, _))| {
                let [j] = self.readers_of(v)[..] else {
                    return None;
                };
                let inputs = &self.node(j).input;
                if !self.is_join(j) || self.done[j] || inputs[0] != *v {
                    return None;
                }
                let b = pending.iter().position(|(w, _, _)| *w == inputs[1])?;
                (b != a && pending[a].2 == pending[b].2).then_some((a, b, j))
            });
            let Some((a, b, j)) = found else {
                self.fail(what);
                return None;
            };
            self.done[j] = true;
            let (right, left) = if a > b {
                (pending.remove(b), pending.remove(a - 1))
            } else {
                (pending.remove(b), pending.remove(a))
            };
            pending.push((
                self.out(j),
                vec![Layer::Generalized(left.1, right.1)],
                left.2,
            ));
        }
        let (sum, tree, out_shape) = pending.remove(0);
        Some((tree, sum, out_shape))
    }

    /// `MatMul` + `Add` of a `(M, M)` weight and a bias reading `value`: the weight (as
    /// `Linear` stores it), the bias, and the `Add`.
    fn projection(&self, n: usize, value: &str, m: usize) -> Option<(Vec<f32>, Vec<f32>, usize)> {
        let r = self.r;
        let node = self.node(n);
        if node.op_type != "MatMul" || node.input.first().map(String::as_str) != Some(value) {
            return None;
        }
        let (_, w) = r.weight(node.input.get(1)).filter(|(d, _)| *d == [m, m])?;
        let add = self.only_reader(&self.out(n), "Add")?;
        let (_, b) = r
            .weight(self.node(add).input.get(1))
            .filter(|(d, _)| *d == [m])?;
        Some((transpose(&w, m, m), b, add))
    }

    /// The one reader of `value` of operator `op`, with `perm` (a `Transpose`'s) or `int64`
    /// second input `shape` (a `Reshape`'s) as given.
    fn next_op(
        &self,
        value: &str,
        op: &str,
        perm: Option<&[i64]>,
        shape: Option<&[i64]>,
    ) -> Option<usize> {
        let n = self.only_reader(value, op)?;
        let node = self.node(n);
        if let Some(p) = perm
            && ints(node, "perm").as_deref() != Some(p)
        {
            return None;
        }
        if let Some(v) = shape
            && self.ints_of(node.input.get(1)).map(|t| &t.1[..]) != Some(v)
        {
            return None;
        }
        Some(n)
    }

    /// Self-attention as export writes it, from the three `MatMul`s among `starts` reading
    /// `value` (an `(S, M)` sequence) to the output projection's `Add`: `SelfAttention<M, H>`,
    /// and the value it ends with.
    fn attention(
        &mut self,
        value: &str,
        shape: &[usize],
        starts: &[usize],
    ) -> Option<(Layer, String)> {
        let [s, m] = shape[..] else {
            return None;
        };
        let mms: Vec<usize> = starts
            .iter()
            .copied()
            .filter(|&n| self.node(n).op_type == "MatMul")
            .collect();
        let [q, k, v] = mms[..] else {
            return None;
        };
        let mut nodes = vec![q, k, v];
        let mut heads: Option<i64> = None;
        let mut split = |w: &Self, n: usize, perm: &[i64]| {
            let (weight, bias, add) = w.projection(n, value, m)?;
            let reshape = w.only_reader(&w.out(add), "Reshape")?;
            let dims = w.ints_of(w.node(reshape).input.get(1))?.1.clone();
            let [0, s_, h, d] = dims[..] else {
                return None;
            };
            if s_ != s as i64 || h < 1 || (h * d) as usize != m || *heads.get_or_insert(h) != h {
                return None;
            }
            let t = w.next_op(&w.out(reshape), "Transpose", Some(perm), None)?;
            nodes.extend([add, reshape, t]);
            Some((weight, bias, w.out(t)))
        };
        let (wq, bq, qt) = split(self, q, &[0, 2, 1, 3])?;
        let (wk, bk, kt) = split(self, k, &[0, 2, 3, 1])?;
        let (wv, bv, vt) = split(self, v, &[0, 2, 1, 3])?;
        let h = heads? as usize;
        let scores = self.only_reader(&qt, "MatMul")?;
        if self.node(scores).input != [qt, kt] {
            return None;
        }
        let scale = self.only_reader(&self.out(scores), "Mul")?;
        let expected = 1.0 / ((m / h) as f32).sqrt();
        if self.r.weight(self.node(scale).input.get(1)).map(|(_, v)| v) != Some(vec![expected]) {
            return None;
        }
        let softmax = self.only_reader(&self.out(scale), "Softmax")?;
        if int(self.node(softmax), "axis") != Some(-1) {
            return None;
        }
        let mixed = self.only_reader(&self.out(softmax), "MatMul")?;
        if self.node(mixed).input != [self.out(softmax), vt] {
            return None;
        }
        let back = self.next_op(&self.out(mixed), "Transpose", Some(&[0, 2, 1, 3]), None)?;
        let merged = self.next_op(
            &self.out(back),
            "Reshape",
            None,
            Some(&[0, s as i64, m as i64]),
        )?;
        let wo_mm = self.only_reader(&self.out(merged), "MatMul")?;
        let (wo, bo, wo_add) = self.projection(wo_mm, &self.out(merged), m)?;
        nodes.extend([scores, scale, softmax, mixed, back, merged, wo_mm, wo_add]);
        for n in nodes {
            self.done[n] = true;
        }
        let layer = leaf(
            format!("SelfAttention<{m}, {h}>"),
            vec![
                ("w_q.weight", vec![m, m], wq),
                ("w_q.bias", vec![m], bq),
                ("w_k.weight", vec![m, m], wk),
                ("w_k.bias", vec![m], bk),
                ("w_v.weight", vec![m, m], wv),
                ("w_v.bias", vec![m], bv),
                ("w_o.weight", vec![m, m], wo),
                ("w_o.bias", vec![m], bo),
            ],
        )?;
        Some((layer, self.out(wo_add)))
    }

    /// The layer at node `n` reading `value` of shape `shape` (updated), with the nodes read
    /// together with it (a bias `Add` after `MatMul`, the `Flatten` after a global pool).
    fn layer(&mut self, n: usize, value: &str, shape: &mut Vec<usize>) -> Step {
        let r = self.r;
        let node = &r.nodes[n];
        let op = node.op_type.as_str();
        let out = self.out(n);
        if node.input.first().map(String::as_str) != Some(value) {
            return Err(format!("{op} (off the main chain)"));
        }
        let layer = match op {
            "Identity" | "Dropout" => None,
            "Relu" | "Sigmoid" | "Tanh" | "Sin" | "Cos" | "Log" | "Exp" | "Sqrt" | "Abs" => {
                let ty = match op {
                    "Relu" => "ReLU",
                    "Log" => "Ln",
                    other => other,
                };
                leaf(ty, vec![])
            }
            "Gelu" => {
                let ty = if string(node, "approximate").as_deref() == Some("tanh") {
                    "FastGeLU"
                } else {
                    "ExactGeLU"
                };
                leaf(ty, vec![])
            }
            "Mul" if node.input.len() == 2 && node.input[1] == value => leaf("Square", vec![]),
            "Softmax" | "LogSoftmax" => {
                let axis = int(node, "axis").unwrap_or(-1);
                if axis != -1 && axis != shape.len() as i64 {
                    return Err(format!("{op} (axis {axis}, not the last)"));
                }
                leaf(op, vec![])
            }
            "Gemm" => {
                let (Some((wd, w)), [i_]) = (r.weight(node.input.get(1)), &shape[..]) else {
                    return Err(
                        "Gemm (without a weight initializer, or on a non-flat input)".into(),
                    );
                };
                let trans_b = int(node, "transB").unwrap_or(0) == 1;
                if int(node, "transA").unwrap_or(0) != 0
                    || float(node, "alpha").is_some_and(|a| a != 1.0)
                    || float(node, "beta").is_some_and(|b| b != 1.0)
                {
                    return Err("Gemm (transA, alpha or beta)".into());
                }
                let (o, inp, weight) = if trans_b {
                    (wd[0], wd[1], w)
                } else {
                    (wd[1], wd[0], transpose(&w, wd[0], wd[1]))
                };
                if inp != *i_ {
                    return Err(format!("Gemm (takes {inp} features, its input has {i_})"));
                }
                let bias = match r.weight(node.input.get(2)) {
                    Some((bd, b)) if bd.iter().product::<usize>() == o => b,
                    Some(_) => return Err("Gemm (bias not of the output's size)".into()),
                    None => vec![0.0; o],
                };
                *shape = vec![o];
                leaf(
                    format!("Linear<{inp}, {o}>"),
                    vec![("weight", vec![o, inp], weight), ("bias", vec![o], bias)],
                )
            }
            "MatMul" => {
                let Some((wd, w)) = r.weight(node.input.get(1)).filter(|(d, _)| d.len() == 2)
                else {
                    return Err("MatMul (without a 2-D weight initializer)".into());
                };
                let (inp, o) = (wd[0], wd[1]);
                if shape.last() != Some(&inp) {
                    return Err(format!(
                        "MatMul (takes {inp} features, its input has shape {shape:?})"
                    ));
                }
                // An `Add` of a bias initializer reading it alone is the layer's bias.
                let mut bias = vec![0.0; o];
                let mut output = out;
                if let Some(next) = self.only_reader(&output, "Add")
                    && r.nodes[next].input.first() == Some(&output)
                    && let Some((bd, b)) = r.weight(r.nodes[next].input.get(1))
                    && bd.iter().product::<usize>() == o
                {
                    bias = b;
                    self.done[next] = true;
                    output = self.out(next);
                }
                *shape.last_mut().expect("checked above") = o;
                let layer = leaf(
                    format!("Linear<{inp}, {o}>"),
                    vec![
                        ("weight", vec![o, inp], transpose(&w, inp, o)),
                        ("bias", vec![o], bias),
                    ],
                );
                return Ok((layer, output));
            }
            "Conv" => {
                let Some((wd, w)) = r.weight(node.input.get(1)).filter(|(d, _)| d.len() == 4)
                else {
                    return Err("Conv (without a 4-D weight initializer)".into());
                };
                let (o, c, k) = (wd[0], wd[1], wd[2]);
                let (s, p) = square(node, k)?;
                if wd[3] != k
                    || int(node, "group").unwrap_or(1) != 1
                    || ints(node, "dilations").is_some_and(|d| d.iter().any(|&x| x != 1))
                {
                    return Err("Conv (non-square kernel, groups or dilation)".into());
                }
                let [ci, h, wi] = shape[..] else {
                    return Err("Conv (on a non-(C, H, W) input)".into());
                };
                if ci != c {
                    return Err(format!("Conv (takes {c} channels, its input has {ci})"));
                }
                let bias = r
                    .weight(node.input.get(2))
                    .map(|b| b.1)
                    .unwrap_or_else(|| vec![0.0; o]);
                *shape = vec![o, (h + 2 * p - k) / s + 1, (wi + 2 * p - k) / s + 1];
                let ty = match (s, p) {
                    (1, 0) => format!("Conv2D<{c}, {o}, {k}>"),
                    (_, 0) => format!("Conv2D<{c}, {o}, {k}, {s}>"),
                    _ => format!("Conv2D<{c}, {o}, {k}, {s}, {p}>"),
                };
                leaf(ty, vec![("weight", wd, w), ("bias", vec![o], bias)])
            }
            "MaxPool" | "AveragePool" => {
                let k = ints(node, "kernel_shape").unwrap_or_default();
                let [k0, k1] = k[..] else {
                    return Err(format!("{op} (not 2-D)"));
                };
                if k0 != k1 || int(node, "ceil_mode").unwrap_or(0) != 0 {
                    return Err(format!("{op} (non-square kernel or ceil_mode)"));
                }
                let k = k0 as usize;
                let (s, p) = square(node, k)?;
                if op == "AveragePool" && p > 0 && int(node, "count_include_pad").unwrap_or(0) != 1
                {
                    return Err("AveragePool (padding not counted)".into());
                }
                let [c, h, w] = shape[..] else {
                    return Err(format!("{op} (on a non-(C, H, W) input)"));
                };
                *shape = vec![c, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1];
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
                leaf(ty, vec![])
            }
            "GlobalAveragePool" | "GlobalMaxPool" => {
                let [c, _, _] = shape[..] else {
                    return Err(format!("{op} (on a non-(C, H, W) input)"));
                };
                let Some(flatten) = self
                    .only_reader(&out, "Flatten")
                    .filter(|&f| int(&r.nodes[f], "axis").unwrap_or(1) == 1)
                else {
                    return Err(format!("{op} (not followed by Flatten)"));
                };
                self.done[flatten] = true;
                *shape = vec![c];
                let ty = if op == "GlobalMaxPool" {
                    "MaxPoolGlobal"
                } else {
                    "AvgPoolGlobal"
                };
                return Ok((leaf(ty, vec![]), self.out(flatten)));
            }
            "Flatten" => {
                if int(node, "axis").unwrap_or(1) != 1 {
                    return Err("Flatten (axis other than 1)".into());
                }
                match shape[..] {
                    [c, h, w] => {
                        *shape = vec![c * h * w];
                        leaf("Flatten2D", vec![])
                    }
                    [_, 1] => return self.embedding(n, shape),
                    [_] => None,
                    _ => return Err("Flatten (of other than a (C, H, W) input)".into()),
                }
            }
            "BatchNormalization" => {
                let stats: Option<Vec<_>> = (1..5).map(|j| r.weight(node.input.get(j))).collect();
                let Some(stats) = stats else {
                    return Err("BatchNormalization (statistics not initializers)".into());
                };
                let c = shape[0];
                let ty = match shape.len() {
                    3 => format!("BatchNorm2D<{c}>"),
                    1 => format!("BatchNorm1D<{c}>"),
                    _ => return Err("BatchNormalization (on other than (C,) or (C, H, W))".into()),
                };
                check_epsilon(node, op)?;
                let mut it = stats.into_iter().map(|(_, v)| v);
                let mut next = || it.next().unwrap_or_default();
                leaf(
                    ty,
                    vec![
                        ("weight", vec![c], next()),
                        ("bias", vec![c], next()),
                        ("running_mean", vec![c], next()),
                        ("running_var", vec![c], next()),
                    ],
                )
            }
            "LayerNormalization" => {
                let m = *shape.last().unwrap_or(&0);
                let axis = int(node, "axis").unwrap_or(-1);
                if axis != -1 && axis != shape.len() as i64 {
                    return Err("LayerNormalization (not over the last axis)".into());
                }
                check_epsilon(node, op)?;
                let (Some((_, g)), Some((_, b))) =
                    (r.weight(node.input.get(1)), r.weight(node.input.get(2)))
                else {
                    return Err("LayerNormalization (scale or bias not initializers)".into());
                };
                leaf(
                    format!("LayerNorm1D<{m}>"),
                    vec![("weight", vec![m], g), ("bias", vec![m], b)],
                )
            }
            "Add" => match (r.weight(node.input.get(1)), &shape[..]) {
                (Some((wd, w)), &[l, m]) if wd == [l, m] => leaf(
                    format!("PositionalEmbedding<{l}, {m}>"),
                    vec![("weight", wd, w)],
                ),
                _ => return Err("Add (of a weight that is not a positional embedding)".into()),
            },
            "ReduceMean" | "ReduceMax" => {
                let axes = self.ints_of(node.input.get(1)).map(|a| a.1.clone());
                let [_, m] = shape[..] else {
                    return Err(format!("{op} (on other than (S, M) sequences)"));
                };
                if axes.as_deref() != Some(&[1]) || int(node, "keepdims").unwrap_or(1) != 0 {
                    return Err(format!("{op} (other than over the sequence axis)"));
                }
                *shape = vec![m];
                leaf(
                    if op == "ReduceMean" {
                        "SeqMean"
                    } else {
                        "SeqMax"
                    },
                    vec![],
                )
            }
            "Gather" => {
                let index = self.ints_of(node.input.get(1)).cloned();
                let [s, m] = shape[..] else {
                    return Err("Gather (on other than (S, M) sequences)".into());
                };
                let ty = match index {
                    Some((d, i)) if d.is_empty() && int(node, "axis") == Some(1) => {
                        if i == [0] {
                            "SeqFirst"
                        } else if i == [s as i64 - 1] {
                            "SeqLast"
                        } else {
                            return Err("Gather (of a step other than the first or last)".into());
                        }
                    }
                    _ => return Err("Gather (other than of one step of a sequence)".into()),
                };
                *shape = vec![m];
                leaf(ty, vec![])
            }
            "Transpose" => return self.recurrent(n, shape),
            other => return Err(other.to_string()),
        };
        Ok((layer, out))
    }

    /// `Flatten` of `(S, 1)` token ids, `Cast` to `int64`, then `Gather` of a table:
    /// `Embedding`; or the masked mean export writes for `EmbeddingBag`.
    fn embedding(&mut self, n: usize, shape: &mut Vec<usize>) -> Step {
        let r = self.r;
        let fail = || "Flatten (of token ids, not followed by an embedding)".to_string();
        let cast = self
            .only_reader(&self.out(n), "Cast")
            .filter(|&c| int(&r.nodes[c], "to") == Some(DataType::Int64 as i64))
            .ok_or_else(fail)?;
        let ids = self.out(cast);
        let gathers: Vec<usize> = self.readers_of(&ids);
        let table = |g: usize| {
            let node = &r.nodes[g];
            (node.op_type == "Gather"
                && node.input.get(1) == Some(&ids)
                && int(node, "axis").unwrap_or(0) == 0)
                .then(|| r.weight(node.input.first()))
                .flatten()
                .filter(|(d, _)| d.len() == 2)
        };
        let s = shape[0];
        match gathers[..] {
            [g] => {
                let (wd, w) = table(g).ok_or_else(fail)?;
                self.done[cast] = true;
                self.done[g] = true;
                let (v, m) = (wd[0], wd[1]);
                *shape = vec![s, m];
                Ok((
                    leaf(format!("Embedding<{v}, {m}>"), vec![("weight", wd, w)]),
                    self.out(g),
                ))
            }
            [rows, mask] => {
                let ((wd, w), (md, mv)) =
                    (table(rows).ok_or_else(fail)?, table(mask).ok_or_else(fail)?);
                let (v, m) = (wd[0], wd[1]);
                let not_padding = (0..v).map(|id| if id == PAD as usize { 0.0 } else { 1.0 });
                if md != [v, 1] || !mv.iter().copied().eq(not_padding) {
                    return Err(fail());
                }
                // Mul → ReduceSum → Div, the mask's ReduceSum → Max → Div.
                let chain = |w: &Self, from: usize, ops: &[&str]| -> Option<Vec<usize>> {
                    let mut at = from;
                    let mut nodes = Vec::new();
                    for op in ops {
                        at = w
                            .readers_of(&w.out(at))
                            .into_iter()
                            .find(|&k| w.node(k).op_type == *op)?;
                        nodes.push(at);
                    }
                    Some(nodes)
                };
                let sum = chain(self, rows, &["Mul", "ReduceSum", "Div"]).ok_or_else(fail)?;
                let count = chain(self, mask, &["ReduceSum", "Max", "Div"]).ok_or_else(fail)?;
                if sum[2] != count[2] {
                    return Err(fail());
                }
                for k in [cast, rows, mask]
                    .into_iter()
                    .chain(sum.iter().copied())
                    .chain(count)
                {
                    self.done[k] = true;
                }
                *shape = vec![m];
                Ok((
                    leaf(format!("EmbeddingBag<{v}, {m}>"), vec![("weight", wd, w)]),
                    self.out(sum[2]),
                ))
            }
            _ => Err(fail()),
        }
    }

    /// `Transpose` to sequence-first, ONNX's `GRU` (`linear_before_reset`) or `LSTM`, and
    /// `Squeeze` of the last state (`LastStep`) or of every state then `Transpose` back
    /// (`AllSteps`), as export writes `Gru` and `Lstm`: the gates back in PyTorch's order.
    fn recurrent(&mut self, n: usize, shape: &mut Vec<usize>) -> Step {
        let r = self.r;
        let fail = || "Transpose (other than around a GRU or LSTM)".to_string();
        if ints(&r.nodes[n], "perm").as_deref() != Some(&[1, 0, 2]) {
            return Err(fail());
        }
        let [s, i] = shape[..] else {
            return Err(fail());
        };
        let t = self.out(n);
        let cell = self
            .only_reader(&t, "GRU")
            .or_else(|| self.only_reader(&t, "LSTM"))
            .ok_or_else(fail)?;
        let node = &r.nodes[cell];
        let op = node.op_type.as_str();
        let (gates, from_onnx, name): (usize, &[usize], &str) = if op == "GRU" {
            if int(node, "linear_before_reset") != Some(1) {
                return Err("GRU (linear_before_reset = 0: not PyTorch's GRU)".into());
            }
            (3, &[1, 0, 2], "Gru")
        } else {
            (4, &[0, 2, 3, 1], "Lstm")
        };
        let plain = node.attribute.iter().all(|a| {
            matches!(a.name.as_str(), "hidden_size" | "linear_before_reset")
                || (a.name == "direction" && a.s == b"forward")
                || (a.name == "layout" && a.i == 0)
        });
        let h = int(node, "hidden_size").unwrap_or(0).max(0) as usize;
        let weights: Option<Vec<_>> = (1..4).map(|j| r.weight(node.input.get(j))).collect();
        let Some([(wd, w), (rd, rw), (bd, b)]) = weights.and_then(|v| <[_; 3]>::try_from(v).ok())
        else {
            return Err(format!("{op} (weights not initializers)"));
        };
        if !plain
            || node.input.len() > 4
            || wd != [1, gates * h, i]
            || rd != [1, gates * h, h]
            || bd != [1, 2 * gates * h]
        {
            return Err(format!(
                "{op} (other than one forward layer from a zero state)"
            ));
        }
        // Y: (S, 1, batch, H); Y_h: (1, batch, H).
        let outs = &node.output;
        let squeeze = |w: &Self, k: usize, axis: i64| {
            outs.get(k)
                .and_then(|o| w.only_reader(o, "Squeeze"))
                .filter(|&q| {
                    w.ints_of(w.node(q).input.get(1)).map(|a| &a.1[..]) == Some(&[axis][..])
                })
        };
        let (steps, out, extra) = if let Some(q) = squeeze(self, 1, 0) {
            ("", self.out(q), vec![q])
        } else if let Some(q) = squeeze(self, 0, 1)
            && let Some(back) = self
                .only_reader(&self.out(q), "Transpose")
                .filter(|&t| ints(self.node(t), "perm").as_deref() == Some(&[1, 0, 2]))
        {
            (", AllSteps", self.out(back), vec![q, back])
        } else {
            return Err(format!(
                "{op} (outputs other than the last or every hidden state)"
            ));
        };
        for k in std::iter::once(cell).chain(extra) {
            self.done[k] = true;
        }
        let reorder = |v: &[f32], block: usize| -> Vec<f32> {
            from_onnx
                .iter()
                .flat_map(|&k| v[k * block..(k + 1) * block].iter().copied())
                .collect()
        };
        *shape = if steps.is_empty() {
            vec![h]
        } else {
            vec![s, h]
        };
        Ok((
            leaf(
                format!("{name}<{i}, {h}{steps}>"),
                vec![
                    ("weight_ih", vec![gates, h, i], reorder(&w, h * i)),
                    ("weight_hh", vec![gates, h, h], reorder(&rw, h * h)),
                    ("bias_ih", vec![gates, h], reorder(&b[..gates * h], h)),
                    ("bias_hh", vec![gates, h], reorder(&b[gates * h..], h)),
                ],
            ),
            out,
        ))
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
