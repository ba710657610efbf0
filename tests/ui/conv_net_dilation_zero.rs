// A dilation of 0 is not a convolution.
use typenet::prelude::*;

#[network([1, 8, 8])]
type Net = (Conv2D<1, 4, 3, 1, 0, 0>, ReLU);

fn main() {}
