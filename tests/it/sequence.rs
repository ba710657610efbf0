//! Sequence models: token data, embeddings, GRU and LSTM, self-attention, sequence pooling,
//! per-token losses and metrics.
//!
//! - GRU and LSTM against PyTorch's `nn.GRU` / `nn.LSTM` on the same weights (values recorded
//!   once by `scripts/pytorch_sequence_fixtures.py` in `tests/fixtures/pytorch/sequence.json`):
//!   the whole output and the gradients of `sum(y · gy)`;
//! - every layer's gradients against finite differences in f64 (property tests);
//! - token models trained by `fit` on tasks whose answer is known;
//! - token files, vocabularies and their errors.

use crate::support::tmp_dir;
use proptest::prelude::*;
use serde_json::Value;
use typenet::gradcheck::strategy;
use typenet::prelude::*;

/// The record called `name` of the sequence fixtures.
fn record(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/pytorch/sequence.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    file["records"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == name))
        .unwrap_or_else(|| panic!("no fixture `{name}`"))
        .clone()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|x| x.as_f64().unwrap_or_else(|| panic!("not a number: {x}")) as f32)
        .collect()
}

/// `got` equals `want` to `2e-5` relative, elements near zero held to the tensor's scale.
fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(0.0f64, |m, &w| m.max((w as f64).abs())) / 100.0;
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g, w) = (g as f64, w as f64);
        let tol = 2e-5 * w.abs().max(scale);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: typenet {g:e}, PyTorch {w:e} (differ by {:e}, allowed {tol:e})",
            (g - w).abs()
        );
    }
}

/// Loads PyTorch's parameters into a built GRU or LSTM, runs it on the recorded input and
/// compares the whole output, the last step and every gradient.
macro_rules! against_pytorch {
    ($name:literal, $layer:ident, $s:literal, $i:literal, $h:literal) => {{
        let rec = record($name);
        let dev = Cpu::default();
        let mut all = dev.build_module::<$layer<$i, $h, AllSteps>, f32>();
        let p = &rec["params"];
        all.weight_ih.copy_from(&floats(&p["weight_ih_l0"]));
        all.weight_hh.copy_from(&floats(&p["weight_hh_l0"]));
        all.bias_ih.copy_from(&floats(&p["bias_ih_l0"]));
        all.bias_hh.copy_from(&floats(&p["bias_hh_l0"]));
        let xv = floats(&rec["x"]);
        let b = xv.len() / ($s * $i);
        let x = dev.tensor_from_vec(xv, (b, Const::<$s>, Const::<$i>));
        let want_y = floats(&rec["y"]);
        let gy = dev.tensor_from_vec(floats(&rec["gy"]), (b, Const::<$s>, Const::<$h>));
        let y = all.forward(x.leaky_trace());
        assert_close(concat!($name, ": output"), &y.as_vec(), &want_y);
        let grads = y.try_mul(gy).unwrap().sum().backward();
        assert_close(
            concat!($name, ": ∂/∂x"),
            &grads.get(&x).as_vec(),
            &floats(&rec["grad_x"]),
        );
        let g = &rec["grads"];
        for (key, t) in [
            ("weight_ih_l0", grads.get(&all.weight_ih).as_vec()),
            ("weight_hh_l0", grads.get(&all.weight_hh).as_vec()),
            ("bias_ih_l0", grads.get(&all.bias_ih).as_vec()),
            ("bias_hh_l0", grads.get(&all.bias_hh).as_vec()),
        ] {
            assert_close(&format!("{}: ∂/∂{key}", $name), &t, &floats(&g[key]));
        }
        // the same weights returning the last state: PyTorch's output at the last step
        let last = typenet::nn::modules::$layer::<$i, $h, LastStep, f32, Cpu> {
            weight_ih: all.weight_ih.clone(),
            weight_hh: all.weight_hh.clone(),
            bias_ih: all.bias_ih.clone(),
            bias_hh: all.bias_hh.clone(),
            steps: std::marker::PhantomData,
        };
        let h = last.forward(x.clone()).as_vec();
        let want_last: Vec<f32> = want_y
            .chunks($s * $h)
            .flat_map(|seq| seq[($s - 1) * $h..].to_vec())
            .collect();
        assert_close(concat!($name, ": last state"), &h, &want_last);
    }};
}

