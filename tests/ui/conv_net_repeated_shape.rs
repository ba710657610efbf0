// A repeated layer must keep its input shape: this conv doubles the channels.
use typenet::prelude::*;

#[network([4, 16, 16])]
type Net = Repeated<(Conv2D<4, 8, 3, 1, 1>, ReLU), 2>;

fn main() {}
