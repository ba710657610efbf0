// A pool padded by more than half its kernel (PyTorch rejects it too).
use typenet::prelude::*;

#[network([8, 28, 28])]
type Net = (MaxPool2D<2, 2, 2>,);

fn main() {}
