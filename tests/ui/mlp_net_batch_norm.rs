// Batch norm over 64 features after a Linear giving 128.
use typenet::prelude::*;

#[network([784])]
type Net = (Linear<784, 128>, BatchNorm1D<64>, ReLU);

fn main() {}
