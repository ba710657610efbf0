//! A character-level language model on the `fortunes` package's text
//! (`/usr/share/games/fortunes/`): a two-layer LSTM reads 64 characters and predicts each next
//! one, `(Embedding<100, 64>, Lstm<64, 128, AllSteps>, Lstm<128, 128, AllSteps>,
//! Linear<128, 100>)`, trained with per-token cross-entropy; after each epoch it reports the
//! validation perplexity, and at the end it writes text sampled at `--temperature`.
//!
//! ```text
//! cargo run --release --example char_lm
//! cargo run --release --example char_lm -- --epochs 3 --temperature 0.7 --prompt "The " --json
//! cargo run --release --example char_lm -- --export-text /tmp/fortunes   # for the PyTorch reference
//! python3 scripts/char_lm_reference.py /tmp/fortunes                     # the same model in PyTorch
//! ```
//!
//! The text: every fortune file of the directory in name order, fortunes separated by their `%`
//! lines joined with a blank line, the first `--max-chars` characters (400,000): the first 90%
//! for training, the rest for validation, cut into windows of 65 characters (64 inputs, 64
//! next-character targets). Characters are ids by frequency in the training text (at most 100
//! ids with padding and unknown). Adam, learning rate 0.003, batches of 32.
//!
//! Result (measured): the PyTorch reference on the same text and windows reaches validation
//! perplexities 11.28, 8.93 and 8.01 after epochs 1, 2 and 3 (`scripts/char_lm_reference.py`,
//! one thread, 65 s of CPU time); this example, seed 0, reaches 10.37, 8.26 and 7.46 (143 s of
//! training on an otherwise idle 2-core machine). Its LSTM steps are dfdx tensor ops (about twenty
//! per step and layer), more CPU time per step than PyTorch's fused LSTM kernel.
//!
//! With `--json` the last line is one JSON object with `val_perplexity` (after the last epoch)
//! and the perplexity of every epoch. Without the fortunes the example exits with code 2 and the
//! `apt-get install` line.

use clap::Parser;
use rand::rngs::StdRng;
use rand::Rng;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use typenet::prelude::*;

/// Characters a window reads.
const LEN: usize = 64;
/// Ids: padding, unknown and the 98 most frequent characters.
const VOCAB: usize = 100;

type Lm = (
    Embedding<VOCAB, 64>,
    Lstm<64, 128, AllSteps>,
    Lstm<128, 128, AllSteps>,
    Linear<128, VOCAB>,
);
type Windows = TokenSet<LEN, VOCAB, TokenClasses<LEN, VOCAB>>;

/// A character-level LSTM language model on fortunes.
#[derive(Debug, Parser)]
struct Args {
    /// Directory of the fortune files.
    #[arg(long, default_value = "/usr/share/games/fortunes")]
    fortunes: PathBuf,
    /// Training epochs.
    #[arg(long, default_value_t = 3)]
    epochs: usize,
    /// Seed of the initial weights, the batch order and the sampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Characters of text used (training and validation).
    #[arg(long, default_value_t = 400_000)]
    max_chars: usize,
    /// Sampling temperature: below 1 sharper, above 1 flatter.
    #[arg(long, default_value_t = 0.8)]
    temperature: f64,
    /// The text sampling starts from.
    #[arg(long, default_value = "The ")]
    prompt: String,
    /// Characters to sample.
    #[arg(long, default_value_t = 300)]
    sample_chars: usize,
    /// Write the training and validation text (`train.txt`, `val.txt`) to this directory.
    #[arg(long)]
    export_text: Option<PathBuf>,
    /// Print one JSON object with the results as the last line.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.fortunes.is_dir() {
        eprintln!(
            "error: no fortunes under {}: install them with\n    sudo apt-get install -y fortunes",
            args.fortunes.display()
        );
        return ExitCode::from(2);
    }
    if !(args.temperature > 0.0 && args.temperature.is_finite()) {
        eprintln!("error: --temperature must be a positive number");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The fortunes of every file (no `.dat`, `.u8` or other dotted names), in name order.
fn load_text(args: &Args) -> typenet::Result<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.fortunes)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && !p.is_symlink() && p.extension().is_none())
        .collect();
    files.sort();
    let mut text = String::new();
    for file in files {
        let mut fortune = Vec::new();
        for (_, line) in typenet::data::read_lines(&file)? {
            if line == "%" {
                if !fortune.is_empty() {
                    text.push_str(&fortune.join("\n"));
                    text.push_str("\n\n");
                    fortune.clear();
                }
            } else {
                fortune.push(line);
            }
        }
        if !fortune.is_empty() {
            text.push_str(&fortune.join("\n"));
            text.push_str("\n\n");
        }
    }
    Ok(text.chars().take(args.max_chars).collect())
}

