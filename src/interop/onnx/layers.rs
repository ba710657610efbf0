//! [`ToOnnx`] for typenet's and dfdx's layers, tuples and combinators.

use super::graph::{Attr, OnnxGraph, OnnxValue};
use super::ToOnnx;
use crate::nn::modules as m;
use crate::nn::{
    AvgPool2D, AvgPool2DBy, ExactGeLU, Flatten2D, Flatten2DBy, MaxPool2D, MaxPool2DBy,
};
use crate::{Error, Result};
use dfdx::prelude::{Device, Dtype, Shape, Tensor};

/// `path.child`, or `child` at the top.
pub(super) fn join(path: &str, child: impl std::fmt::Display) -> String {
    if path.is_empty() {
        child.to_string()
    } else {
        format!("{path}.{child}")
    }
}

/// A node or weight name under `path`: `path.leaf`, or `leaf` at the top.
pub(super) fn named(path: &str, leaf: &str) -> String {
    join(path, leaf)
}

pub(super) fn error<L: ?Sized>(path: &str, reason: String) -> Error {
    let name = crate::type_name::short_type_name::<L>();
    Error::Onnx {
        layer: if path.is_empty() {
            name
        } else {
            format!("{path} ({name})")
        },
        reason,
    }
}

/// The one input of a layer that takes one.
pub(super) fn one<L: ?Sized>(path: &str, mut inputs: Vec<OnnxValue>) -> Result<OnnxValue> {
    if inputs.len() != 1 {
        return Err(error::<L>(
            path,
            format!("takes one input, was given {}", inputs.len()),
        ));
    }
    Ok(inputs.remove(0))
}

/// A tensor's values as `f32`.
pub(super) fn floats<S: Shape, E: Dtype, D: Device<E>>(t: &Tensor<S, E, D>) -> Vec<f32> {
    t.as_vec()
        .iter()
        .map(|v| v.to_f32().unwrap_or(f32::NAN))
        .collect()
}

/// A layer that keeps the shape and is one operator with fixed attributes.
macro_rules! elementwise {
    ($($ty:ty => $op:literal [$($key:literal = $val:expr),*]),* $(,)?) => {$(
        impl ToOnnx for $ty {
            fn to_onnx(&self, g: &mut OnnxGraph, path: &str, inputs: Vec<OnnxValue>) -> Result<Vec<OnnxValue>> {
                let x = one::<Self>(path, inputs)?;
                let name = g.node($op, &named(path, $op), &[&x.name], vec![$(($key, $val)),*]);
                Ok(vec![OnnxValue { name, shape: x.shape }])
            }
        }
    )*};
}

elementwise!(
    m::ReLU => "Relu" [],
    m::Sigmoid => "Sigmoid" [],
    m::Tanh => "Tanh" [],
    m::Sin => "Sin" [],
    m::Cos => "Cos" [],
    m::Ln => "Log" [],
    m::Exp => "Exp" [],
    m::Sqrt => "Sqrt" [],
    m::Abs => "Abs" [],
    m::FastGeLU => "Gelu" ["approximate" = Attr::Str("tanh".into())],
    m::AccurateGeLU => "Gelu" [],
    ExactGeLU => "Gelu" [],
    m::Softmax => "Softmax" ["axis" = Attr::Int(-1)],
    m::LogSoftmax => "LogSoftmax" ["axis" = Attr::Int(-1)],
    m::Dropout => "Identity" [],
);

impl<const N: usize> ToOnnx for m::DropoutOneIn<N> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        m::Dropout::default().to_onnx(g, path, inputs)
    }
}

impl ToOnnx for m::Square {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let name = g.node("Mul", &named(path, "Square"), &[&x.name, &x.name], vec![]);
        Ok(vec![OnnxValue {
            name,
            shape: x.shape,
        }])
    }
}

impl<E: Dtype> ToOnnx for m::LeakyReLU<E> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let alpha = self.0.to_f32().unwrap_or(f32::NAN);
        let name = g.node(
            "LeakyRelu",
            &named(path, "LeakyRelu"),
            &[&x.name],
            vec![("alpha", Attr::Float(alpha))],
        );
        Ok(vec![OnnxValue {
            name,
            shape: x.shape,
        }])
    }
}

