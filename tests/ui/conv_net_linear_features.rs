// 4 channels of 26x26 flatten to 2704 features, not 2705.
use typenet::prelude::*;

#[network([1, 28, 28])]
type Small = ((Conv2D<1, 4, 3>, ReLU), Flatten2D, Linear<2705, 10>);

fn main() {}
