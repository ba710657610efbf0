//! Recurrent layers: [`Gru`] and [`Lstm`], PyTorch's gate equations, weight layout and
//! initialisation. Both project the input of every step at once, then run one matrix product
//! and the gate ops per step: the GRU through its device's kernel
//! ([`LayerKernels::try_gru_sequence`]: on the CPU a fused recurrence with a hand-written
//! backward pass, elsewhere dfdx ops), the LSTM as dfdx tensor ops on the tape.
//!
//! A layer maps a sequence `(B, S, I)` to its last hidden state `(B, H)` ([`LastStep`], the
//! default) or to every step's hidden state `(B, S, H)` ([`AllSteps`]), so layers stack as
//! tuple elements: `(Gru<8, 32, AllSteps>, Gru<32, 32>)` is a two-layer GRU.
//!
//! Weights are stored gate by gate, `weight_ih` of shape `(G, H, I)`, `weight_hh` `(G, H, H)`,
//! `bias_ih` and `bias_hh` `(G, H)` with `G` gates (GRU: reset, update, new; LSTM: input,
//! forget, cell, output): in memory exactly PyTorch's `weight_ih_l0` `(G·H, I)` and the rest,
//! so weights copy over one to one.

use super::device::{LayerKernels, SizeError};
use super::init::uniform_fan_in;
use super::summary::Summarize;
use super::Params;
use dfdx::prelude::*;
use std::marker::PhantomData;

/// Which hidden states a recurrent layer returns: [`LastStep`] or [`AllSteps`].
pub trait Steps: 'static + Copy + Default + Send + Sync + std::fmt::Debug {}

/// Return the hidden state after the last step: `(B, S, I) → (B, H)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LastStep;

/// Return the hidden state after every step: `(B, S, I) → (B, S, H)` (for stacking, or a
/// per-token head).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AllSteps;

impl Steps for LastStep {}
impl Steps for AllSteps {}

/// The builder types (what model type aliases name).
pub mod builder {
    use super::{LastStep, PhantomData};

    /// A gated recurrent unit from `I` input features to `H` hidden features, returning the last
    /// hidden state ([`LastStep`], the default) or all of them ([`AllSteps`](super::AllSteps)).
    ///
    /// Per step, with PyTorch's equations (gates reset `r`, update `z`, new `n`):
    /// ```text
    /// r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
    /// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))      h' = (1 − z) ⊙ n + z ⊙ h
    /// ```
    /// from `h = 0`. Every weight and bias starts uniform in `±1/√H`, as PyTorch's.
    ///
    /// ```
    /// # use typenet::prelude::*;
    /// type Stacked = (Gru<3, 8, AllSteps>, Gru<8, 8>);
    /// const _: () = assert!(<Gru<3, 8> as Params>::PARAMS == 3 * 8 * (3 + 8) + 6 * 8);
    /// let dev = Cpu::seed_from_u64(0);
    /// let m = dev.build_module::<Stacked, f32>();
    /// let x = dev.zeros_like(&(4, Const::<5>, Const::<3>));
    /// let last: Tensor<(usize, Const<8>), f32, _> = m.forward(x);
    /// ```
    ///
    /// **PyTorch equivalent**: `nn.GRU(I, H, batch_first=True)` (its output's last step, or
    /// the whole output with `AllSteps`).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Gru<const I: usize, const H: usize, R = LastStep>(PhantomData<R>);

    /// A long short-term memory layer from `I` input features to `H` hidden features,
    /// returning the last hidden state ([`LastStep`], the default) or all of them
    /// ([`AllSteps`](super::AllSteps)).
    ///
    /// Per step, with PyTorch's equations (gates input `i`, forget `f`, cell `g`, output `o`):
    /// ```text
    /// i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(W_if x + b_if + W_hf h + b_hf)
    /// g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
    /// c' = f ⊙ c + i ⊙ g      h' = o ⊙ tanh(c')
    /// ```
    /// from `h = c = 0`. Every weight and bias starts uniform in `±1/√H`, as PyTorch's.
    ///
    /// **PyTorch equivalent**: `nn.LSTM(I, H, batch_first=True)`.
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Lstm<const I: usize, const H: usize, R = LastStep>(PhantomData<R>);
}

