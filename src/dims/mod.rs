//! Shape and dimension types shared by data sets, layers and losses (below all of them in the
//! module graph): batch shapes, image shapes, token ids, and several tensors packed as one.

mod batch;
mod packed;
mod shape_list;
mod vocab;

pub use batch::{BatchShape, ImageShape, SampleOf};
pub use packed::{Packed, PackedBatch, Packing};
pub use shape_list::ShapeList;
pub use vocab::{Vocab, PAD};
