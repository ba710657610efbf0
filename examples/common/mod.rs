//! Shared by the examples (each includes it with `mod common;`; cargo does not build it as an
//! example of its own): `--device cpu|cuda`, running an example's body on the chosen device, the
//! exit codes, the check of a header's stated result, and the flags of the CSV examples.
//!
//! An example writes its body once, generic over the device:
//! ```text
//! impl common::OnDevice for Args {
//!     fn run<D: common::ExampleDevice>(&self, dev: D) -> typenet::Result<()> { … }
//! }
//! fn main() -> ExitCode {
//!     let args = Args::parse();
//!     common::exit(common::dispatch(&args, args.device.device, args.seed, "my_example"), None)
//! }
//! ```
// Each example uses a part of this module.
#![allow(dead_code)]

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use std::path::PathBuf;
use std::process::ExitCode;
use typenet::prelude::*;

/// How to install Fashion-MNIST, printed when it is missing.
pub const FASHION_MNIST_HINT: &str = "Fashion-MNIST is not installed. Install it with:\n    sudo apt-get install -y dataset-fashion-mnist\nor pass --data DIR.";

/// The devices `--device` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// The CPU (always available).
    Cpu,
    /// An NVIDIA GPU (a build with `--features cuda` and a GPU).
    Cuda,
}

/// The `--device` flag, flattened into an example's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceFlag {
    /// Where to train: `cpu`, or `cuda` (needs a build with `--features cuda` and a GPU).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
}

/// The arguments of an example whose only flag is `--device`.
#[derive(Debug, clap::Parser)]
pub struct DeviceOnly {
    /// `--device`.
    #[command(flatten)]
    pub device: DeviceFlag,
}

/// What an example needs of a device: training (with gradient clipping), building models,
/// running typenet's conv and pool layers and reading a scalar (`loss.array()`). The CPU and,
/// with `--features cuda`, CUDA.
pub trait ExampleDevice:
    TrainingDevice + DeviceBuildExt + TensorToArray<Rank0, f32, Array = f32>
{
}
impl<D> ExampleDevice for D where
    D: TrainingDevice + DeviceBuildExt + TensorToArray<Rank0, f32, Array = f32>
{
}

/// An example's result, or why the device it asked for cannot be used.
pub type Outcome = std::result::Result<typenet::Result<()>, String>;

/// An example's body, written once for every device.
pub trait OnDevice {
    /// Runs the example on `dev` (seeded from `--seed`).
    fn run<D: ExampleDevice>(&self, dev: D) -> typenet::Result<()>;
}

/// Runs `example` on `device` seeded with `seed`: the example's result, or why the device cannot
/// be used (`example` names the example in the rebuild command).
pub fn dispatch<X: OnDevice>(x: &X, device: DeviceArg, seed: u64, example: &str) -> Outcome {
    match device {
        DeviceArg::Cpu => Ok(x.run(Cpu::seed_from_u64(seed))),
        DeviceArg::Cuda => cuda::run(x, seed, example),
    }
}

/// The exit code of a dispatched example: 0 on success; 2 with the reason when the device
/// cannot be used, or with `missing` (how to get the data) when the data set is not there;
/// 1 for any other error.
pub fn exit(outcome: Outcome, missing: Option<&str>) -> ExitCode {
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("error: --device cuda: {why}");
            ExitCode::from(2)
        }
        Ok(Err(e @ Error::DatasetMissing { .. })) if missing.is_some() => {
            eprintln!("error: {e}");
            eprintln!("{}", missing.unwrap_or_default());
            ExitCode::from(2)
        }
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Checks a result the example's header states: when `met` is false, prints the stated result
/// and what this run got, and exits with code 1. CI runs the small examples and relies on it.
pub fn require(met: bool, stated: &str, got: impl std::fmt::Display) {
    if !met {
        eprintln!("error: missed the stated result: {stated}; this run: {got}");
        std::process::exit(1);
    }
}

/// CUDA, when this build has it.
#[cfg(feature = "cuda")]
mod cuda {
    use super::*;

    /// Runs `x` on the GPU, or says why there is none.
    pub fn run<X: OnDevice>(x: &X, seed: u64, _: &str) -> Outcome {
        let dev = Cuda::try_seed_from_u64(seed).map_err(|e| format!("no usable GPU ({e:?})"))?;
        Ok(x.run(dev))
    }
}

/// Without the `cuda` feature `--device cuda` is refused with the rebuild command.
#[cfg(not(feature = "cuda"))]
mod cuda {
    use super::*;

    /// Never runs: this build has no CUDA support.
    pub fn run<X: OnDevice>(_: &X, _: u64, example: &str) -> Outcome {
        Err(format!("this build has no CUDA support; rebuild with `cargo run --release --features cuda --example {example} -- --device cuda` on a machine with the CUDA toolkit"))
    }
}

/// The flags of the CSV examples (`05_breast_cancer_bce`, `diabetes_regression`, `iris_mlp`).
#[derive(Debug, clap::Args)]
pub struct CsvArgs {
    /// CSV file: the numeric feature columns and the label column.
    #[arg(long)]
    pub data: PathBuf,
    /// Column holding the label (the target).
    #[arg(long)]
    pub label: String,
    /// Passes over the training set (at least 1).
    #[arg(long, value_parser = at_least_one)]
    pub epochs: usize,
    /// Seed of the split, the initialisation and the shuffling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print one JSON object with the results as the last line.
    #[arg(long)]
    pub json: bool,
    /// `--device`.
    #[command(flatten)]
    pub device: DeviceFlag,
    /// Whether `--data`, `--label` and `--epochs` are the defaults: the run the header's
    /// result is stated for (at any `--seed`).
    #[arg(skip)]
    pub stated_run: bool,
}

