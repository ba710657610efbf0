// Batch norm over 32 channels after a conv with 64.
use typenet::prelude::*;

#[network([3, 32, 32])]
type Net = (Conv2D<3, 64, 3, 1, 1>, BatchNorm2D<32>, ReLU);

fn main() {}
