// The second conv expects 62 channels; the first gives 64.
use typenet::prelude::*;

#[network([3, 56, 56])]
type Net = (Conv2D<3, 64, 3, 2>, ReLU, Conv2D<62, 64, 3>);

fn main() {}