/// Windows of 65 characters, one apart by 64: inputs and next-character targets.
fn windows(text: &[u32]) -> typenet::Result<Windows> {
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start + LEN < text.len() {
        inputs.push(text[start..start + LEN].to_vec());
        let mut t = [0usize; LEN];
        for (slot, &id) in t.iter_mut().zip(&text[start + 1..start + LEN + 1]) {
            *slot = id as usize;
        }
        targets.push(t);
        start += LEN;
    }
    TokenSet::from_sequences(&inputs, targets, Pad::End)
}

fn run(args: &Args) -> typenet::Result<()> {
    let text = load_text(args)?;
    let chars: Vec<char> = text.chars().collect();
    let cut = chars.len() * 9 / 10;
    let (train_text, val_text): (String, String) =
        (chars[..cut].iter().collect(), chars[cut..].iter().collect());
    if let Some(dir) = &args.export_text {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("train.txt"), &train_text)?;
        std::fs::write(dir.join("val.txt"), &val_text)?;
        println!("text written to {}", dir.display());
    }
    let vocab = CharVocab::build([train_text.as_str()], Some(VOCAB));
    let train = windows(&vocab.encode(&train_text))?;
    let val = windows(&vocab.encode(&val_text))?;
    println!(
        "{} training windows, {} validation windows of {LEN} characters, {} character ids",
        train.len(),
        val.len(),
        vocab.len()
    );

    let dev = Cpu::seed_from_u64(args.seed);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<Lm, f32>(),
        AdamConfig {
            lr: 3e-3,
            ..Default::default()
        },
        TokenCrossentropy,
        &["perplexity"],
    )?;
    let start = Instant::now();
    let cfg = FitConfig {
        epochs: args.epochs,
        batch_size: 32,
        seed: args.seed,
        verbosity: if args.json {
            Verbosity::Silent
        } else {
            Verbosity::Lines
        },
        ..Default::default()
    };
    let history = model.fitting(&train).validation(&val).run(&cfg)?;
    let perplexities = history.series("val_perplexity").unwrap_or_default();
    for (epoch, p) in perplexities.iter().enumerate() {
        println!("epoch {}: validation perplexity {p:.3}", epoch + 1);
    }

    let sample = sample(args, &model.model, &vocab)?;
    println!(
        "sampled at temperature {}:\n{}{}",
        args.temperature, args.prompt, sample
    );

    if args.json {
        let list: Vec<String> = perplexities.iter().map(|p| format!("{p:.3}")).collect();
        println!(
            "{{\"val_perplexity\": {:.3}, \"epoch_perplexities\": [{}], \"train_windows\": {}, \"val_windows\": {}, \"seed\": {}, \"seconds\": {:.1}}}",
            perplexities.last().copied().unwrap_or(f64::NAN),
            list.join(", "),
            train.len(),
            val.len(),
            args.seed,
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// `--sample-chars` characters after `--prompt`, each drawn from the model's distribution for
/// the last (up to) 64 characters, sharpened or flattened by `--temperature`.
fn sample(args: &Args, model: &Built<Lm>, vocab: &CharVocab) -> typenet::Result<String> {
    let dev = Cpu::seed_from_u64(args.seed);
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut ids = vocab.encode(&args.prompt);
    if ids.is_empty() {
        ids.push(vocab.id('\n'));
    }
    let mut out = Vec::new();
    for _ in 0..args.sample_chars {
        let context = &ids[ids.len().saturating_sub(LEN)..];
        let x = dev.tensor_from_vec(
            context.iter().map(|&id| id as f32).collect(),
            (1, context.len(), Vocab::<VOCAB>),
        );
        let logits = model.try_forward(x).map_err(Error::device)?.as_vec();
        let last = &logits[logits.len() - VOCAB..];
        // softmax of logits / temperature, padding and unknown never drawn
        let m = last.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let weights: Vec<f64> = last
            .iter()
            .enumerate()
            .map(|(i, &z)| {
                if i < 2 {
                    0.0
                } else {
                    ((z as f64 - m) / args.temperature).exp()
                }
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut u = rng.r#gen::<f64>() * total;
        let mut next = weights.len() - 1;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                next = i;
                break;
            }
            u -= w;
        }
        ids.push(next as u32);
        out.push(next as u32);
    }
    Ok(vocab.decode(&out))
}
