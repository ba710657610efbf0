// 65 channels of 5x5 are outside the compile-time flatten table.
use typenet::prelude::*;

fn main() {
    let dev = Cpu::default();
    let _y = Flatten2D.forward(dev.zeros::<Rank3<65, 5, 5>>());
}
