//! The CPU kernel of a GRU's recurrence on slices (its tape wiring, with the input projection on
//! the dense layer's kernel, is in `nn::device`'s CPU implementation).
//!
//! Forward, per step: one product `h · W_hhᵀ` started at `b_hh`, then the gates in one pass,
//! keeping `r`, `z`, `n` and `W_hn h + b_hn` for the backward pass. Backward (through time), per
//! step from the last: the gate gradients in one pass, then one product for the hidden state's
//! gradient; `W_hh`'s gradient is one product over every step at the end. The products are
//! below the size where threads pay off (see `gemm`'s [`split_parts`]), so a step runs on one
//! thread.

use super::gemm::{matmul_split, split_parts, Mat};
use super::scratch::{give, take};
use super::KernelFloat;
use rayon::prelude::*;

/// Multiply-adds of a whole recurrence (`steps·batch·3·hidden²`) from which its sequences are
/// split among the rayon threads (each group on one thread: its per-step products are too
/// small to split).
const CHUNKS_FROM: usize = 1 << 21;

/// Sequences a group takes at least.
const MIN_CHUNK: usize = 8;

/// Sizes of a GRU's recurrence: `batch` sequences of `steps` steps, `hidden` features.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GruGeom {
    pub batch: usize,
    pub steps: usize,
    pub hidden: usize,
}

impl GruGeom {
    /// Elements of the input projections `(batch, steps, 3·hidden)`.
    pub fn projected(&self) -> usize {
        self.batch * self.steps * 3 * self.hidden
    }

    /// Elements of the output, every step's state `(batch, steps, hidden)`.
    pub fn states(&self) -> usize {
        self.batch * self.steps * self.hidden
    }

    /// Elements of the saved states, time-major from the zero state: `(steps + 1, batch, hidden)`.
    pub fn saved_states(&self) -> usize {
        (self.steps + 1) * self.batch * self.hidden
    }

    /// Elements of the saved gates `r, z, n, W_hn h + b_hn`: `(steps, batch, 4·hidden)`.
    pub fn saved_gates(&self) -> usize {
        self.steps * self.batch * 4 * self.hidden
    }

    /// The same sizes for `batch` sequences.
    fn with_batch(self, batch: usize) -> Self {
        GruGeom { batch, ..self }
    }

    /// Groups of sequences the recurrence runs in: one per rayon thread from [`CHUNKS_FROM`]
    /// multiply-adds up, each of at least [`MIN_CHUNK`] sequences.
    fn chunks(&self) -> usize {
        let macs = self.steps * self.batch * 3 * self.hidden * self.hidden;
        if macs < CHUNKS_FROM {
            return 1;
        }
        rayon::current_num_threads()
            .min(self.batch / MIN_CHUNK)
            .max(1)
    }
}

/// `dst (m×n) += lhs (m×k) · rhs (k×n)` on one thread unless the product is large.
fn product<E: KernelFloat>(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [E],
    lhs: Mat<'_, E>,
    rhs: Mat<'_, E>,
) {
    matmul_split(m, n, k, dst, lhs, rhs, true, split_parts(m, n, k));
}

/// Runs the recurrence from the zero state.
///
/// The sequences are independent: they run in [`GruGeom::chunks`] groups of consecutive
/// sequences, one rayon task each (each group's saved states and gates are a time-major block of
/// their own). A given thread count always gives bit-identical results.
///
/// `gx` holds the input projections `x · W_ihᵀ + b_ih` `(batch, steps, 3·hidden)` (gates
/// reset, update, new), `whh` `W_hh` `(3·hidden, hidden)` row-major, `bhh` `(3·hidden)`.
/// Writes every step's state to `out` `(batch, steps, hidden)`, the states from the zero one to
/// `states` ([`GruGeom::saved_states`]) and the gates to `gates` ([`GruGeom::saved_gates`]).
pub(crate) fn gru_forward<E: KernelFloat>(
    g: GruGeom,
    gx: &[E],
    whh: &[E],
    bhh: &[E],
    out: &mut [E],
    states: &mut [E],
    gates: &mut [E],
) {
    if g.batch * g.hidden * g.steps == 0 {
        return;
    }
    let per = g.batch.div_ceil(g.chunks());
    let c = g.with_batch(per);
    gx.par_chunks(c.projected())
        .zip(out.par_chunks_mut(c.states()))
        .zip(states.par_chunks_mut(c.saved_states()))
        .zip(gates.par_chunks_mut(c.saved_gates()))
        .for_each(|(((gx, out), states), gates)| {
            let c = g.with_batch(out.len() / (g.steps * g.hidden));
            let mut hp = take(c.batch * 3 * c.hidden, E::zero());
            forward_chunk(c, gx, whh, bhh, out, states, gates, &mut hp);
            give(hp);
        });
}

