// #[network] computes from literals: a generic alias has none to compute from.
use typenet::prelude::*;

#[network([1, 28, 28])]
type Net<const C: usize> = (Conv2D<1, C, 3>,);

fn main() {}
