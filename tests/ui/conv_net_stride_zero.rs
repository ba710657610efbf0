// A stride of 0 never moves the window.
use typenet::prelude::*;

#[network([1, 8, 8])]
type Net = (Conv2D<1, 4, 3, 0>,);

fn main() {}
