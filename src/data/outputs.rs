//! [`PerOutput`]: the targets of a model with several outputs, one target kind per output.

use super::{EachOutput, Target, Targets};
use crate::Result;
use dfdx::prelude::*;

/// One target per output of a model with several outputs: `PerOutput<(Classes<10>, Values<1>)>`
/// labels each sample with a class for the first output and a value for the second.
///
/// A sample's label is a tuple, `(usize, [f32; 1])` here. The model ends in
/// [`Pack`](crate::nn::Pack), the loss is one loss per output
/// ([`Losses`](crate::losses::Losses)), and the compiler pairs every output with its loss and
/// targets. Metrics are computed per output (see [`metric`](crate::train::metric)).
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// // two samples, each with a class among 3 and one value
/// let data = InMemory::<Rank1<2>, PerOutput<(Classes<3>, Values<1>)>>::new(
///     vec![0.0, 1.0, 2.0, 3.0],
///     vec![(2, [0.5]), (0, [1.5])],
/// )?;
/// assert_eq!(data.target(1), (0, [1.5]));
/// // a class outside 0..3 is refused, naming the sample
/// assert!(InMemory::<Rank1<2>, PerOutput<(Classes<3>, Values<1>)>>::new(
///     vec![0.0; 2],
///     vec![(3, [0.0])],
/// ).is_err());
/// # Ok(()) }
/// ```
///
/// **Keras equivalent**: `model.fit(x, {"class": y_class, "value": y_value})`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerOutput<T>(T);

/// Columns `at..at + part` of every row of `outputs` (each `width` wide), row-major.
fn columns(outputs: &[f32], width: usize, at: usize, part: usize) -> Vec<f32> {
    outputs
        .chunks_exact(width.max(1))
        .flat_map(|row| &row[at..at + part])
        .copied()
        .collect()
}

macro_rules! per_output {
    ($([$t:ident $i:tt]),+) => {
        impl<$($t: Target),+> Target for PerOutput<($($t,)+)> {
            type Item = ($($t::Item,)+);
            type Batch<E: Dtype, D: Device<E>> = ($($t::Batch<E, D>,)+);
            const WIDTH: usize = 0 $(+ $t::WIDTH)+;
            const OUTPUTS: usize = 0 $(+ $t::OUTPUTS)+;
            fn validate(sample: usize, item: &Self::Item) -> Result<()> {
                $($t::validate(sample, &item.$i)?;)+
                Ok(())
            }
            fn to_device<E: Dtype, D: Device<E>>(
                device: &D,
                items: &[Self::Item],
            ) -> Result<Self::Batch<E, D>> {
                Ok(($(
                    $t::to_device(
                        device,
                        &items.iter().map(|item| item.$i).collect::<Vec<_>>(),
                    )?,
                )+))
            }
            /// No single view: metrics see each output's targets through
            /// [`Target::for_each_output`].
            fn view(_: &[Self::Item]) -> Targets<'_> {
                Targets::Values(&[], 0)
            }
            fn for_each_output(outputs: &[f32], items: &[Self::Item], f: EachOutput<'_>) {
                // each part's columns and first output index
                let (mut at, mut first) = (0, 0);
                $(
                    let part = columns(outputs, Self::WIDTH, at, $t::WIDTH);
                    let labels: Vec<$t::Item> = items.iter().map(|item| item.$i).collect();
                    $t::for_each_output(&part, &labels, &mut |k, o, w, t| f(first + k, o, w, t));
                    at += $t::WIDTH;
                    first += $t::OUTPUTS;
                )+
                let _ = (at, first);
            }
        }
    };
}

per_output!([A 0], [B 1]);
per_output!([A 0], [B 1], [C 2]);
per_output!([A 0], [B 1], [C 2], [F 3]);