/// `y = x · Wᵀ + b` on the last axis: `Gemm` for a batch of vectors, `MatMul` and `Add` for
/// higher ranks.
pub(super) fn dense<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
    (o, i): (usize, usize),
    weight: Vec<f32>,
    bias: Vec<f32>,
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    if x.shape.last() != Some(&i) {
        return Err(error::<L>(
            path,
            format!("takes {i} features, its input has shape {:?}", x.shape),
        ));
    }
    let b = g.weight(&named(path, "bias"), &[o], &bias);
    let mut shape = x.shape.clone();
    *shape.last_mut().expect("checked above") = o;
    let name = if x.shape.len() == 1 {
        let w = g.weight(&named(path, "weight"), &[o, i], &weight);
        g.node(
            "Gemm",
            &named(path, "Gemm"),
            &[&x.name, &w, &b],
            vec![("transB", Attr::Int(1))],
        )
    } else {
        let mut wt = vec![0.0; weight.len()];
        for r in 0..o {
            for c in 0..i {
                wt[c * o + r] = weight[r * i + c];
            }
        }
        let w = g.weight(&named(path, "weight_t"), &[i, o], &wt);
        let xw = g.node("MatMul", &named(path, "MatMul"), &[&x.name, &w], vec![]);
        g.node("Add", &named(path, "Add"), &[&xw, &b], vec![])
    };
    Ok(vec![OnnxValue { name, shape }])
}

impl<const I: usize, const O: usize, E: Dtype, D: Device<E>> ToOnnx for m::Linear<I, O, E, D> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        dense::<Self>(
            g,
            path,
            inputs,
            (O, I),
            floats(&self.weight),
            floats(&self.bias),
        )
    }
}

impl<const I: usize, const O: usize, E: Dtype, D: Device<E>> ToOnnx
    for dfdx::nn::modules::Linear<I, O, E, D>
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        dense::<Self>(
            g,
            path,
            inputs,
            (O, I),
            floats(&self.weight),
            floats(&self.bias),
        )
    }
}

/// The `(C, H, W)` of a feature-map input.
fn plane<L: ?Sized>(path: &str, x: &OnnxValue) -> Result<(usize, usize, usize)> {
    match x.shape[..] {
        [c, h, w] => Ok((c, h, w)),
        _ => Err(error::<L>(
            path,
            format!("takes (C, H, W) samples, its input has shape {:?}", x.shape),
        )),
    }
}

/// A window's output size, `(n + 2p − k) / s + 1`.
fn window<L: ?Sized>(path: &str, n: usize, k: usize, s: usize, p: usize) -> Result<usize> {
    (n + 2 * p)
        .checked_sub(k)
        .map(|d| d / s.max(1) + 1)
        .ok_or_else(|| error::<L>(path, format!("a window of {k} does not fit {n} + 2·{p}")))
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D, R> ToOnnx
    for m::Conv2D<I, O, K, S, P, E, D, R>
where
    E: Dtype,
    D: Device<E>,
{
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let (c, h, w) = plane::<Self>(path, &x)?;
        if c != I {
            return Err(error::<Self>(
                path,
                format!("takes {I} channels, its input has {c}"),
            ));
        }
        let shape = vec![
            O,
            window::<Self>(path, h, K, S, P)?,
            window::<Self>(path, w, K, S, P)?,
        ];
        let wt = g.weight(&named(path, "weight"), &[O, I, K, K], &floats(&self.weight));
        let b = g.weight(&named(path, "bias"), &[O], &floats(&self.bias));
        let name = g.node(
            "Conv",
            &named(path, "Conv"),
            &[&x.name, &wt, &b],
            vec![
                ("kernel_shape", Attr::Ints(vec![K as i64; 2])),
                ("strides", Attr::Ints(vec![S as i64; 2])),
                ("pads", Attr::Ints(vec![P as i64; 4])),
            ],
        );
        Ok(vec![OnnxValue { name, shape }])
    }
}

/// A `K`×`K` pool with stride `S` and padding `P` (padding never wins a max, and counts as zeros
/// in a mean, as typenet's pools do).
fn pool<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
    max: bool,
    (k, s, p): (usize, usize, usize),
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    let (c, h, w) = plane::<L>(path, &x)?;
    let shape = vec![
        c,
        window::<L>(path, h, k, s, p)?,
        window::<L>(path, w, k, s, p)?,
    ];
    let mut attrs = vec![
        ("kernel_shape", Attr::Ints(vec![k as i64; 2])),
        ("strides", Attr::Ints(vec![s as i64; 2])),
        ("pads", Attr::Ints(vec![p as i64; 4])),
    ];
    let op = if max {
        "MaxPool"
    } else {
        attrs.push(("count_include_pad", Attr::Int(1)));
        "AveragePool"
    };
    let name = g.node(op, &named(path, op), &[&x.name], attrs);
    Ok(vec![OnnxValue { name, shape }])
}