#[test]
fn gru_equals_pytorch() {
    against_pytorch!("gru", Gru, 5, 4, 6);
    against_pytorch!("gru_long", Gru, 16, 3, 8);
}

#[test]
fn lstm_equals_pytorch() {
    against_pytorch!("lstm", Lstm, 5, 4, 6);
    against_pytorch!("lstm_long", Lstm, 16, 3, 8);
}

#[test]
fn embedding_bag_equals_pytorch() {
    let rec = record("embedding_bag");
    let dev = Cpu::default();
    let mut m = dev.build_module::<EmbeddingBag<7, 3>, f32>();
    m.weight.copy_from(&floats(&rec["weight"]));
    let ids = floats(&rec["ids"]);
    let x = dev.tensor_from_vec(ids, (3, Const::<4>, Vocab::<7>));
    assert_close("embedding_bag", &m.forward(x).as_vec(), &floats(&rec["y"]));
}

#[test]
fn self_attention_and_encoder_block_equal_pytorch() {
    let rec = record("encoder_block");
    let p = &rec["params"];
    let dev = Cpu::default();
    let mut m = dev.build_module::<EncoderBlock<8, 2, 12>, f32>();
    // PyTorch packs the query, key and value projections in one (3·M, M) matrix
    let (w, b) = (floats(&p["in_proj_weight"]), floats(&p["in_proj_bias"]));
    let a = &mut m.attention;
    for (i, l) in [&mut a.w_q, &mut a.w_k, &mut a.w_v].into_iter().enumerate() {
        l.weight.copy_from(&w[i * 64..(i + 1) * 64]);
        l.bias.copy_from(&b[i * 8..(i + 1) * 8]);
    }
    a.w_o.weight.copy_from(&floats(&p["out_proj.weight"]));
    a.w_o.bias.copy_from(&floats(&p["out_proj.bias"]));
    m.ff1.weight.copy_from(&floats(&p["linear1.weight"]));
    m.ff1.bias.copy_from(&floats(&p["linear1.bias"]));
    m.ff2.weight.copy_from(&floats(&p["linear2.weight"]));
    m.ff2.bias.copy_from(&floats(&p["linear2.bias"]));
    m.norm1.gamma.copy_from(&floats(&p["norm1.weight"]));
    m.norm1.beta.copy_from(&floats(&p["norm1.bias"]));
    m.norm2.gamma.copy_from(&floats(&p["norm2.weight"]));
    m.norm2.beta.copy_from(&floats(&p["norm2.bias"]));
    let x = dev.tensor_from_vec(floats(&rec["x"]), (2, Const::<5>, Const::<8>));
    let attn = m.attention.forward(x.leaky_trace());
    assert_close("attention", &attn.as_vec(), &floats(&rec["attention"]));
    let gy = dev.tensor_from_vec(floats(&rec["gy"]), (2, Const::<5>, Const::<8>));
    let grads = attn.try_mul(gy).unwrap().sum().backward();
    assert_close(
        "attention: ∂/∂x",
        &grads.get(&x).as_vec(),
        &floats(&rec["attention_grad_x"]),
    );
    assert_close("encoder block", &m.forward(x).as_vec(), &floats(&rec["y"]));
}

type TestResult = std::result::Result<(), TestCaseError>;

fn check<M: GradCheckModel<S>, S: Shape>(model: &mut M, x: &Tensor<S, f64, Cpu>) -> TestResult {
    gradcheck(model, x, &GradCheckConfig::default())?;
    Ok(())
}

/// Token ids below `V` (padding included) for `B` sequences of `L`, as an f64 batch.
fn ids<const B: usize, const L: usize, const V: usize>(
) -> impl Strategy<Value = Tensor<(Const<B>, Const<L>, Vocab<V>), f64, Cpu>> {
    prop::collection::vec(0..V, B * L).prop_map(|v| {
        Cpu::default().tensor_from_vec(
            v.into_iter().map(|i| i as f64).collect(),
            (Const, Const, Vocab),
        )
    })
}

