//! Keras-style model summaries: one row per layer with its output shape and parameter count.

use super::Params;
use dfdx::nn::builders::*;
use dfdx::prelude::{Const, Shape};
use std::fmt;

/// How a layer type transforms a sample shape, for [`summary`]. The output shape is computed by
/// the compiler from the input shape, exactly as in the layer's `Module` impl.
///
/// Implemented for dfdx's layers, typenet's layers and tuples of them; a custom layer implements
/// it to appear in summaries.
pub trait Summarize<In: Shape>: Params {
    /// The shape of one sample after this layer.
    type Output: Shape;
    /// Appends this layer's row(s) and returns its output shape.
    fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output;
}

/// One line of a [`Summary`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    /// The layer's type, without module paths (e.g. `Linear<784, 128>`).
    pub layer: String,
    /// Output shape of one sample (the batch dimension is not shown).
    pub output: Vec<usize>,
    /// Trainable parameters of the layer.
    pub params: usize,
}

impl LayerRow {
    /// The row of layer type `L` with output shape `output`.
    pub fn of<L: Params, S: Shape>(output: &S) -> Self {
        LayerRow {
            layer: short_type_name::<L>(),
            output: output.concrete().into(),
            params: L::PARAMS,
        }
    }
}

/// A model's layers, output shapes and parameter counts, printed like Keras's `model.summary()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The model type, without module paths.
    pub model: String,
    /// Input shape of one sample.
    pub input: Vec<usize>,
    /// One row per layer (nested tuples are flattened).
    pub rows: Vec<LayerRow>,
    /// Total trainable parameters (`<M as Params>::PARAMS`).
    pub total: usize,
}

/// The summary of model type `M` applied to samples of shape `In`.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
/// let s = summary::<Mlp, Rank1<784>>();
/// assert_eq!(s.total, 101_770);
/// assert_eq!(s.rows[2].output, vec![10]);
/// println!("{s}");
/// ```
///
/// **Keras equivalent**: `model.summary()`.
pub fn summary<M: Summarize<In>, In: Shape + Default>() -> Summary {
    let input = In::default();
    let mut rows = Vec::new();
    M::describe(input, &mut rows);
    Summary {
        model: short_type_name::<M>(),
        input: input.concrete().into(),
        rows,
        total: M::PARAMS,
    }
}

fn shape_text(dims: &[usize]) -> String {
    let inner: Vec<String> = std::iter::once("None".to_string())
        .chain(dims.iter().map(|d| d.to_string()))
        .collect();
    format!("({})", inner.join(", "))
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w0 = self.rows.iter().map(|r| r.layer.len()).max().unwrap_or(0).max(12) + 2;
        let shapes: Vec<String> = self.rows.iter().map(|r| shape_text(&r.output)).collect();
        let w1 = shapes.iter().map(String::len).max().unwrap_or(0).max(12) + 2;
        let w2 = 12;
        let rule = |c: &str| c.repeat(w0 + w1 + w2);
        writeln!(f, "Model: \"{}\"", self.model)?;
        writeln!(f, "Input: {}", shape_text(&self.input))?;
        writeln!(f, "{}", rule("─"))?;
        writeln!(f, "{:<w0$}{:<w1$}{:>w2$}", "Layer (type)", "Output Shape", "Param #")?;
        writeln!(f, "{}", rule("═"))?;
        for (r, s) in self.rows.iter().zip(&shapes) {
            writeln!(f, "{:<w0$}{:<w1$}{:>w2$}", r.layer, s, thousands(r.params))?;
        }
        writeln!(f, "{}", rule("═"))?;
        writeln!(f, "Total params: {}", thousands(self.total))?;
        writeln!(f, "Trainable params: {}", thousands(self.total))?;
        write!(f, "{}", rule("─"))
    }
}

/// `std::any::type_name` without module paths: `dfdx::nn::linear::builder::Linear<2, 3>` →
/// `Linear<2, 3>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut token = String::new();
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            token.clear();
        } else if c.is_alphanumeric() || c == '_' {
            token.push(c);
        } else {
            out.push_str(&token);
            token.clear();
            out.push(c);
        }
    }
    out.push_str(&token);
    out
}

