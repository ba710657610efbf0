//! Keras-style model summaries: one row per layer with its output shape, parameter count and
//! multiply-adds; the model's cost per sample as constants of its type.

use super::Params;
use crate::type_name::short_type_name;
use dfdx::nn::builders::*;
use dfdx::prelude::{Const, ConstDim, ConstShape, Shape};
use std::fmt;

/// How a layer type transforms a sample shape, and what that costs, for [`summary`]. The output
/// shape is computed by the compiler from the input shape, exactly as in the layer's `Module`
/// impl; the costs are constants of the type for that input:
///
/// ```
/// # use typenet::prelude::*;
/// type LeNet = (
///     (Conv2D<1, 6, 5, 1, 2>, ReLU, MaxPool2D<2, 2>),
///     (Conv2D<6, 16, 5>, ReLU, MaxPool2D<2, 2>),
///     (Flatten2D, Linear<400, 120>, ReLU, Linear<120, 84>, ReLU, Linear<84, 10>),
/// );
/// const MACS: usize = <LeNet as Summarize<Rank3<1, 28, 28>>>::MACS;
/// // A budget checked where the model is declared.
/// const _: () = assert!(MACS < 500_000);
/// assert_eq!(MACS, 416_520);
/// ```
///
/// Implemented for dfdx's layers, typenet's layers and tuples of them; a custom layer implements
/// it (its `Output`, and `MACS` if it multiplies) to appear in summaries.
pub trait Summarize<In: ConstShape>: Params {
    /// The shape of one sample after this layer.
    type Output: ConstShape;
    /// Multiply-adds of one sample through this layer: weights times inputs (a conv's
    /// `OUT_CHAN·H'·W'·IN_CHAN·KERNEL²`, a dense layer's `I·O`); biases, activations,
    /// normalisation and pooling count 0, as in the published counts (VGG-16: 15.5 G).
    const MACS: usize = 0;
    /// Values this layer (and every layer inside it) outputs for one sample: what its forward
    /// pass writes, and roughly what training keeps for the backward pass.
    const ACTIVATIONS: usize = <Self::Output as ConstShape>::NUMEL;

    /// The layer's name in a summary (the type without module paths, by default).
    fn name() -> String {
        short_type_name::<Self>()
    }

    /// Appends this layer's row(s) and returns its output shape.
    fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output {
        let _ = input;
        rows.push(LayerRow::counted::<Self, In>());
        Self::Output::default()
    }
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
    /// Multiply-adds of one sample through the layer ([`Summarize::MACS`]).
    pub macs: usize,
}

impl LayerRow {
    /// The row of layer type `L` with output shape `output` (no multiply-adds).
    pub fn of<L: Params, S: Shape>(output: &S) -> Self {
        LayerRow {
            layer: short_type_name::<L>(),
            output: output.concrete().into(),
            params: L::PARAMS,
            macs: 0,
        }
    }