macro_rules! recurrent_layer {
    ($name:ident, $gates:literal) => {
        /// A built recurrent layer (see the builder of the same name).
        #[derive(Debug, Clone)]
        pub struct $name<const I: usize, const H: usize, R, E: Dtype, D: Storage<E>> {
            /// Input-to-hidden weights, gate by gate: `(G, H, I)`, PyTorch's `weight_ih_l0`.
            pub weight_ih: Tensor<Rank3<$gates, H, I>, E, D>,
            /// Hidden-to-hidden weights, gate by gate: `(G, H, H)`, PyTorch's `weight_hh_l0`.
            pub weight_hh: Tensor<Rank3<$gates, H, H>, E, D>,
            /// Input-to-hidden biases: `(G, H)`, PyTorch's `bias_ih_l0`.
            pub bias_ih: Tensor<Rank2<$gates, H>, E, D>,
            /// Hidden-to-hidden biases: `(G, H)`, PyTorch's `bias_hh_l0`.
            pub bias_hh: Tensor<Rank2<$gates, H>, E, D>,
            /// Which states the layer returns.
            pub steps: PhantomData<R>,
        }

        impl<const I: usize, const H: usize, R: Steps, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
            for builder::$name<I, H, R>
        where
            $name<I, H, R, E, D>: BuildModule<D, E>,
        {
            type Built = $name<I, H, R, E, D>;
            fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
                Self::Built::try_build(device)
            }
        }

        impl<const I: usize, const H: usize, R: Steps, E, D> TensorCollection<E, D>
            for $name<I, H, R, E, D>
        where
            E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
            D: Device<E>,
        {
            type To<E2: Dtype, D2: Device<E2>> = $name<I, H, R, E2, D2>;

            fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
                visitor: &mut V,
            ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
                visitor.visit_fields(
                    (
                        Self::tensor(
                            "weight_ih",
                            |s| &s.weight_ih,
                            |s| &mut s.weight_ih,
                            uniform_fan_in::<H, 1, _, _, _>(),
                        ),
                        Self::tensor(
                            "weight_hh",
                            |s| &s.weight_hh,
                            |s| &mut s.weight_hh,
                            uniform_fan_in::<H, 1, _, _, _>(),
                        ),
                        Self::tensor(
                            "bias_ih",
                            |s| &s.bias_ih,
                            |s| &mut s.bias_ih,
                            uniform_fan_in::<H, 1, _, _, _>(),
                        ),
                        Self::tensor(
                            "bias_hh",
                            |s| &s.bias_hh,
                            |s| &mut s.bias_hh,
                            uniform_fan_in::<H, 1, _, _, _>(),
                        ),
                    ),
                    |(weight_ih, weight_hh, bias_ih, bias_hh)| $name {
                        weight_ih,
                        weight_hh,
                        bias_ih,
                        bias_hh,
                        steps: PhantomData,
                    },
                )
            }
        }

        impl<const I: usize, const H: usize, R, E: Dtype, D: Storage<E>> NonMutableModule
            for $name<I, H, R, E, D>
        {
        }

        impl<const I: usize, const H: usize, B, S, E, D, T>
            Module<Tensor<(B, S, Const<I>), E, D, T>> for $name<I, H, LastStep, E, D>
        where
            B: Dim,
            S: Dim,
            E: Dtype,
            D: LayerKernels<E>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(B, Const<H>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, S, Const<I>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                self.last_state(x)
            }
        }

        impl<const I: usize, const H: usize, B, S, E, D, T>
            Module<Tensor<(B, S, Const<I>), E, D, T>> for $name<I, H, AllSteps, E, D>
        where
            B: Dim,
            S: Dim,
            E: Dtype,
            D: LayerKernels<E>,
            T: Tape<E, D>,
        {
            type Output = Tensor<(B, S, Const<H>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, S, Const<I>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                self.all_states(x)
            }
        }

        impl<const I: usize, const H: usize, R: Steps> Params for builder::$name<I, H, R> {
            const PARAMS: usize = $gates * H * (I + H) + 2 * $gates * H;
        }

        /// The last hidden state of a sequence of `S` steps; `G·H·(I + H)` multiply-adds a step.
        impl<const I: usize, const H: usize, S: ConstDim> Summarize<(S, Const<I>)>
            for builder::$name<I, H, LastStep>
        {
            type Output = (Const<H>,);
            const MACS: usize = S::SIZE * $gates * H * (I + H);
            const ACTIVATIONS: usize = S::SIZE * ($gates + 2) * H;
        }

        /// Every hidden state of a sequence of `S` steps; `G·H·(I + H)` multiply-adds a step.
        impl<const I: usize, const H: usize, S: ConstDim> Summarize<(S, Const<I>)>
            for builder::$name<I, H, AllSteps>
        {
            type Output = (S, Const<H>);
            const MACS: usize = S::SIZE * $gates * H * (I + H);
            const ACTIVATIONS: usize = S::SIZE * ($gates + 2) * H;
        }
    };
}