/// [`gru_forward`] of one group of sequences; `hp` is scratch of `batch·3·hidden`.
#[allow(clippy::too_many_arguments)]
fn forward_chunk<E: KernelFloat>(
    g: GruGeom,
    gx: &[E],
    whh: &[E],
    bhh: &[E],
    out: &mut [E],
    states: &mut [E],
    gates: &mut [E],
    hp: &mut [E],
) {
    let (b, s, h) = (g.batch, g.steps, g.hidden);
    let (h3, h4) = (3 * h, 4 * h);
    states[..b * h].fill(E::zero());
    for t in 0..s {
        for row in hp.chunks_exact_mut(h3).take(b) {
            row.copy_from_slice(&bhh[..h3]);
        }
        let (prev, next) = states[t * b * h..(t + 2) * b * h].split_at_mut(b * h);
        if t > 0 {
            let lhs = Mat {
                data: &*prev,
                rs: h,
                cs: 1,
            };
            let rhs = Mat {
                data: whh,
                rs: 1,
                cs: h,
            };
            product(b, h3, h, hp, lhs, rhs);
        }
        let gates_t = &mut gates[t * b * h4..(t + 1) * b * h4];
        for i in 0..b {
            let x = &gx[(i * s + t) * h3..(i * s + t + 1) * h3];
            let p = &hp[i * h3..(i + 1) * h3];
            let hprev = &prev[i * h..(i + 1) * h];
            let hnext = &mut next[i * h..(i + 1) * h];
            let (r_, rest) = gates_t[i * h4..(i + 1) * h4].split_at_mut(h);
            let (z_, rest) = rest.split_at_mut(h);
            let (n_, hn_) = rest.split_at_mut(h);
            // pre-activations, then each gate's activation over the whole row
            for j in 0..h {
                r_[j] = x[j] + p[j];
                z_[j] = x[h + j] + p[h + j];
            }
            E::sigmoid_slice(r_);
            E::sigmoid_slice(z_);
            for j in 0..h {
                hn_[j] = p[2 * h + j];
                n_[j] = x[2 * h + j] + r_[j] * hn_[j];
            }
            E::tanh_slice(n_);
            for j in 0..h {
                // h' = n + z ⊙ (h − n)
                hnext[j] = n_[j] + z_[j] * (hprev[j] - n_[j]);
            }
            out[(i * s + t) * h..(i * s + t + 1) * h].copy_from_slice(hnext);
        }
    }
}

