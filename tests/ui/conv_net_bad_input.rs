// The input shape is a list: [C, H, W] or [N].
use typenet::prelude::*;

#[network(1, 28, 28)]
type Net = (Conv2D<1, 4, 3>,);

fn main() {}
