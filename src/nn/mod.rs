//! Layers and compile-time model facts: parameter counts ([`Params`]) and summaries ([`summary`]).

mod params;
mod summary;

pub use params::Params;
pub use summary::{summary, LayerRow, Summarize, Summary};
