//! [`OnnxGraph`]: the nodes and initializers of an ONNX graph as layers append them.

use super::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use super::{Batch, IR_VERSION, OPSET};

/// A value flowing between layers: its name in the graph and the shape of one sample (the
/// batch dimension, always first in the graph, is not included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnnxValue {
    /// The value's name in the graph.
    pub name: String,
    /// Dimensions of one sample.
    pub shape: Vec<usize>,
}

/// An attribute of a node: an integer, a float, a list of integers or a string.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// `INT`.
    Int(i64),
    /// `FLOAT`.
    Float(f32),
    /// `INTS`.
    Ints(Vec<i64>),
    /// `STRING`.
    Str(String),
}

/// An ONNX graph under construction: layers append nodes ([`node`](Self::node)) and weights
/// ([`weight`](Self::weight)); names are made unique.
#[derive(Debug, Default)]
pub struct OnnxGraph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    used: std::collections::HashSet<String>,
}

impl OnnxGraph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// `hint`, or `hint_1`, `hint_2`, … if taken: a name no other value or node has.
    fn fresh(&mut self, hint: &str) -> String {
        let hint = if hint.is_empty() { "value" } else { hint };
        let mut name = hint.to_string();
        let mut i = 0;
        while self.used.contains(&name) || name == "input" {
            i += 1;
            name = format!("{hint}_{i}");
        }
        self.used.insert(name.clone());
        name
    }

    /// Appends a node of operator `op` reading `inputs`, with `attrs`, and returns the name of
    /// its (one) output. `name` names the node and its output (made unique).
    pub fn node(
        &mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) -> String {
        let mut outs = self.node_outputs(op, name, inputs, attrs, 1);
        outs.remove(0)
    }

    /// [`node`](Self::node) for an operator with `outputs` outputs (`GRU`, `LSTM`): their names,
    /// in order, the first also naming the node.
    pub fn node_outputs(
        &mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        attrs: Vec<(&str, Attr)>,
        outputs: usize,
    ) -> Vec<String> {
        let out = self.fresh(name);
        let mut output = vec![out.clone()];
        for i in 1..outputs {
            output.push(self.fresh(&format!("{out}_out{i}")));
        }
        let attribute = attrs
            .into_iter()
            .map(|(key, value)| {
                let mut a = AttributeProto {
                    name: key.to_string(),
                    ..Default::default()
                };
                match value {
                    Attr::Int(i) => {
                        a.r#type = AttributeType::Int as i32;
                        a.i = i;
                    }
                    Attr::Float(f) => {
                        a.r#type = AttributeType::Float as i32;
                        a.f = f;
                    }
                    Attr::Ints(v) => {
                        a.r#type = AttributeType::Ints as i32;
                        a.ints = v;
                    }
                    Attr::Str(s) => {
                        a.r#type = AttributeType::String as i32;
                        a.s = s.into_bytes();
                    }
                }
                a
            })
            .collect();
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: output.clone(),
            name: out,
            op_type: op.to_string(),
            attribute,
            ..Default::default()
        });
        output
    }

    /// Adds a `float32` initializer of shape `dims` holding `values` (converted from the model's
    /// element type) and returns its name (`name`, made unique).
    pub fn weight(&mut self, name: &str, dims: &[usize], values: &[f32]) -> String {
        let name = self.fresh(name);
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Float as i32,
            name: name.clone(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name
    }

    /// Adds an `int64` initializer of shape `dims` (`&[]` for a scalar) holding `values` (axes,
    /// shapes and indices that operators take as inputs) and returns its name.
    pub fn ints(&mut self, name: &str, dims: &[usize], values: &[i64]) -> String {
        let name = self.fresh(name);
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: DataType::Int64 as i32,
            name: name.clone(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name
    }

    /// The model: this graph between `input` and `outputs`, every value `float32` with the batch
    /// first.
    pub(crate) fn into_model(
        self,
        input: OnnxValue,
        outputs: Vec<OnnxValue>,
        batch: Batch,
        model_name: String,
    ) -> ModelProto {
        let mut nodes = self.nodes;
        let many = outputs.len() > 1;
        let mut output_infos = Vec::with_capacity(outputs.len());
        for (i, v) in outputs.iter().enumerate() {
            let name = if many {
                format!("output_{i}")
            } else {
                "output".to_string()
            };
            // The graph's outputs get fixed names: an Identity from the last value.
            nodes.push(NodeProto {
                input: vec![v.name.clone()],
                output: vec![name.clone()],
                name: name.clone(),
                op_type: "Identity".into(),
                ..Default::default()
            });
            output_infos.push(value_info(&name, &v.shape, batch));
        }
        let graph = GraphProto {
            node: nodes,
            name: model_name,
            initializer: self.initializers,
            input: vec![value_info(&input.name, &input.shape, batch)],
            output: output_infos,
            ..Default::default()
        };
        ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            producer_name: "typenet".into(),
            producer_version: env!("CARGO_PKG_VERSION").into(),
            graph: Some(graph),
            ..Default::default()
        }
    }
}

/// A `float32` value of shape `[batch, sample…]`.
fn value_info(name: &str, sample: &[usize], batch: Batch) -> ValueInfoProto {
    use tensor_shape_proto::{dimension::Value, Dimension};
    let first = match batch {
        Batch::Dynamic => Value::DimParam("batch".into()),
        Batch::Fixed(n) => Value::DimValue(n as i64),
    };
    let dim = std::iter::once(first)
        .chain(sample.iter().map(|&d| Value::DimValue(d as i64)))
        .map(|v| Dimension {
            value: Some(v),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}
