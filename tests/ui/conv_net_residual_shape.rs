// A residual branch that changes the channel count cannot be added to its input.
use typenet::prelude::*;

#[network([16, 32, 32])]
type Net = (Residual<(Conv2D<16, 32, 3, 1, 1>, ReLU)>, ReLU);

fn main() {}