    /// The row of layer type `L` on input shape `In`: its name, output shape, parameters and
    /// multiply-adds.
    pub fn counted<L: Summarize<In> + ?Sized, In: ConstShape>() -> Self {
        LayerRow {
            layer: L::name(),
            output: L::Output::default().concrete().into(),
            params: L::PARAMS,
            macs: L::MACS,
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
    /// Multiply-adds per sample (`<M as Summarize<In>>::MACS`).
    pub macs: usize,
    /// Values output by all layers per sample (`<M as Summarize<In>>::ACTIVATIONS`).
    pub activations: usize,
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
pub fn summary<M: Summarize<In>, In: ConstShape>() -> Summary {
    let input = In::default();
    let mut rows = Vec::new();
    M::describe(input, &mut rows);
    Summary {
        model: short_type_name::<M>(),
        input: input.concrete().into(),
        rows,
        total: M::PARAMS,
        macs: M::MACS,
        activations: M::ACTIVATIONS,
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

/// `n` in the largest of G, M, k that keeps it at least 1, to one decimal (`15.5 G`).
fn giga(n: usize) -> String {
    let x = n as f64;
    match [("G", 1e9), ("M", 1e6), ("k", 1e3)]
        .iter()
        .find(|(_, u)| x >= *u)
    {
        Some((unit, u)) => format!("{:.1} {unit}", x / u),
        None => n.to_string(),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w0 = self
            .rows
            .iter()
            .map(|r| r.layer.len())
            .max()
            .unwrap_or(0)
            .max(12)
            + 2;
        let shapes: Vec<String> = self.rows.iter().map(|r| shape_text(&r.output)).collect();
        let w1 = shapes.iter().map(String::len).max().unwrap_or(0).max(12) + 2;
        let w2 = 12;
        let w3 = self
            .rows
            .iter()
            .map(|r| thousands(r.macs).len())
            .max()
            .unwrap_or(0)
            .max(12)
            + 2;
        let rule = |c: &str| c.repeat(w0 + w1 + w2 + w3);
        writeln!(f, "Model: \"{}\"", self.model)?;
        writeln!(f, "Input: {}", shape_text(&self.input))?;
        writeln!(f, "{}", rule("─"))?;
        writeln!(
            f,
            "{:<w0$}{:<w1$}{:>w2$}{:>w3$}",
            "Layer (type)", "Output Shape", "Param #", "MACs"
        )?;
        writeln!(f, "{}", rule("═"))?;
        for (r, s) in self.rows.iter().zip(&shapes) {
            writeln!(
                f,
                "{:<w0$}{:<w1$}{:>w2$}{:>w3$}",
                r.layer,
                s,
                thousands(r.params),
                thousands(r.macs)
            )?;
        }
        writeln!(f, "{}", rule("═"))?;
        writeln!(f, "Total params: {}", thousands(self.total))?;
        writeln!(f, "Trainable params: {}", thousands(self.total))?;
        writeln!(
            f,
            "Multiply-adds per sample: {} ({})",
            thousands(self.macs),
            giga(self.macs)
        )?;
        writeln!(f, "Activations per sample: {}", thousands(self.activations))?;
        write!(f, "{}", rule("─"))
    }
}

/// Layers that keep the sample shape (activations, normalisation, dropout).
macro_rules! same_shape {
    ($([$($g:tt)*] $t:ty),* $(,)?) => {$(
        impl<In: ConstShape, $($g)*> Summarize<In> for $t {
            type Output = In;
        }
    )*};
}
same_shape!(
    [] ReLU, [] Sigmoid, [] Tanh, [] FastGeLU, [] AccurateGeLU, [] Softmax, [] LogSoftmax,
    [] Sin, [] Cos, [] Ln, [] Exp, [] Square, [] Sqrt, [] Abs, [] Dropout,
    [const N: usize] DropoutOneIn<N>, [const M: usize] LayerNorm1D<M>,
    [const C: usize] BatchNorm1D<C>, [const C: usize] BatchNorm2D<C>, [const C: usize] Bias2D<C>,
    [E: dfdx::prelude::Dtype] LeakyReLU<E>, [] PReLU, [C: ConstDim] PReLU1D<C>,
);

#[allow(deprecated)]
impl<In: ConstShape> Summarize<In> for GeLU {
    type Output = In;
}

/// A residual block adds its input to its branch's output: the branch's costs and the sum.
impl<In: ConstShape, F: Summarize<In, Output = In>> Summarize<In> for Residual<F> {
    type Output = In;
    const MACS: usize = F::MACS;
    const ACTIVATIONS: usize = F::ACTIVATIONS + In::NUMEL;
}

/// Two branches added: both branches' costs and the sum.
impl<In, F, R> Summarize<In> for GeneralizedResidual<F, R>
where
    In: ConstShape,
    F: Summarize<In>,
    R: Summarize<In, Output = F::Output>,
{
    type Output = F::Output;
    const MACS: usize = F::MACS + R::MACS;
    const ACTIVATIONS: usize = F::ACTIVATIONS + R::ACTIVATIONS + <F::Output as ConstShape>::NUMEL;
}

/// The layer applied `N` times.
impl<In: ConstShape, T: Summarize<In, Output = In>, const N: usize> Summarize<In>
    for Repeated<T, N>
{
    type Output = In;
    const MACS: usize = N * T::MACS;
    const ACTIVATIONS: usize = N * T::ACTIVATIONS;
}

/// A reshape to `S` (same number of values).
/// Nearest-neighbour (or bilinear) resizing to `OH × OW`, channels kept.
impl<C: ConstDim, H: ConstDim, W: ConstDim, const OH: usize, const OW: usize, M>
    Summarize<(C, H, W)> for Upscale2D<OH, OW, M>
where
    M: dfdx::prelude::UpscaleMethod,
{
    type Output = (C, Const<OH>, Const<OW>);
}

impl<In: ConstShape, S: ConstShape> Summarize<In> for Reshape<S> {
    type Output = S;
}

/// A sequence of `S` token ids becomes `S` vectors of `M` (a lookup: no multiply-adds).
impl<const V: usize, const M: usize, S: ConstDim> Summarize<(S,)> for Embedding<V, M> {
    type Output = (S, Const<M>);
}

/// Self-attention over a sequence of `S` tokens of width `M`: the four projections
/// (`S·(2·M·K + 2·M·V)`) and the attention products (`S²·K + S²·V`).
impl<const M: usize, const H: usize, const K: usize, const V: usize, S: ConstDim>
    Summarize<(S, Const<M>)> for MultiHeadAttention<M, H, K, V>
{
    type Output = (S, Const<M>);
    const MACS: usize = S::SIZE * (2 * M * K + 2 * M * V) + S::SIZE * S::SIZE * (K + V);
}

impl<const I: usize, const O: usize> Summarize<(Const<I>,)> for Linear<I, O> {
    type Output = (Const<O>,);
    const MACS: usize = I * O;
}

impl<const I: usize, const O: usize> Summarize<(Const<I>,)> for UnbiasedLinear<I, O> {
    type Output = (Const<O>,);
    const MACS: usize = I * O;
}

macro_rules! tuple_summary {
    ($first:ident $(, $rest:ident)*) => {
        impl<In: ConstShape, $first: Summarize<In>, $($rest: Params,)*> Summarize<In> for ($first, $($rest,)*)
        where
            ($($rest,)*): Summarize<$first::Output>,
        {
            type Output = <($($rest,)*) as Summarize<$first::Output>>::Output;
            const MACS: usize = $first::MACS + <($($rest,)*) as Summarize<$first::Output>>::MACS;
            const ACTIVATIONS: usize =
                $first::ACTIVATIONS + <($($rest,)*) as Summarize<$first::Output>>::ACTIVATIONS;
            fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output {
                let mid = $first::describe(input, rows);
                <($($rest,)*)>::describe(mid, rows)
            }
        }
    };
}

impl<In: ConstShape, A: Summarize<In>> Summarize<In> for (A,) {
    type Output = A::Output;
    const MACS: usize = A::MACS;
    const ACTIVATIONS: usize = A::ACTIVATIONS;
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
        assert_eq!(
            s.rows.iter().map(|r| r.params).collect::<Vec<_>>(),
            [100_480, 0, 1_290]
        );
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
