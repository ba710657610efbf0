//! Learning-rate schedules, applied at the start of every epoch.

use super::base::{improves, monitored, parse_state, Callback, Context, Control, Mode};
use crate::train::EpochLog;
use crate::{Error, Result};

/// A learning rate as a function of the epoch (0-based) and the initial rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Schedule {
    /// `lr₀ · factor^⌊epoch / every⌋`.
    StepDecay {
        /// Epochs between decays.
        every: usize,
        /// Multiplier at each decay.
        factor: f64,
    },
    /// `lr₀ · gamma^epoch`.
    Exponential {
        /// Per-epoch multiplier.
        gamma: f64,
    },
    /// Linear warm-up from `lr₀ / warmup` to `lr₀` over `warmup` epochs, then cosine decay to
    /// `min_lr` at epoch `total`.
    CosineWarmup {
        /// Warm-up epochs.
        warmup: usize,
        /// Epoch at which the rate reaches `min_lr`.
        total: usize,
        /// Final learning rate.
        min_lr: f64,
    },
}

impl Schedule {
    /// The rate for `epoch` (0-based) starting from `initial`.
    pub fn lr(&self, epoch: usize, initial: f64) -> f64 {
        match *self {
            Schedule::StepDecay { every, factor } => {
                initial * factor.powi((epoch / every.max(1)) as i32)
            }
            Schedule::Exponential { gamma } => initial * gamma.powi(epoch as i32),
            Schedule::CosineWarmup {
                warmup,
                total,
                min_lr,
            } => {
                if epoch < warmup {
                    initial * (epoch + 1) as f64 / warmup as f64
                } else {
                    let span = total.saturating_sub(warmup).max(1) as f64;
                    let t = ((epoch - warmup) as f64 / span).min(1.0);
                    min_lr + 0.5 * (initial - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
                }
            }
        }
    }
}

/// Sets the optimizer's learning rate from a [`Schedule`] before every epoch.
///
/// **Keras equivalent**: `LearningRateScheduler(schedule)`.
#[derive(Debug, Clone)]
pub struct LearningRateScheduler {
    /// The schedule.
    pub schedule: Schedule,
    initial: Option<f64>,
}

impl LearningRateScheduler {
    /// A scheduler following `schedule` from the optimizer's configured rate.
    pub fn new(schedule: Schedule) -> Self {
        LearningRateScheduler {
            schedule,
            initial: None,
        }
    }
}

impl<M> Callback<M> for LearningRateScheduler {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        self.initial.get_or_insert(ctx.lr());
        Ok(())
    }
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut Context<'_, M>) -> Result<()> {
        let initial = *self.initial.get_or_insert(ctx.lr());
        ctx.set_lr(self.schedule.lr(epoch - 1, initial));
        Ok(())
    }
    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({ "initial": self.initial }))
    }
    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Saved {
            initial: Option<f64>,
        }
        self.initial = parse_state::<Saved>("LearningRateScheduler", state)?.initial;
        Ok(())
    }
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved for `patience`
/// epochs, never going below `min_lr`.
///
/// **Keras equivalent**: `ReduceLROnPlateau(monitor, factor, patience, min_lr)`.
#[derive(Debug, Clone)]
pub struct ReduceLrOnPlateau {
    /// Name watched. Default `val_loss`.
    pub monitor: String,
    /// Direction of improvement. Default [`Mode::Auto`].
    pub mode: Mode,
    /// Multiplier applied on a plateau, in `(0, 1)`. Default `0.1`.
    pub factor: f64,
    /// Epochs without improvement before reducing. Default `10`.
    pub patience: usize,
    /// Smallest change that counts as improvement. Default `1e-4`.
    pub min_delta: f64,
    /// Lower bound of the rate. Default `0.0`.
    pub min_lr: f64,
    /// Best value so far.
    pub best: Option<f64>,
    /// Epochs since the last improvement or reduction.
    pub wait: usize,
}

impl Default for ReduceLrOnPlateau {
    fn default() -> Self {
        ReduceLrOnPlateau {
            monitor: "val_loss".into(),
            mode: Mode::Auto,
            factor: 0.1,
            patience: 10,
            min_delta: 1e-4,
            min_lr: 0.0,
            best: None,
            wait: 0,
        }
    }
}

impl<M> Callback<M> for ReduceLrOnPlateau {
    fn on_train_begin(&mut self, ctx: &mut Context<'_, M>) -> Result<()> {
        if !(self.factor > 0.0 && self.factor < 1.0) {
            return Err(Error::InvalidArgument {
                what: "ReduceLrOnPlateau factor",
                value: self.factor.to_string(),
                expected: "in (0, 1)".into(),
            });
        }
        ctx.require("ReduceLrOnPlateau", &self.monitor)?;
        ctx.higher_is_better("ReduceLrOnPlateau", &self.monitor, self.mode)?;
        Ok(())
    }
    fn on_epoch_end(&mut self, log: &EpochLog, ctx: &mut Context<'_, M>) -> Result<Control> {
        let value = monitored(log, "ReduceLrOnPlateau", &self.monitor)?;
        if improves(
            value,
            self.best,
            ctx.higher_is_better("ReduceLrOnPlateau", &self.monitor, self.mode)?,
            self.min_delta,
        ) {
            self.best = Some(value);
            self.wait = 0;
        } else {
            self.wait += 1;
            if self.wait > self.patience {
                let lr = (ctx.lr() * self.factor).max(self.min_lr);
                ctx.set_lr(lr);
                self.wait = 0;
            }
        }
        Ok(Control::Continue)
    }
    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({ "best": self.best, "wait": self.wait }))
    }
    fn restore(&mut self, state: &serde_json::Value) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Saved {
            best: Option<f64>,
            wait: usize,
        }
        let saved: Saved = parse_state("ReduceLrOnPlateau", state)?;
        (self.best, self.wait) = (saved.best, saved.wait);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_decay_halves_every_two_epochs() {
        let s = Schedule::StepDecay {
            every: 2,
            factor: 0.5,
        };
        let lrs: Vec<f64> = (0..5).map(|e| s.lr(e, 1.0)).collect();
        assert_eq!(lrs, [1.0, 1.0, 0.5, 0.5, 0.25]);
    }

    #[test]
    fn cosine_warmup_rises_then_falls_to_min() {
        let s = Schedule::CosineWarmup {
            warmup: 2,
            total: 6,
            min_lr: 0.0,
        };
        assert_eq!(s.lr(0, 1.0), 0.5);
        assert_eq!(s.lr(1, 1.0), 1.0);
        assert_eq!(s.lr(2, 1.0), 1.0); // cos(0): start of the decay
        assert!((s.lr(4, 1.0) - 0.5).abs() < 1e-12); // halfway: cos(π/2)
        assert!(s.lr(6, 1.0).abs() < 1e-12);
    }
}