macro_rules! pools {
    ($($ty:ident [$($r:ident)?] $max:expr),*) => {$(
        impl<const K: usize, const S: usize, const P: usize $(, $r)?> ToOnnx for $ty<K, S, P $(, $r)?> {
            fn to_onnx(&self, g: &mut OnnxGraph, path: &str, inputs: Vec<OnnxValue>) -> Result<Vec<OnnxValue>> {
                pool::<Self>(g, path, inputs, $max, (K, S, P))
            }
        }
    )*};
}
pools!(MaxPool2D [] true, MaxPool2DBy [R] true, AvgPool2D [] false, AvgPool2DBy [R] false);

/// `(C, H, W) → (C·H·W,)`.
fn flatten<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    let (c, h, w) = plane::<L>(path, &x)?;
    let name = g.node(
        "Flatten",
        &named(path, "Flatten"),
        &[&x.name],
        vec![("axis", Attr::Int(1))],
    );
    Ok(vec![OnnxValue {
        name,
        shape: vec![c * h * w],
    }])
}

impl ToOnnx for Flatten2D {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        flatten::<Self>(g, path, inputs)
    }
}

impl<R> ToOnnx for Flatten2DBy<R> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        flatten::<Self>(g, path, inputs)
    }
}

/// `(C, H, W) → (C,)`: a global pool, then `Flatten`.
fn global<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    inputs: Vec<OnnxValue>,
    op: &str,
) -> Result<Vec<OnnxValue>> {
    let x = one::<L>(path, inputs)?;
    let (c, _, _) = plane::<L>(path, &x)?;
    let pooled = g.node(op, &named(path, op), &[&x.name], vec![]);
    let name = g.node(
        "Flatten",
        &named(path, "Flatten"),
        &[&pooled],
        vec![("axis", Attr::Int(1))],
    );
    Ok(vec![OnnxValue {
        name,
        shape: vec![c],
    }])
}

impl ToOnnx for m::AvgPoolGlobal {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        global::<Self>(g, path, inputs, "GlobalAveragePool")
    }
}

impl ToOnnx for m::MaxPoolGlobal {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        global::<Self>(g, path, inputs, "GlobalMaxPool")
    }
}

/// Batch norm in inference form: the running statistics.
fn batch_norm<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    x: OnnxValue,
    c: usize,
    [scale, bias, mean, var]: [Vec<f32>; 4],
    epsilon: f64,
) -> Result<Vec<OnnxValue>> {
    if x.shape.first() != Some(&c) {
        return Err(error::<L>(
            path,
            format!("normalises {c} channels, its input has shape {:?}", x.shape),
        ));
    }
    let s = g.weight(&named(path, "weight"), &[c], &scale);
    let b = g.weight(&named(path, "bias"), &[c], &bias);
    let mean = g.weight(&named(path, "running_mean"), &[c], &mean);
    let var = g.weight(&named(path, "running_var"), &[c], &var);
    let name = g.node(
        "BatchNormalization",
        &named(path, "BatchNormalization"),
        &[&x.name, &s, &b, &mean, &var],
        vec![("epsilon", Attr::Float(epsilon as f32))],
    );
    Ok(vec![OnnxValue {
        name,
        shape: x.shape,
    }])
}

impl<const C: usize, E: Dtype, D: Device<E>> ToOnnx for m::BatchNorm2D<C, E, D> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        plane::<Self>(path, &x)?;
        let stats = [
            floats(&self.scale),
            floats(&self.bias),
            floats(&self.running_mean),
            floats(&self.running_var),
        ];
        batch_norm::<Self>(g, path, x, C, stats, self.epsilon)
    }
}

impl<const C: usize, E: Dtype, D: Device<E>> ToOnnx for m::BatchNorm1D<C, E, D> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        if x.shape.len() != 1 {
            return Err(error::<Self>(
                path,
                format!(
                    "exports for (C,) samples, its input has shape {:?}",
                    x.shape
                ),
            ));
        }
        let stats = [
            floats(&self.scale),
            floats(&self.bias),
            floats(&self.running_mean),
            floats(&self.running_var),
        ];
        batch_norm::<Self>(g, path, x, C, stats, self.epsilon)
    }
}

impl<const M: usize, E: Dtype, D: Device<E>> ToOnnx for m::LayerNorm1D<M, E, D> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        if x.shape.last() != Some(&M) {
            return Err(error::<Self>(
                path,
                format!("normalises {M} features, its input has shape {:?}", x.shape),
            ));
        }
        let s = g.weight(&named(path, "weight"), &[M], &floats(&self.gamma));
        let b = g.weight(&named(path, "bias"), &[M], &floats(&self.beta));
        let name = g.node(
            "LayerNormalization",
            &named(path, "LayerNormalization"),
            &[&x.name, &s, &b],
            vec![
                ("axis", Attr::Int(-1)),
                ("epsilon", Attr::Float(self.epsilon as f32)),
            ],
        );
        Ok(vec![OnnxValue {
            name,
            shape: x.shape,
        }])
    }
}

