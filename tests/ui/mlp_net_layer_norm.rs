// Layer norm over 100 values after a Linear giving 128.
use typenet::prelude::*;

#[network([784])]
type Net = (Linear<784, 128>, LayerNorm1D<100>);

fn main() {}
