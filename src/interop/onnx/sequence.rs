//! [`ToOnnx`] for the sequence layers: embeddings, recurrent layers, sequence pooling and
//! self-attention.
//!
//! Token ids travel as typenet holds them: the `float32` values of a `(batch, S, 1)` input (a
//! batch of [`Tokens`](crate::data::Tokens)); an embedding flattens them to `(batch, S)` and
//! casts them to `int64` for `Gather`.

use super::graph::{Attr, OnnxGraph, OnnxValue};
use super::layers::{add, error, floats, join, named, one};
use super::ToOnnx;
use crate::dims::PAD;
use crate::nn::modules as m;
use crate::nn::{AllSteps, SeqFirst, SeqLast, SeqMax, SeqMean, Steps};
use crate::Result;
use dfdx::prelude::{Device, Dtype};

/// `Cast` to `int64` of a `(S, 1)` input of token ids, flattened to `(S,)`.
fn token_ids<L: ?Sized>(g: &mut OnnxGraph, path: &str, x: &OnnxValue) -> Result<(String, usize)> {
    let [s, 1] = x.shape[..] else {
        return Err(error::<L>(
            path,
            format!(
                "takes (S, 1) token ids (a batch of Tokens), its input has shape {:?}",
                x.shape
            ),
        ));
    };
    let flat = g.node(
        "Flatten",
        &named(path, "Flatten"),
        &[&x.name],
        vec![("axis", Attr::Int(1))],
    );
    let ids = g.node(
        "Cast",
        &named(path, "Cast"),
        &[&flat],
        vec![("to", Attr::Int(7))],
    );
    Ok((ids, s))
}

impl<const V: usize, const M: usize, E: Dtype, D: Device<E>> ToOnnx for m::Embedding<V, M, E, D> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let (ids, s) = token_ids::<Self>(g, path, &x)?;
        let w = g.weight(&named(path, "weight"), &[V, M], &floats(&self.weight));
        let name = g.node("Gather", &named(path, "Gather"), &[&w, &ids], vec![]);
        Ok(vec![OnnxValue {
            name,
            shape: vec![s, M],
        }])
    }
}

/// The mean of the rows of the tokens that are not padding: `Gather` of the rows and of a
/// `(V, 1)` table of ones (zero for padding), their product summed over the sequence, divided by
/// the count of tokens (at least 1, so that padding alone gives zeros).
impl<const V: usize, const M: usize, E: Dtype, D: Device<E>> ToOnnx
    for m::EmbeddingBag<V, M, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let (ids, _) = token_ids::<Self>(g, path, &x)?;
        let w = g.weight(&named(path, "weight"), &[V, M], &floats(&self.weight));
        let tokens: Vec<f32> = (0..V)
            .map(|id| if id == PAD as usize { 0.0 } else { 1.0 })
            .collect();
        let table = g.weight(&named(path, "not_padding"), &[V, 1], &tokens);
        let rows = g.node("Gather", &named(path, "Gather"), &[&w, &ids], vec![]);
        let mask = g.node(
            "Gather",
            &named(path, "Gather_mask"),
            &[&table, &ids],
            vec![],
        );
        let kept = g.node("Mul", &named(path, "Mul"), &[&rows, &mask], vec![]);
        let axis = g.ints(&named(path, "axes"), &[1], &[1]);
        let sum = g.node(
            "ReduceSum",
            &named(path, "ReduceSum"),
            &[&kept, &axis],
            vec![("keepdims", Attr::Int(0))],
        );
        let count = g.node(
            "ReduceSum",
            &named(path, "ReduceSum_count"),
            &[&mask, &axis],
            vec![("keepdims", Attr::Int(0))],
        );
        let one_ = g.weight(&named(path, "one"), &[1], &[1.0]);
        let count = g.node("Max", &named(path, "Max"), &[&count, &one_], vec![]);
        let name = g.node("Div", &named(path, "Div"), &[&sum, &count], vec![]);
        Ok(vec![OnnxValue {
            name,
            shape: vec![M],
        }])
    }
}

impl<const L: usize, const M: usize, E: Dtype, D: Device<E>> ToOnnx
    for m::PositionalEmbedding<L, M, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        if x.shape != [L, M] {
            return Err(error::<Self>(
                path,
                format!(
                    "takes ({L}, {M}) sequences, its input has shape {:?}",
                    x.shape
                ),
            ));
        }
        let w = g.weight(&named(path, "weight"), &[L, M], &floats(&self.weight));
        let name = g.node("Add", &named(path, "Add"), &[&x.name, &w], vec![]);
        Ok(vec![OnnxValue {
            name,
            shape: x.shape,
        }])
    }
}

/// The `(S, M)` of a sequence input.
fn sequence<L: ?Sized>(path: &str, x: &OnnxValue) -> Result<(usize, usize)> {
    match x.shape[..] {
        [s, m] if s > 0 => Ok((s, m)),
        _ => Err(error::<L>(
            path,
            format!(
                "takes (S, M) sequences of at least one step, its input has shape {:?}",
                x.shape
            ),
        )),
    }
}

