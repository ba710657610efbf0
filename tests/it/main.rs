//! typenet's integration tests, as one test crate: one link of the library and its dependencies
//! instead of one per file. Each module is one subject; `cargo test --test it <module>::` runs one.

mod accumulation;
mod batch_norm;
mod catalog;
mod checkpoint;
mod checkpoint_kill;
mod combinator_summaries;
mod conv;
mod conv_dilation;
mod conv_fallback;
#[cfg(feature = "cuda")]
mod cuda;
mod custom_layer;
mod data_pipeline;
mod dense_targets;
mod distributed;
mod fashion_mnist;
mod fit_api;
mod frozen;
mod fuzz_smoke;
mod gradcheck_activations;
mod gradcheck_conv;
mod gradcheck_layers;
mod gradcheck_losses;
mod gradcheck_rejects;
mod idx;
mod interop_pytorch;
mod known_answers;
mod linear;
mod malformed;
mod multi_io;
mod non_finite;
mod optim_conventions;
mod params;
mod peak_memory;
mod pytorch_fixtures;
mod resume;
mod sequence;
mod support;
mod trainer;
mod ui;
