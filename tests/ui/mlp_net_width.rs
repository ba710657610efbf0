// The second Linear takes 100 inputs but the first gives 128.
use typenet::prelude::*;

#[network([784])]
type Broken = (Linear<784, 128>, ReLU, Linear<100, 10>);

fn main() {}