recurrent_layer!(Gru, 3);
recurrent_layer!(Lstm, 4);

/// Every step's state `(B, S, H)` from the copies `states` (in step order), holding the tape
/// of the last state `last`.
#[allow(clippy::type_complexity)]
fn stack_states<const H: usize, B, S, E, D, T>(
    last: Tensor<(B, Const<H>), E, D, T>,
    states: Vec<Tensor<(B, Const<H>), E, D, T>>,
    (b, s): (B, S),
) -> Result<Tensor<(B, S, Const<H>), E, D, T>, D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    let (_, tape) = last.split_tape();
    let all = states
        .try_stack()?
        .try_permute::<_, Axes3<1, 0, 2>>()?
        .try_reshape_like(&(b, s, Const::<H>))?;
    let (all, all_tape) = all.split_tape();
    Ok(all.put_tape(all_tape.merge(tape)))
}

/// The input projections of every step at once: `x · W_ihᵀ + b_ih` as `(B, S, G·H)`, with the
/// tape of `x`.
#[allow(clippy::type_complexity)]
fn project<const I: usize, const G: usize, const H: usize, B, S, E, D, T>(
    x: Tensor<(B, S, Const<I>), E, D, T>,
    weight: &Tensor<Rank3<G, H, I>, E, D>,
    bias: &Tensor<Rank2<G, H>, E, D>,
) -> Result<Tensor<(B, S, usize), E, D, T>, D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    let (b, s, _) = *x.shape();
    let n = b.size() * s.size();
    let gh = G * H;
    // x may be a strided view; reshape copies it then
    let x = x.try_reshape_like(&(n, Const::<I>))?;
    let w = weight
        .retaped::<T>()
        .try_reshape_like(&(gh, Const::<I>))?
        .try_permute::<_, Axes2<1, 0>>()?;
    let bias = bias
        .retaped::<T>()
        .try_reshape_like(&(gh,))?
        .try_broadcast_like::<_, Axis<0>>(&(n, gh))?;
    x.try_matmul(w)?
        .try_add(bias)?
        .try_reshape_like(&(b, s, gh))
}

/// Columns `g·H .. (g+1)·H` of a `(B, G·H)` tensor: gate `g`.
#[allow(clippy::type_complexity)]
fn gate<const H: usize, B: Dim, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    t: Tensor<(B, usize), E, D, T>,
    g: usize,
) -> Result<Tensor<(B, Const<H>), E, D, T>, D::Err> {
    let b = t.shape().0;
    t.try_slice((.., g * H..(g + 1) * H))?
        .try_reshape_like(&(b, Const::<H>))
}

/// What each step needs: the step's input projections, and `W_hhᵀ` and `b_hh` as views.
struct Steps3<B: Dim, const H: usize, E: Dtype, D: Device<E>> {
    gx: Tensor<(B, usize, usize), E, D>,
    whh: Tensor<(Const<H>, usize), E, D>,
    bhh: Tensor<(B, usize), E, D>,
    b: B,
    gh: usize,
}