/// The command line of a CSV example: [`CsvArgs`] and nothing else.
#[derive(clap::Parser)]
struct CsvCli {
    #[command(flatten)]
    args: CsvArgs,
}

impl CsvArgs {
    /// Parses the command line with this example's description and defaults: `data` a file under
    /// `examples/data/`, the `label` column, `epochs`.
    pub fn parse(
        about: &'static str,
        data: &'static str,
        label: &'static str,
        epochs: usize,
    ) -> Self {
        // parsed once per process: leaking the default's text is what a `&'static str` costs
        let path: &'static str =
            format!("{}/examples/data/{data}", env!("CARGO_MANIFEST_DIR")).leak();
        let matches = CsvCli::command()
            .about(about)
            .mut_arg("data", |a| a.required(false).default_value(path))
            .mut_arg("label", |a| a.required(false).default_value(label))
            .mut_arg("epochs", |a| {
                a.required(false).default_value(&*epochs.to_string().leak())
            })
            .get_matches();
        let defaulted = |id| matches.value_source(id) == Some(ValueSource::DefaultValue);
        let stated_run = defaulted("data") && defaulted("label") && defaulted("epochs");
        match CsvCli::from_arg_matches(&matches) {
            Ok(cli) => CsvArgs {
                stated_run,
                ..cli.args
            },
            Err(e) => e.exit(),
        }
    }

    /// On the shipped CSV with the default label and epochs, fails the run (exit code 1) when
    /// `got` is below the header's stated `floor` for `what`; with other flags, checks nothing.
    pub fn require_at_least(&self, what: &str, got: f64, floor: f64) {
        if self.stated_run {
            require(got >= floor, &format!("{what} at least {floor}"), got);
        }
    }

    /// Training settings: `--epochs`, `--seed`, silent, the default batch of 32.
    pub fn fit_config(&self) -> FitConfig {
        FitConfig {
            epochs: self.epochs,
            seed: self.seed,
            verbosity: Verbosity::Silent,
            ..Default::default()
        }
    }
}

/// `clap` value parser of a count that must be at least 1 (`--epochs`, `--steps`): 0 is refused
/// when the flags are parsed, before any data is read.
pub fn at_least_one(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("not a whole number: {e}")),
    }
}

/// `clap` value parser of a fraction strictly between 0 and 1 (`--validation-split`).
pub fn fraction(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f > 0.0 && f < 1.0 => Ok(f),
        Ok(f) => Err(format!(
            "{f} is not strictly between 0 and 1 (the fraction of the training set held out)"
        )),
        Err(e) => Err(format!("not a number: {e}")),
    }
}

/// Checks, before any training, that `path` (the value of `flag`) can be written as a file:
/// not a directory, its directory exists and accepts a new file (a probe file is created and
/// removed). The error names the flag, the path and the OS's reason.
pub fn check_output_file(flag: &str, path: &std::path::Path) -> std::result::Result<(), String> {
    let bad = |why: String| Err(format!("{flag} {}: {why}", path.display()));
    if path.is_dir() {
        return bad("is a directory; give a file name".into());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    match std::fs::metadata(parent) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return bad(format!("{} is not a directory", parent.display())),
        Err(e) => return bad(format!("directory {}: {e}", parent.display())),
    }
    let probe = parent.join(format!(".typenet-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => bad(format!("cannot write in {}: {e}", parent.display())),
    }
}

/// Checks, before any training, that directory `path` (the value of `flag`) exists or can be
/// created, and accepts new files. The error names the flag, the path and the OS's reason.
pub fn check_output_dir(flag: &str, path: &std::path::Path) -> std::result::Result<(), String> {
    let bad = |why: String| Err(format!("{flag} {}: {why}", path.display()));
    if path.exists() && !path.is_dir() {
        return bad("exists and is not a directory".into());
    }
    if let Err(e) = std::fs::create_dir_all(path) {
        return bad(format!("cannot create the directory: {e}"));
    }
    let probe = path.join(format!(".typenet-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => bad(format!("cannot write in it: {e}")),
    }
}

/// Exits with code 2 (a usage error, as `clap`'s) printing the first failed check, if any.
pub fn require_valid(checks: impl IntoIterator<Item = std::result::Result<(), String>>) {
    for check in checks {
        if let Err(why) = check {
            eprintln!("error: {why}");
            std::process::exit(2);
        }
    }
}

/// The ranks an example trains on: with the `mpi` feature, MPI's world (`mpirun -np N …`; one
/// rank when started without `mpirun`), otherwise this process alone.
#[cfg(feature = "mpi")]
pub type World = typenet::distributed::Mpi;
/// The ranks an example trains on: this process alone (build with `--features mpi` for more).
#[cfg(not(feature = "mpi"))]
pub type World = typenet::distributed::Single;

/// Joins the ranks (initialises MPI with the `mpi` feature); exits with code 2 if that fails.
pub fn world() -> World {
    #[cfg(feature = "mpi")]
    return match typenet::distributed::Mpi::init() {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2)
        }
    };
    #[cfg(not(feature = "mpi"))]
    typenet::distributed::Single
}

/// The exit code of an example run on `world`: as [`exit`] on one rank; on several, a rank that
/// failed prints its error and ends the whole job (`MPI_Abort`), so that no rank waits for it.
pub fn exit_world(world: &World, outcome: Outcome, missing: Option<&str>) -> ExitCode {
    use typenet::distributed::Communicator;
    #[cfg(feature = "mpi")]
    if world.size() > 1 && !matches!(outcome, Ok(Ok(()))) {
        eprint!("rank {} of {}: ", world.rank(), world.size());
        exit(outcome, missing);
        world.abort(1);
    }
    let _ = world.size();
    exit(outcome, missing)
}
