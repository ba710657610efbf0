//! Layers and compile-time model facts: parameter counts ([`Params`]) and summaries ([`summary`]).

mod init;
mod params;
mod summary;

pub use init::glorot_uniform;
pub use params::Params;
pub use summary::{summary, LayerRow, Summarize, Summary};