/// `a + b` of two values of one shape.
pub(super) fn add<L: ?Sized>(
    g: &mut OnnxGraph,
    path: &str,
    a: OnnxValue,
    b: OnnxValue,
) -> Result<OnnxValue> {
    if a.shape != b.shape {
        return Err(error::<L>(
            path,
            format!("adds values of shapes {:?} and {:?}", a.shape, b.shape),
        ));
    }
    let name = g.node("Add", &named(path, "Add"), &[&a.name, &b.name], vec![]);
    Ok(OnnxValue {
        name,
        shape: a.shape,
    })
}

impl<F: ToOnnx> ToOnnx for m::Residual<F> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let f = one::<Self>(path, self.0.to_onnx(g, &join(path, 0), vec![x.clone()])?)?;
        Ok(vec![add::<Self>(g, path, x, f)?])
    }
}

impl<F: ToOnnx, R: ToOnnx> ToOnnx for m::GeneralizedResidual<F, R> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        let x = one::<Self>(path, inputs)?;
        let f = one::<Self>(path, self.f.to_onnx(g, &join(path, "f"), vec![x.clone()])?)?;
        let r = one::<Self>(path, self.r.to_onnx(g, &join(path, "r"), vec![x])?)?;
        Ok(vec![add::<Self>(g, path, f, r)?])
    }
}

impl<T: ToOnnx, const N: usize> ToOnnx for m::Repeated<T, N> {
    fn to_onnx(
        &self,
        g: &mut OnnxGraph,
        path: &str,
        mut inputs: Vec<OnnxValue>,
    ) -> Result<Vec<OnnxValue>> {
        for (i, layer) in self.modules.iter().enumerate() {
            inputs = layer.to_onnx(g, &join(path, i), inputs)?;
        }
        Ok(inputs)
    }
}

macro_rules! tuples {
    ($($idx:tt $t:ident),+) => {
        /// The layers in order.
        impl<$($t: ToOnnx),+> ToOnnx for ($($t,)+) {
            fn to_onnx(&self, g: &mut OnnxGraph, path: &str, inputs: Vec<OnnxValue>) -> Result<Vec<OnnxValue>> {
                let x = inputs;
                $(let x = self.$idx.to_onnx(g, &join(path, $idx), x)?;)+
                Ok(x)
            }
        }

        /// Every branch on the one input; their outputs, in order.
        impl<$($t: ToOnnx),+> ToOnnx for m::SplitInto<($($t,)+)> {
            fn to_onnx(&self, g: &mut OnnxGraph, path: &str, inputs: Vec<OnnxValue>) -> Result<Vec<OnnxValue>> {
                let x = one::<Self>(path, inputs)?;
                let mut out = Vec::new();
                $(out.extend(self.0.$idx.to_onnx(g, &join(path, format!("0.{}", $idx)), vec![x.clone()])?);)+
                Ok(out)
            }
        }

        /// Branch `i` on input `i`; the sum of their outputs, `a + (b + (c + …))` as dfdx adds
        /// them (the same roundings).
        impl<$($t: ToOnnx),+> ToOnnx for m::AddInto<($($t,)+)> {
            fn to_onnx(&self, g: &mut OnnxGraph, path: &str, inputs: Vec<OnnxValue>) -> Result<Vec<OnnxValue>> {
                let n = [$($idx),+].len();
                if inputs.len() != n {
                    return Err(error::<Self>(path, format!("takes {n} inputs, was given {}", inputs.len())));
                }
                let mut inputs = inputs.into_iter();
                let mut ys = Vec::with_capacity(n);
                $(
                    let input = inputs.next().expect("counted above");
                    ys.push(one::<Self>(path, self.0.$idx.to_onnx(g, &join(path, format!("0.{}", $idx)), vec![input])?)?);
                )+
                let mut sum = ys.pop();
                while let Some(y) = ys.pop() {
                    sum = Some(add::<Self>(g, path, y, sum.expect("one or more branches"))?);
                }
                Ok(sum.into_iter().collect())
            }
        }
    };
}
tuples!(0 A);
tuples!(0 A, 1 B);
tuples!(0 A, 1 B, 2 C);
tuples!(0 A, 1 B, 2 C, 3 D);
tuples!(0 A, 1 B, 2 C, 3 D, 4 E);
tuples!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