/// Backpropagation through time of [`gru_forward`] (in the same groups of sequences, one
/// rayon task each).
///
/// `gy` is the gradient of its `out` `(batch, steps, hidden)`; `states` and `gates` what it
/// saved. Overwrites `dgx` `(batch, steps, 3·hidden)` with the input projections' gradient and
/// adds `W_hh`'s and `b_hh`'s to `dwhh` and `dbhh`. `dhp` is scratch of
/// [`GruGeom::projected`] (the hidden projections' gradient).
#[allow(clippy::too_many_arguments)]
pub(crate) fn gru_backward<E: KernelFloat>(
    g: GruGeom,
    whh: &[E],
    states: &[E],
    gates: &[E],
    gy: &[E],
    dgx: &mut [E],
    dwhh: &mut [E],
    dbhh: &mut [E],
    dhp: &mut [E],
) {
    let (s, h) = (g.steps, g.hidden);
    if g.batch * h * s == 0 {
        return;
    }
    let per = g.batch.div_ceil(g.chunks());
    let c = g.with_batch(per);
    gy.par_chunks(c.states())
        .zip(states.par_chunks(c.saved_states()))
        .zip(gates.par_chunks(c.saved_gates()))
        .zip(dgx.par_chunks_mut(c.projected()))
        .zip(dhp.par_chunks_mut(c.projected()))
        .for_each(|((((gy, states), gates), dgx), dhp)| {
            let c = g.with_batch(gy.len() / (s * h));
            let mut dh = take(c.batch * h, E::zero());
            backward_chunk(c, whh, states, gates, gy, dgx, dhp, &mut dh);
            give(dh);
        });
    // dW_hh += Σ_t dhp_tᵀ · h_t over every group (step 0's state is zero: left out)
    let h3 = 3 * h;
    for (states, dhp) in states
        .chunks(c.saved_states())
        .zip(dhp.chunks(c.projected()))
    {
        let b = states.len() / ((s + 1) * h);
        if s > 1 {
            let lhs = Mat {
                data: &dhp[b * h3..s * b * h3],
                rs: 1,
                cs: h3,
            };
            let rhs = Mat {
                data: &states[b * h..s * b * h],
                rs: h,
                cs: 1,
            };
            product(h3, h, (s - 1) * b, dwhh, lhs, rhs);
        }
    }
    for row in dhp.chunks_exact(h3) {
        for (acc, &v) in dbhh.iter_mut().zip(row) {
            *acc += v;
        }
    }
}

/// [`gru_backward`] of one group of sequences, but for `W_hh`'s and `b_hh`'s gradients (left
/// in `dhp`, time-major); `dh` is scratch of `batch·hidden`.
#[allow(clippy::too_many_arguments)]
fn backward_chunk<E: KernelFloat>(
    g: GruGeom,
    whh: &[E],
    states: &[E],
    gates: &[E],
    gy: &[E],
    dgx: &mut [E],
    dhp: &mut [E],
    dh: &mut [E],
) {
    let (b, s, h) = (g.batch, g.steps, g.hidden);
    let (h3, h4) = (3 * h, 4 * h);
    // dh: the gradient reaching the state after step t from the steps after it
    dh[..b * h].fill(E::zero());
    for t in (0..s).rev() {
        let prev = &states[t * b * h..(t + 1) * b * h];
        let gates_t = &gates[t * b * h4..(t + 1) * b * h4];
        let dhp_t = &mut dhp[t * b * h3..(t + 1) * b * h3];
        for i in 0..b {
            let gyr = &gy[(i * s + t) * h..(i * s + t + 1) * h];
            let hprev = &prev[i * h..(i + 1) * h];
            let gt = &gates_t[i * h4..(i + 1) * h4];
            let dhi = &mut dh[i * h..(i + 1) * h];
            let dx = &mut dgx[(i * s + t) * h3..(i * s + t + 1) * h3];
            let dp = &mut dhp_t[i * h3..(i + 1) * h3];
            for j in 0..h {
                let (r, z, n, hn) = (gt[j], gt[h + j], gt[2 * h + j], gt[3 * h + j]);
                let d = gyr[j] + dhi[j];
                let one = E::one();
                let dan = d * (one - z) * (one - n * n);
                let dar = dan * hn * r * (one - r);
                let daz = d * (hprev[j] - n) * z * (one - z);
                dx[j] = dar;
                dx[h + j] = daz;
                dx[2 * h + j] = dan;
                dp[j] = dar;
                dp[h + j] = daz;
                dp[2 * h + j] = dan * r;
                dhi[j] = d * z;
            }
        }
        if t > 0 {
            // dh += dhp_t · W_hh
            let lhs = Mat {
                data: &*dhp_t,
                rs: h3,
                cs: 1,
            };
            let rhs = Mat {
                data: whh,
                rs: h,
                cs: 1,
            };
            product(b, h, h3, dh, lhs, rhs);
        }
    }
}
