// The shortcut keeps the size while the main branch halves it.
use typenet::prelude::*;

#[network([16, 32, 32])]
type Net = GeneralizedResidual<(Conv2D<16, 32, 3, 2, 1>, ReLU), Conv2D<16, 32, 1>>;

fn main() {}