/// `ReduceMean` or `ReduceMax` over the sequence axis.
fn reduce<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
    op: &str,
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    let (_, m) = sequence::<L>(path, &x)?;
    let axis = g.ints(&named(path, "axes"), &[1], &[1]);
    let name = g.node(
        op,
        &named(path, op),
        &[&x.name, &axis],
        vec![("keepdims", Attr::Int(0))],
    );
    Ok(vec![OnnxValue {
        name,
        shape: vec![m],
    }])
}

/// `Gather` of one step of the sequence axis (the first or the last).
fn step<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
    last: bool,
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    let (s, m) = sequence::<L>(path, &x)?;
    let index = if last { s as i64 - 1 } else { 0 };
    let i = g.ints(&named(path, "step"), &[], &[index]);
    let name = g.node(
        "Gather",
        &named(path, "Gather"),
        &[&x.name, &i],
        vec![("axis", Attr::Int(1))],
    );
    Ok(vec![OnnxValue {
        name,
        shape: vec![m],
    }])
}

impl ToOnnx for SeqMean {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        reduce::<Self>(g, path, inputs, "ReduceMean")
    }
}

impl ToOnnx for SeqMax {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        reduce::<Self>(g, path, inputs, "ReduceMax")
    }
}

impl ToOnnx for SeqFirst {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        step::<Self>(g, path, inputs, false)
    }
}

impl ToOnnx for SeqLast {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        step::<Self>(g, path, inputs, true)
    }
}

/// `values`, `G` blocks of `block` numbers, with the blocks in the order `order` gives (ONNX's
/// gate order from PyTorch's).
fn gates(values: &[f32], block: usize, order: &[usize]) -> Vec<f32> {
    order
        .iter()
        .flat_map(|&k| values[k * block..(k + 1) * block].iter().copied())
        .collect()
}

/// A recurrent layer as ONNX's `GRU` or `LSTM` (sequence first: a `Transpose` on either side),
/// its weights with the gates in `order`.
fn recurrent<L: ?Sized, R: Steps>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
    op: &str,
    (i, h, order): (usize, usize, &[usize]),
    [w_ih, w_hh, b_ih, b_hh]: [Vec<f32>; 4],
    extra: Vec<(&str, Attr)>,
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    let (s, features) = sequence::<L>(path, &x)?;
    if features != i {
        return Err(error::<L>(
            path,
            format!("takes {i} features, its input has shape {:?}", x.shape),
        ));
    }
    let n = order.len();
    let w = g.weight(
        &named(path, "W"),
        &[1, n * h, i],
        &gates(&w_ih, h * i, order),
    );
    let r = g.weight(
        &named(path, "R"),
        &[1, n * h, h],
        &gates(&w_hh, h * h, order),
    );
    let mut bias = gates(&b_ih, h, order);
    bias.extend(gates(&b_hh, h, order));
    let b = g.weight(&named(path, "B"), &[1, 2 * n * h], &bias);
    let seq_first = g.node(
        "Transpose",
        &named(path, "Transpose"),
        &[&x.name],
        vec![("perm", Attr::Ints(vec![1, 0, 2]))],
    );
    let mut attrs = vec![("hidden_size", Attr::Int(h as i64))];
    attrs.extend(extra);
    let outs = g.node_outputs(op, &named(path, op), &[&seq_first, &w, &r, &b], attrs, 2);
    if std::any::TypeId::of::<R>() == std::any::TypeId::of::<AllSteps>() {
        // Y: (S, 1, batch, H) → (batch, S, H)
        let axis = g.ints(&named(path, "axes"), &[1], &[1]);
        let y = g.node(
            "Squeeze",
            &named(path, "Squeeze"),
            &[&outs[0], &axis],
            vec![],
        );
        let name = g.node(
            "Transpose",
            &named(path, "Transpose_out"),
            &[&y],
            vec![("perm", Attr::Ints(vec![1, 0, 2]))],
        );
        Ok(vec![OnnxValue {
            name,
            shape: vec![s, h],
        }])
    } else {
        // Y_h: (1, batch, H) → (batch, H)
        let axis = g.ints(&named(path, "axes"), &[1], &[0]);
        let name = g.node(
            "Squeeze",
            &named(path, "Squeeze"),
            &[&outs[1], &axis],
            vec![],
        );
        Ok(vec![OnnxValue {
            name,
            shape: vec![h],
        }])
    }
}

/// ONNX's `GRU` with `linear_before_reset = 1` (PyTorch's equations); ONNX's gate order is
/// update, reset, new (PyTorch's reset, update, new).
impl<const I: usize, const H: usize, R: Steps, E: Dtype, D: Device<E>> ToOnnx
    for m::Gru<I, H, R, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let weights = [
            floats(&self.weight_ih),
            floats(&self.weight_hh),
            floats(&self.bias_ih),
            floats(&self.bias_hh),
        ];
        recurrent::<Self, R>(
            g,
            path,
            inputs,
            "GRU",
            (I, H, &[1, 0, 2]),
            weights,
            vec![("linear_before_reset", Attr::Int(1))],
        )
    }
}