impl<B: Dim, const H: usize, E: Dtype, D: Device<E>> Steps3<B, H, E, D> {
    /// Input projections of step `t` plus the hidden projections of `h`: `(B, G·H)` each.
    #[allow(clippy::type_complexity)]
    fn step<T: Tape<E, D>>(
        &self,
        t: usize,
        h: Tensor<(B, Const<H>), E, D, T>,
    ) -> Result<(Tensor<(B, usize), E, D, T>, Tensor<(B, usize), E, D, T>), D::Err> {
        let xt = self
            .gx
            .retaped::<T>()
            .try_slice((.., t..t + 1, ..))?
            .try_reshape_like(&(self.b, self.gh))?;
        let ht = h
            .try_matmul(self.whh.retaped::<T>())?
            .try_add(self.bhh.retaped::<T>())?;
        Ok((xt, ht))
    }
}

/// Sets up the steps of a layer with `G` gates: projects the whole input, and returns the
/// zero initial state holding every tape so far.
#[allow(clippy::type_complexity)]
fn prepare<const I: usize, const G: usize, const H: usize, B, S, E, D, T>(
    x: Tensor<(B, S, Const<I>), E, D, T>,
    weight_ih: &Tensor<Rank3<G, H, I>, E, D>,
    weight_hh: &Tensor<Rank3<G, H, H>, E, D>,
    bias_ih: &Tensor<Rank2<G, H>, E, D>,
    bias_hh: &Tensor<Rank2<G, H>, E, D>,
) -> Result<(Steps3<B, H, E, D>, Tensor<(B, Const<H>), E, D, T>, usize), D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    let (b, s, _) = *x.shape();
    SizeError::check_sequence(s.size())?;
    let gh = G * H;
    let dev = x.device().clone();
    let (gx, tape) = project(x, weight_ih, bias_ih)?
        .try_reshape_like(&(b, s.size(), gh))?
        .split_tape();
    // views of the parameters (same ids, so gradients reach them)
    let whh = weight_hh
        .clone()
        .try_reshape_like(&(gh, Const::<H>))?
        .try_permute::<_, Axes2<1, 0>>()?;
    let bhh = bias_hh
        .clone()
        .try_reshape_like(&(gh,))?
        .try_broadcast_like::<_, Axis<0>>(&(b, gh))?;
    let h0 = dev.try_zeros_like(&(b, Const::<H>))?.put_tape(tape);
    Ok((
        Steps3 {
            gx,
            whh,
            bhh,
            b,
            gh,
        },
        h0,
        s.size(),
    ))
}

impl<const I: usize, const H: usize, R, E: Dtype, D: LayerKernels<E>> Gru<I, H, R, E, D> {
    /// Every step's hidden state `(B, S, H)`, on the device's GRU kernel.
    #[allow(clippy::type_complexity)]
    fn all_states<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<I>), E, D, T>,
    ) -> Result<Tensor<(B, S, Const<H>), E, D, T>, D::Err> {
        D::try_gru_sequence(
            x,
            &self.weight_ih,
            &self.weight_hh,
            &self.bias_ih,
            &self.bias_hh,
        )
    }

    /// The last step's hidden state `(B, H)`.
    #[allow(clippy::type_complexity)]
    fn last_state<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<I>), E, D, T>,
    ) -> Result<Tensor<(B, Const<H>), E, D, T>, D::Err> {
        let (b, s, _) = *x.shape();
        let last = s.size().saturating_sub(1);
        self.all_states(x)?
            .try_slice((.., last..last + 1, ..))?
            .try_reshape_like(&(b, Const::<H>))
    }
}

