// A global pool needs a feature map; the input is already flat.
use typenet::prelude::*;

#[network([10])]
type Net = (AvgPoolGlobal,);

fn main() {}
