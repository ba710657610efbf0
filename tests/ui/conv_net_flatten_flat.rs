// Flatten2D needs a feature map; a Linear output is already flat.
use typenet::prelude::*;

#[network([64])]
type Net = (Linear<64, 32>, Flatten2D);

fn main() {}
