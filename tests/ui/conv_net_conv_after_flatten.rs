// A conv after the map has been flattened.
use typenet::prelude::*;

#[network([1, 8, 8])]
type Net = (Flatten2D, Conv2D<1, 4, 3>);

fn main() {}