/// [`portable::gru_sequence`](super::device::portable::gru_sequence): the GRU's steps as dfdx
/// ops, every step's state stacked into `(B, S, H)`.
#[allow(clippy::type_complexity)]
pub(crate) fn gru_composition<const I: usize, const H: usize, B, S, E, D, T>(
    x: Tensor<(B, S, Const<I>), E, D, T>,
    weight_ih: &Tensor<Rank3<3, H, I>, E, D>,
    weight_hh: &Tensor<Rank3<3, H, H>, E, D>,
    bias_ih: &Tensor<Rank2<3, H>, E, D>,
    bias_hh: &Tensor<Rank2<3, H>, E, D>,
) -> Result<Tensor<(B, S, Const<H>), E, D, T>, D::Err>
where
    B: Dim,
    S: Dim,
    E: Dtype,
    D: Device<E> + HasErr<Err: From<SizeError>>,
    T: Tape<E, D>,
{
    let (b, s, _) = *x.shape();
    let (steps, mut h, len) = prepare(x, weight_ih, weight_hh, bias_ih, bias_hh)?;
    let mut states = Vec::with_capacity(len);
    for t in 0..len {
        let (xt, ht) = steps.step(t, h.retaped::<T>())?;
        let r = gate::<H, _, _, _, _>(xt.retaped::<T>(), 0)?
            .try_add(gate::<H, _, _, _, _>(ht.retaped::<T>(), 0)?)?
            .try_sigmoid()?;
        let z = gate::<H, _, _, _, _>(xt.retaped::<T>(), 1)?
            .try_add(gate::<H, _, _, _, _>(ht.retaped::<T>(), 1)?)?
            .try_sigmoid()?;
        let n = gate::<H, _, _, _, _>(xt, 2)?
            .try_add(r.try_mul(gate::<H, _, _, _, _>(ht, 2)?)?)?
            .try_tanh()?;
        // h' = n + z ⊙ (h − n)
        h = n.retaped::<T>().try_add(z.try_mul(h.try_sub(n)?)?)?;
        states.push(h.retaped::<T>());
    }
    stack_states(h, states, (b, s))
}

impl<const I: usize, const H: usize, R, E: Dtype, D: LayerKernels<E>> Lstm<I, H, R, E, D> {
    /// Runs the sequence: the last hidden state (holding the whole tape) and, when `keep`, a
    /// copy of every step's hidden state.
    #[allow(clippy::type_complexity)]
    fn run<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<I>), E, D, T>,
        keep: bool,
    ) -> Result<
        (
            Tensor<(B, Const<H>), E, D, T>,
            Vec<Tensor<(B, Const<H>), E, D, T>>,
        ),
        D::Err,
    > {
        let (steps, mut h, len) = prepare(
            x,
            &self.weight_ih,
            &self.weight_hh,
            &self.bias_ih,
            &self.bias_hh,
        )?;
        let mut c = h.retaped::<T>();
        let mut states = Vec::with_capacity(if keep { len } else { 0 });
        for t in 0..len {
            let (xt, ht) = steps.step(t, h)?;
            let z = xt.try_add(ht)?;
            let i = gate::<H, _, _, _, _>(z.retaped::<T>(), 0)?.try_sigmoid()?;
            let f = gate::<H, _, _, _, _>(z.retaped::<T>(), 1)?.try_sigmoid()?;
            let g = gate::<H, _, _, _, _>(z.retaped::<T>(), 2)?.try_tanh()?;
            let o = gate::<H, _, _, _, _>(z, 3)?.try_sigmoid()?;
            c = f.try_mul(c)?.try_add(i.try_mul(g)?)?;
            h = o.try_mul(c.retaped::<T>().try_tanh()?)?;
            if keep {
                states.push(h.retaped::<T>());
            }
        }
        // the cell state's tape joins the hidden state's
        let (c, c_tape) = c.split_tape();
        drop(c);
        let (h, h_tape) = h.split_tape();
        Ok((h.put_tape(h_tape.merge(c_tape)), states))
    }

    /// Every step's hidden state `(B, S, H)`.
    #[allow(clippy::type_complexity)]
    fn all_states<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<I>), E, D, T>,
    ) -> Result<Tensor<(B, S, Const<H>), E, D, T>, D::Err> {
        let (b, s, _) = *x.shape();
        let (last, states) = self.run(x, true)?;
        stack_states(last, states, (b, s))
    }

    /// The last step's hidden state `(B, H)`.
    #[allow(clippy::type_complexity)]
    fn last_state<B: Dim, S: Dim, T: Tape<E, D>>(
        &self,
        x: Tensor<(B, S, Const<I>), E, D, T>,
    ) -> Result<Tensor<(B, Const<H>), E, D, T>, D::Err> {
        Ok(self.run(x, false)?.0)
    }
}
