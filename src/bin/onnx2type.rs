//! `onnx2type`: reads an ONNX file of operators typenet has layers for, prints the typenet model
//! type, and writes its weights as safetensors (PyTorch's names, for
//! `typenet::interop::pytorch::load_state_dict`).
//!
//! ```text
//! cargo run --features onnx --bin onnx2type -- model.onnx [--name Model] [--weights model.safetensors]
//! ```
//! The weights go next to the ONNX file (`model.safetensors`) unless `--weights` says where.
//! Exit code 1 with every unsupported operator named when the graph holds any.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut input: Option<PathBuf> = None;
    let mut name = "Model".to_string();
    let mut weights: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--name" => name = args.next().unwrap_or(name),
            "--weights" => weights = args.next().map(PathBuf::from),
            "-h" | "--help" => {
                println!(
                    "usage: onnx2type FILE.onnx [--name TYPE_NAME] [--weights FILE.safetensors]"
                );
                return ExitCode::SUCCESS;
            }
            _ => input = Some(PathBuf::from(arg)),
        }
    }
    let Some(input) = input else {
        eprintln!("usage: onnx2type FILE.onnx [--name TYPE_NAME] [--weights FILE.safetensors]");
        return ExitCode::from(2);
    };
    let weights = weights.unwrap_or_else(|| input.with_extension("safetensors"));
    let result = typenet::onnx::import(&input).and_then(|imported| {
        imported.save_weights(&weights)?;
        Ok(imported)
    });
    match result {
        Ok(imported) => {
            print!("{}", imported.declaration(&name));
            eprintln!(
                "weights: {} ({} tensors); load with typenet::interop::pytorch::load_state_dict",
                weights.display(),
                imported.tensors.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("onnx2type: {e}");
            ExitCode::FAILURE
        }
    }
}
