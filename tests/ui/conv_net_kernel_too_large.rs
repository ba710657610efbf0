// A 7x7 kernel does not fit a 5x5 input padded by 0.
use typenet::prelude::*;

#[network([1, 5, 5])]
type Net = (Conv2D<1, 4, 7>, ReLU);

fn main() {}
