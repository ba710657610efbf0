// Linear on an unflattened 16x5x5 map acts on its last axis (5), not 400 features.
use typenet::prelude::*;

#[network([16, 5, 5])]
type Net = (Linear<400, 10>,);

fn main() {}