/// ONNX's `LSTM`; ONNX's gate order is input, output, forget, cell (PyTorch's input, forget,
/// cell, output).
impl<const I: usize, const H: usize, R: Steps, E: Dtype, D: Device<E>> ToOnnx
    for m::Lstm<I, H, R, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let weights = [
            floats(&self.weight_ih),
            floats(&self.weight_hh),
            floats(&self.bias_ih),
            floats(&self.bias_hh),
        ];
        recurrent::<Self, R>(
            g,
            path,
            inputs,
            "LSTM",
            (I, H, &[0, 3, 1, 2]),
            weights,
            vec![],
        )
    }
}

/// Multi-head self-attention: the four projections as `MatMul` + `Add`, the heads split by
/// `Reshape` and `Transpose`, `softmax(q·kᵀ / √d)·v` as `MatMul`, `Mul`, `Softmax`, `MatMul`.
impl<const M: usize, const H: usize, E: Dtype, D: Device<E>> ToOnnx
    for m::SelfAttention<M, H, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let (s, features) = sequence::<Self>(path, &x)?;
        if features != M || H == 0 || !M.is_multiple_of(H) {
            return Err(error::<Self>(
                path,
                format!(
                    "takes {M} features in {H} heads, its input has shape {:?}",
                    x.shape
                ),
            ));
        }
        let d = M / H;
        let project = |g: &mut OnnxGraph, leaf: &str, l: &m::Linear<M, M, E, D>| {
            l.to_onnx(g, &join(path, leaf), vec![x.clone()])
                .and_then(|v| one::<Self>(path, v))
        };
        let q = project(g, "w_q", &self.w_q)?;
        let k = project(g, "w_k", &self.w_k)?;
        let v = project(g, "w_v", &self.w_v)?;
        let heads = g.ints(
            &named(path, "heads"),
            &[4],
            &[0, s as i64, H as i64, d as i64],
        );
        let split = |g: &mut OnnxGraph, t: &OnnxValue, perm: Vec<i64>| {
            let r = g.node(
                "Reshape",
                &named(path, "Reshape"),
                &[&t.name, &heads],
                vec![],
            );
            g.node(
                "Transpose",
                &named(path, "Transpose"),
                &[&r],
                vec![("perm", Attr::Ints(perm))],
            )
        };
        let q = split(g, &q, vec![0, 2, 1, 3]);
        let k = split(g, &k, vec![0, 2, 3, 1]);
        let v = split(g, &v, vec![0, 2, 1, 3]);
        let scores = g.node("MatMul", &named(path, "MatMul_scores"), &[&q, &k], vec![]);
        let scale = g.weight(&named(path, "scale"), &[], &[1.0 / (d as f32).sqrt()]);
        let scores = g.node("Mul", &named(path, "Mul"), &[&scores, &scale], vec![]);
        let weights = g.node(
            "Softmax",
            &named(path, "Softmax"),
            &[&scores],
            vec![("axis", Attr::Int(-1))],
        );
        let out = g.node(
            "MatMul",
            &named(path, "MatMul_values"),
            &[&weights, &v],
            vec![],
        );
        let out = g.node(
            "Transpose",
            &named(path, "Transpose_out"),
            &[&out],
            vec![("perm", Attr::Ints(vec![0, 2, 1, 3]))],
        );
        let merged = g.ints(&named(path, "merged"), &[3], &[0, s as i64, M as i64]);
        let out = g.node(
            "Reshape",
            &named(path, "Reshape_out"),
            &[&out, &merged],
            vec![],
        );
        let out = OnnxValue {
            name: out,
            shape: vec![s, M],
        };
        self.w_o.to_onnx(g, &join(path, "w_o"), vec![out])
    }
}

/// `norm1(x + attention(x))`, then `norm2(x + ff2(relu(ff1(x))))`.
impl<const M: usize, const H: usize, const F: usize, E: Dtype, D: Device<E>> ToOnnx
    for m::EncoderBlock<M, H, F, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let a = one::<Self>(
            path,
            self.attention
                .to_onnx(g, &join(path, "attention"), vec![x.clone()])?,
        )?;
        let x = add::<Self>(g, path, x, a)?;
        let x = one::<Self>(path, self.norm1.to_onnx(g, &join(path, "norm1"), vec![x])?)?;
        let f = self.ff1.to_onnx(g, &join(path, "ff1"), vec![x.clone()])?;
        let f = m::ReLU.to_onnx(g, &join(path, "relu"), f)?;
        let f = one::<Self>(path, self.ff2.to_onnx(g, &join(path, "ff2"), f)?)?;
        let x = add::<Self>(g, path, x, f)?;
        self.norm2.to_onnx(g, &join(path, "norm2"), vec![x])
    }
}