/// Layers that keep the sample shape (activations, normalisation, dropout).
macro_rules! same_shape {
    ($([$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<In: Shape, $($g)*> Summarize<In> for $t {
            type Output = In;
            fn describe(input: In, rows: &mut Vec<LayerRow>) -> In {
                rows.push(LayerRow::of::<Self, In>(&input));
                input
            }
        }
    )*};
}
same_shape!(
    [] ReLU, [] Sigmoid, [] Tanh, [] FastGeLU, [] AccurateGeLU, [] Softmax, [] LogSoftmax,
    [] Sin, [] Cos, [] Ln, [] Exp, [] Square, [] Sqrt, [] Abs, [] Dropout,
    [const N: usize] DropoutOneIn<N>, [const M: usize] LayerNorm1D<M>,
    [const C: usize] BatchNorm1D<C>, [const C: usize] BatchNorm2D<C>, [const C: usize] Bias2D<C>,
);

#[allow(deprecated)]
impl<In: Shape> Summarize<In> for GeLU {
    type Output = In;
    fn describe(input: In, rows: &mut Vec<LayerRow>) -> In {
        rows.push(LayerRow::of::<Self, In>(&input));
        input
    }
}

impl<In: Shape, F: Summarize<In, Output = In>> Summarize<In> for Residual<F> {
    type Output = In;
    fn describe(input: In, rows: &mut Vec<LayerRow>) -> In {
        rows.push(LayerRow::of::<Self, In>(&input));
        input
    }
}

impl<const I: usize, const O: usize> Summarize<(Const<I>,)> for Linear<I, O> {
    type Output = (Const<O>,);
    fn describe(_: (Const<I>,), rows: &mut Vec<LayerRow>) -> Self::Output {
        let out = (Const,);
        rows.push(LayerRow::of::<Self, _>(&out));
        out
    }
}

impl<const I: usize, const O: usize> Summarize<(Const<I>,)> for UnbiasedLinear<I, O> {
    type Output = (Const<O>,);
    fn describe(_: (Const<I>,), rows: &mut Vec<LayerRow>) -> Self::Output {
        let out = (Const,);
        rows.push(LayerRow::of::<Self, _>(&out));
        out
    }
}

macro_rules! tuple_summary {
    ($first:ident $(, $rest:ident)*) => {
        impl<In: Shape, $first: Summarize<In>, $($rest: Params,)*> Summarize<In> for ($first, $($rest,)*)
        where
            ($($rest,)*): Summarize<$first::Output>,
        {
            type Output = <($($rest,)*) as Summarize<$first::Output>>::Output;
            fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output {
                let mid = $first::describe(input, rows);
                <($($rest,)*)>::describe(mid, rows)
            }
        }
    };
}

impl<In: Shape, A: Summarize<In>> Summarize<In> for (A,) {
    type Output = A::Output;
    fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output {
        A::describe(input, rows)
    }
}
tuple_summary!(A, B);
tuple_summary!(A, B, C);
tuple_summary!(A, B, C, D);
tuple_summary!(A, B, C, D, E);
tuple_summary!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::prelude::Rank1;

    #[test]
    fn mlp_summary_matches_keras() {
        type Mlp = (Linear<784, 128>, ReLU, Linear<128, 10>);
        let s = summary::<Mlp, Rank1<784>>();
        let names: Vec<&str> = s.rows.iter().map(|r| r.layer.as_str()).collect();
        assert_eq!(names, ["Linear<784, 128>", "ReLU", "Linear<128, 10>"]);
        // Keras's summary of Dense(128), Dense(10) on 784 inputs: 100,480 + 1,290 = 101,770.
        assert_eq!(s.rows.iter().map(|r| r.params).collect::<Vec<_>>(), [100_480, 0, 1_290]);
        let text = s.to_string();
        assert!(text.contains("Total params: 101,770"), "{text}");
        assert!(text.contains("(None, 128)"), "{text}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