/// Parameters only: ids are not differentiable.
fn check_params<M: GradCheckModel<S>, S: Shape>(
    model: &mut M,
    x: &Tensor<S, f64, Cpu>,
) -> TestResult {
    let config = GradCheckConfig {
        check_input: false,
        ..Default::default()
    };
    gradcheck(model, x, &config)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn gru_last_state(mut m in strategy::model::<Gru<3, 4>>(), x in strategy::tensor::<Rank3<2, 3, 3>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn gru_stacked_all_steps(mut m in strategy::model::<(Gru<3, 4, AllSteps>, Gru<4, 3, AllSteps>)>(), x in strategy::tensor::<Rank3<2, 3, 3>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn lstm_last_state(mut m in strategy::model::<Lstm<3, 4>>(), x in strategy::tensor::<Rank3<2, 3, 3>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn lstm_stacked_all_steps(mut m in strategy::model::<(Lstm<3, 4, AllSteps>, Lstm<4, 3>)>(), x in strategy::tensor::<Rank3<2, 3, 3>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn embedding_into_gru(mut m in strategy::model::<(Embedding<5, 3>, Gru<3, 3>, Linear<3, 2>)>(), x in ids::<2, 3, 5>()) {
        check_params(&mut m, &x)?;
    }

    #[test]
    fn embedding_bag(mut m in strategy::model::<(EmbeddingBag<5, 3>, Linear<3, 2>)>(), x in ids::<3, 4, 5>()) {
        check_params(&mut m, &x)?;
    }

    #[test]
    fn positional_embedding_and_mean(mut m in strategy::model::<(PositionalEmbedding<3, 4>, SeqMean)>(), x in strategy::tensor::<Rank3<2, 3, 4>>(-2.0..2.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn self_attention(mut m in strategy::model::<SelfAttention<4, 2>>(), x in strategy::tensor::<Rank3<2, 3, 4>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn encoder_block(mut m in strategy::model::<(EncoderBlock<4, 2, 6>, SeqMean)>(), x in strategy::tensor::<Rank3<2, 3, 4>>(-1.0..1.0)) {
        check(&mut m, &x)?;
    }

    #[test]
    fn max_first_and_last_pooling(x in strategy::tensor_distinct::<Rank3<2, 3, 4>>(-2.0..2.0, 0.05)) {
        check(&mut SeqMax, &x)?;
        check(&mut SeqFirst, &x)?;
        check(&mut SeqLast, &x)?;
    }
}

/// Sequences of 4 ids in 1..6; the label says whether id 5 occurs.
fn contains_five() -> TokenSet<4, 6, Classes<2>> {
    let mut rng = StdRngLike(7);
    let mut seqs = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..96 {
        let len = 1 + rng.next() % 4;
        let s: Vec<u32> = (0..len).map(|_| 1 + (rng.next() % 5) as u32).collect();
        labels.push(usize::from(s.contains(&5)));
        seqs.push(s);
    }
    TokenSet::from_sequences(&seqs, labels, Pad::Start).unwrap()
}

/// A tiny linear congruential generator: fixed data without depending on an RNG crate's stream.
struct StdRngLike(u64);

impl StdRngLike {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
}

fn fit_config(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 16,
        verbosity: Verbosity::Silent,
        ..Default::default()
    }
}

#[test]
fn gru_on_embeddings_learns_whether_a_token_occurs() -> typenet::Result<()> {
    let data = contains_five();
    let counts = data.targets().iter().filter(|&&t| t == 1).count();
    assert!((20..76).contains(&counts), "both classes occur: {counts}");
    let dev = Cpu::seed_from_u64(3);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<(Embedding<6, 8>, Gru<8, 16>, Linear<16, 2>), f32>(),
        AdamConfig {
            lr: 0.02,
            ..Default::default()
        },
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    let before = model.evaluate(&data)?;
    model.fit(&data, &fit_config(25))?;
    let after = model.evaluate(&data)?;
    assert!(after.loss < before.loss / 4.0, "{before} → {after}");
    assert!(after.metrics["accuracy"] >= 0.95, "{after}");
    Ok(())
}

#[test]
fn lstm_and_bag_train_through_fit() -> typenet::Result<()> {
    let data = contains_five();
    let dev = Cpu::seed_from_u64(4);
    let mut lstm = Trainer::compile(
        &dev,
        dev.build_module::<(Embedding<6, 8>, Lstm<8, 16>, Linear<16, 2>), f32>(),
        AdamConfig {
            lr: 0.02,
            ..Default::default()
        },
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    lstm.fit(&data, &fit_config(25))?;
    assert!(lstm.evaluate(&data)?.metrics["accuracy"] >= 0.95);
    // a bag of tokens sees whether 5 is among them, padding left out
    let mut bag = Trainer::compile(
        &dev,
        dev.build_module::<(EmbeddingBag<6, 8>, Linear<8, 2>), f32>(),
        AdamConfig {
            lr: 0.05,
            ..Default::default()
        },
        SparseCategoricalCrossentropy,
        &["accuracy"],
    )?;
    bag.fit(&data, &fit_config(40))?;
    assert!(bag.evaluate(&data)?.metrics["accuracy"] >= 0.95);
    Ok(())
}

#[test]
fn summaries_count_recurrent_parameters_as_pytorch() {
    // nn.GRU(8, 16): 3·16·(8 + 16) + 2·3·16 = 1,248; nn.LSTM(8, 16): 4·16·24 + 2·4·16 = 1,664
    type Net = (
        Embedding<64, 8>,
        Gru<8, 16, AllSteps>,
        Lstm<16, 16>,
        Linear<16, 6>,
    );
    let s = summary::<Net, Tokens<12, 64>>();
    let params: Vec<usize> = s.rows.iter().map(|r| r.params).collect();
    assert_eq!(params, [512, 1_248, 2_176, 102]);
    assert_eq!(s.rows[1].output, [12, 16]);
    assert_eq!(s.rows[2].output, [16]);
    assert_eq!(<Lstm<8, 16> as Params>::PARAMS, 1_664);
}

#[test]
fn token_files_become_samples_and_name_the_bad_line() -> typenet::Result<()> {
    let dir = tmp_dir("tokens");
    let good = dir.join("words.txt");
    std::fs::write(&good, "ab\r\n\nbca\n")?;
    let vocab = CharVocab::build(["abc"], None);
    let data = TokenSet::<3, 5, Classes<2>>::from_text_file(&good, &vocab, 1, Pad::End)?;
    assert_eq!(data.len(), 2);
    assert_eq!(data.ids(0), [2, 3, 0]);
    assert_eq!(data.ids(1), [3, 4, 2]);
    assert_eq!(data.lengths(), [2, 3]);

    let long = dir.join("long.txt");
    std::fs::write(&long, "a\nb\nabca\n")?;
    let err = TokenSet::<3, 5, Classes<2>>::from_text_file(&long, &vocab, 0, Pad::End).unwrap_err();
    assert!(matches!(&err, Error::TextLine { line: 3, .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("long.txt: line 3: 4 tokens"), "{text}");

    let bytes = dir.join("latin1.txt");
    std::fs::write(&bytes, b"ab\nc\xe9\n")?;
    let err =
        TokenSet::<3, 5, Classes<2>>::from_text_file(&bytes, &vocab, 0, Pad::End).unwrap_err();
    assert!(matches!(&err, Error::TextLine { line: 2, .. }), "{err:?}");

    // a vocabulary of 5 ids (PAD, OOV, a, b, c) does not fit a vocabulary type of 4
    let err = TokenSet::<3, 4, Classes<2>>::from_text_file(&good, &vocab, 0, Pad::End).unwrap_err();
    assert!(
        matches!(err, Error::VocabularyTooLarge { size: 5, max: 4 }),
        "{err:?}"
    );

    let err =
        TokenSet::<3, 5, Classes<2>>::from_text_file(dir.join("absent.txt"), &vocab, 0, Pad::End)
            .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    Ok(())
}

#[test]
fn ids_reach_the_model_as_exact_values() -> typenet::Result<()> {
    // the largest id of a 2^24 vocabulary survives the trip through f32
    let top = (1u32 << 24) - 1;
    let data =
        TokenSet::<2, { 1 << 24 }, Classes<1>>::from_sequences(&[vec![top, 0]], vec![0], Pad::End)?;
    let mut x = [0.0f32; 2];
    data.write_features(0, &mut x);
    assert_eq!(x[0] as u32, top);
    Ok(())
}

#[test]
fn token_cross_entropy_averages_the_counted_tokens() -> std::result::Result<(), CpuError> {
    let dev = Cpu::default();
    // sequence 1: logits (ln 3, 0) for class 0 → p = 3/4; padding
    // sequence 2: logits (0, 0) for class 1 → p = 1/2; logits (0, ln 3) for class 0 → p = 1/4
    let l3 = 3.0f64.ln();
    let logits = dev.tensor_from_vec(
        vec![l3, 0.0, 7.0, -7.0, 0.0, 0.0, 0.0, l3],
        (2, Const::<2>, Const::<2>),
    );
    let targets = dev.tensor_from_vec(vec![0usize, IGNORE, 1, 0], (2, Const::<2>));
    let loss = TokenCrossentropy.try_loss(logits.clone(), &targets)?;
    let want = -((0.75f64).ln() + (0.5f64).ln() + (0.25f64).ln()) / 3.0;
    assert!(
        (loss.array() - want).abs() < 1e-12,
        "{} vs {want}",
        loss.array()
    );
    // its gradient, padding included (zero there), against finite differences
    let f = |y: Tensor<(usize, Const<2>, Const<2>), f64, Cpu, OwnedTape<f64, Cpu>>| {
        TokenCrossentropy.try_loss(y, &targets)
    };
    let report = gradcheck_fn(f, &logits, &GradCheckConfig::default()).unwrap();
    assert!(report.passed());
    Ok(())
}

#[test]
fn per_token_targets_outside_the_classes_are_refused() {
    let err = TokenSet::<2, 4, TokenClasses<2, 3>>::from_sequences(
        &[vec![1u32, 2]],
        vec![[0, 3]],
        Pad::End,
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ClassOutOfRange {
                sample: Some(0),
                class: 3,
                classes: 3
            }
        ),
        "{err:?}"
    );
}

#[test]
fn perplexity_and_accuracy_leave_padding_out() {
    use typenet::data::Targets;
    let mut p = metric("perplexity").unwrap();
    let mut a = metric("accuracy").unwrap();
    // rows: uniform over 2 (class 1: p = 1/2, arg-max 0: a miss), padding, certain and right
    let outputs = [0.0, 0.0, 50.0, -50.0, 40.0, 0.0];
    let targets = Targets::Classes(&[1, IGNORE, 0]);
    p.update(&outputs, 2, targets);
    a.update(&outputs, 2, targets);
    // exp(mean(ln 2, ~0)) = √2
    assert!((p.compute() - 2f64.sqrt()).abs() < 1e-9, "{}", p.compute());
    assert_eq!(a.compute(), 0.5);
}

/// Sequences of 1 to 5 ids in 1..6 padded at the end; each position's target is the id before
/// it (the first position's is the id itself), padding ignored.
fn previous_token() -> TokenSet<5, 6, TokenClasses<5, 6>> {
    let mut rng = StdRngLike(11);
    let (mut seqs, mut targets) = (Vec::new(), Vec::new());
    for _ in 0..64 {
        let len = 1 + rng.next() % 5;
        let s: Vec<u32> = (0..len).map(|_| 1 + (rng.next() % 5) as u32).collect();
        let mut t = [IGNORE; 5];
        for (i, slot) in t.iter_mut().enumerate().take(len) {
            *slot = s[i.saturating_sub(1)] as usize;
        }
        seqs.push(s);
        targets.push(t);
    }
    TokenSet::from_sequences(&seqs, targets, Pad::End).unwrap()
}

#[test]
fn a_per_token_model_trains_on_token_targets() -> typenet::Result<()> {
    let data = previous_token();
    let dev = Cpu::seed_from_u64(5);
    let mut model = Trainer::compile(
        &dev,
        dev.build_module::<(Embedding<6, 8>, Gru<8, 16, AllSteps>, Linear<16, 6>), f32>(),
        AdamConfig {
            lr: 0.02,
            ..Default::default()
        },
        TokenCrossentropy,
        &["accuracy", "perplexity"],
    )?;
    let before = model.evaluate(&data)?;
    // five equally likely ids at first: perplexity near 6 (six outputs)
    assert!(before.metrics["perplexity"] > 3.0, "{before}");
    model.fit(&data, &fit_config(30))?;
    let after = model.evaluate(&data)?;
    assert!(after.metrics["accuracy"] >= 0.95, "{after}");
    assert!(after.metrics["perplexity"] < 1.3, "{after}");
    Ok(())
}
