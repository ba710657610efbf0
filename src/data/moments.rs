//! Running means and standard deviations, for standardisation and channel normalisation.

/// The mean and population standard deviation of the values added to each of a number of
/// slots (features, channels), by Welford's algorithm in `f64`: it does not lose the variance
/// to cancellation when the mean is large against the spread, as `E[x²] - E[x]²` does.
///
/// ```text
/// values 1e8 + {1, 2, 3}: mean 1e8 + 2, standard deviation sqrt(2/3) = 0.8165
/// ```
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    count: Vec<u64>,
    mean: Vec<f64>,
    /// Sum of squared differences from the running mean.
    m2: Vec<f64>,
}

impl Moments {
    /// No values yet in `slots` slots.
    pub(crate) fn new(slots: usize) -> Self {
        Moments {
            count: vec![0; slots],
            mean: vec![0.0; slots],
            m2: vec![0.0; slots],
        }
    }

    /// Adds `value` to slot `slot`.
    pub(crate) fn add(&mut self, slot: usize, value: f64) {
        self.count[slot] += 1;
        let delta = value - self.mean[slot];
        self.mean[slot] += delta / self.count[slot] as f64;
        self.m2[slot] += delta * (value - self.mean[slot]);
    }

    /// Each slot's mean and population standard deviation (0 for a slot without values).
    pub(crate) fn finish(self) -> (Vec<f32>, Vec<f32>) {
        let std = self
            .m2
            .iter()
            .zip(&self.count)
            .map(|(&m2, &n)| {
                if n == 0 {
                    0.0
                } else {
                    (m2 / n as f64).max(0.0).sqrt() as f32
                }
            })
            .collect();
        (self.mean.into_iter().map(|m| m as f32).collect(), std)
    }
}

#[cfg(test)]
mod tests {
    use super::Moments;

    #[test]
    fn large_mean_small_spread_keeps_its_variance() {
        // 1e8 + {1, 2, 3}: E[x²] - E[x]² in f64 loses the variance (1e16 has an ulp of 2);
        // mean 1e8 + 2, variance ((-1)² + 0² + 1²) / 3 = 2/3
        let mut m = Moments::new(1);
        for v in [1.0, 2.0, 3.0] {
            m.add(0, 1e8 + v);
        }
        let (mean, std) = m.finish();
        assert_eq!(mean, [(1e8 + 2.0) as f32]);
        assert!((std[0] - (2.0f32 / 3.0).sqrt()).abs() < 1e-6, "{std:?}");
    }

    #[test]
    fn slots_are_independent_and_an_empty_slot_is_zero() {
        let mut m = Moments::new(3);
        for v in [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0] {
            m.add(1, v); // the classic example: mean 5, standard deviation 2
        }
        m.add(2, -1.0);
        assert_eq!(m.finish(), (vec![0.0, 5.0, -1.0], vec![0.0, 2.0, 0.0]));
    }
}
