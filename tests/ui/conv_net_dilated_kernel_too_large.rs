// A 3x3 kernel dilated by 3 spans 7, more than a 5x5 input padded by 0.
use typenet::prelude::*;

#[network([1, 5, 5])]
type Net = (Conv2D<1, 4, 3, 1, 0, 3>, ReLU);

fn main() {}
