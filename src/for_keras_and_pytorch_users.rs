//! # typenet for Keras and PyTorch users
//!
//! A phrase book: each table pairs what you write in Keras or PyTorch with what typenet (and the
//! dfdx it stands on) calls the same thing. Everything named here is in
//! [`typenet::prelude`](crate::prelude), so one `use typenet::prelude::*;` brings it in. The
//! numbered tutorial examples (`examples/01_neuron.rs` onward, listed in the README) walk the
//! same ground with running code.
//!
//! The one idea to take away: **a model is a type**. Keras builds a graph at run time and checks
//! shapes when data first flows; PyTorch checks them when the operation runs. typenet writes the
//! layer sizes into the type, `(Linear<784, 128>, ReLU, Linear<128, 10>)`, so a layer that does
//! not fit the one before it, a data set whose samples do not fit the input, or labels that do
//! not fit the output are compile errors. The batch size stays a run-time number.
//!
//! ## Models and layers
//!
//! | Keras | PyTorch | typenet |
//! |---|---|---|
//! | `Sequential([...])` | `nn.Sequential(...)` | a tuple type: `(A, B, C)` |
//! | `Dense(128)` | `nn.Linear(784, 128)` | [`Linear<784, 128>`](crate::prelude::Linear) (input width written out) |
//! | `Dense(128, use_bias=False)` | `nn.Linear(…, bias=False)` | [`UnbiasedLinear<784, 128>`](crate::prelude::UnbiasedLinear) |
//! | `activation="relu"` / `ReLU()` | `nn.ReLU()` | [`ReLU`](crate::prelude::ReLU), a layer of its own |
//! | `"sigmoid"`, `"tanh"` | `nn.Sigmoid()`, `nn.Tanh()` | [`Sigmoid`](crate::prelude::Sigmoid), [`Tanh`](crate::prelude::Tanh) |
//! | `"gelu"` | `nn.GELU()` | [`ExactGeLU`](crate::prelude::ExactGeLU) (the erf form; dfdx's `AccurateGeLU` has a wrong gradient) |
//! | `gelu(x, approximate=True)` | `nn.GELU(approximate="tanh")` | [`FastGeLU`](crate::prelude::FastGeLU) (dfdx's deprecated `GeLU` is this one) |
//! | `LeakyReLU(0.01)` | `nn.LeakyReLU(0.01)` | [`LeakyReLU(0.01)`](crate::prelude::LeakyReLU) |
//! | `Softmax()` | `nn.Softmax(dim=-1)` | [`Softmax`](crate::prelude::Softmax) (rarely needed: losses take logits) |
//! | `Dropout(0.5)` | `nn.Dropout(0.5)` | [`Dropout`](crate::prelude::Dropout) (probability as a field), [`DropoutOneIn<2>`](crate::prelude::DropoutOneIn) |
//! | `BatchNormalization()` | `nn.BatchNorm1d(n)` | [`BatchNorm1D<N>`](crate::prelude::BatchNorm1D) |
//! | `LayerNormalization()` | `nn.LayerNorm(n)` | [`LayerNorm1D<N>`](crate::prelude::LayerNorm1D) |
//! | `Embedding(v, d)` | `nn.Embedding(v, d)` | [`Embedding<V, D>`](crate::prelude::Embedding) |
//! | `BatchNormalization()` after `Conv2D` | `nn.BatchNorm2d(c)` | [`BatchNorm2D<C>`](crate::prelude::BatchNorm2D) |
//! | `GlobalAveragePooling2D()` | `nn.AdaptiveAvgPool2d(1)` + flatten | [`AvgPoolGlobal`](crate::prelude::AvgPoolGlobal) (`(B, C, H, W)` → `(B, C)`) |
//! | `UpSampling2D(2)` | `nn.Upsample(scale_factor=2)` | [`Upscale2D<2>`](crate::prelude::Upscale2D) (nearest neighbour) |
//! | `Add()([f(x), g(x)])` | `f(x) + g(x)` in `forward` | [`GeneralizedResidual<F, R>`](crate::prelude::GeneralizedResidual); [`SplitInto`](crate::prelude::SplitInto) / [`AddInto`](crate::prelude::AddInto) for several branches |
//! | a skip connection | `x + f(x)` in `forward` | [`Residual<F>`](crate::prelude::Residual) |
//! | `Model(inputs=[a, b], …)` | `forward(self, a, b)` | samples of [`Inputs<(A, B)>`](crate::data::Inputs) (or [`Zip`](crate::data::Zip) of two data sets), a model starting with [`Unpack`](crate::nn::Unpack) |
//! | one branch per input | a submodule per argument | [`Parallel<(BranchA, BranchB)>`](crate::nn::Parallel) |
//! | `Concatenate()([a, b])` | `torch.cat([a, b], dim=1)` | [`Concat<N>`](crate::nn::Concat) (`N` = the widths' sum, checked when built) |
//! | `Model(…, outputs=[c, v])` | `return c, v` | [`SplitInto<(HeadC, HeadV)>`](crate::prelude::SplitInto) then [`Pack`](crate::nn::Pack); targets [`PerOutput<(Classes<10>, Values<1>)>`](crate::data::PerOutput) |
//! | `loss=[…, …], loss_weights=[1, 0.5]` | `l1 + 0.5 * l2` | [`Losses::weighted((L1, L2), [1.0, 0.5])`](crate::losses::Losses) |
//! | `metrics={"value": "mae"}` | — | `"output1_mae"` ([`on_output`](crate::train::metrics::on_output)) |
//! | `layer.trainable = False` | `p.requires_grad_(False)` for its parameters | [`Frozen<M>`](crate::nn::frozen) around the sub-model (its tensors keep their names) |
//! | `model = …` (build) | `model = Net()` | `dev.build_module::<Model, f32>()` |
//! | `model.summary()` | `torchinfo.summary(model)` | [`summary::<Model, Rank1<784>>()`](crate::nn::summary) |
//! | `model.count_params()` | `sum(p.numel() for p in …)` | [`<Model as Params>::PARAMS`](crate::nn::Params), a compile-time constant |
//! | `model(x, training=False)` | `model.eval(); model(x)` | `model.forward(x)` ([`Module`](crate::prelude::Module)) |
//! | `model(x, training=True)` | `model.train(); model(x)` | `model.forward_mut(x.traced(grads))` ([`ModuleMut`](crate::prelude::ModuleMut)) |
//!
//! Convolutional layers: see the `06_fashion_mnist_cnn` example.
//!
//! ## Losses
//!
//! Losses take the model's raw outputs (logits) where Keras would put a softmax or sigmoid in the
//! last layer: the fused form is exact where `log(softmax(z))` underflows.
//!
//! | Keras | PyTorch | typenet |
//! |---|---|---|
//! | `"sparse_categorical_crossentropy"` (`from_logits=True`) | `nn.CrossEntropyLoss()` | [`SparseCategoricalCrossentropy`](crate::losses::SparseCategoricalCrossentropy) |
//! | `"categorical_crossentropy"` (`from_logits=True`) | `nn.CrossEntropyLoss()` with probabilities | [`CategoricalCrossentropy`](crate::losses::CategoricalCrossentropy) |
//! | `"binary_crossentropy"` | — | [`BinaryCrossentropy`](crate::losses::BinaryCrossentropy) (after a [`Sigmoid`](crate::prelude::Sigmoid) layer; Keras's clip) |
//! | — | `nn.BCELoss()` | [`BceLoss`](crate::losses::BceLoss) (PyTorch's log clamp and gradient) |
//! | `BinaryCrossentropy(from_logits=True)` | `nn.BCEWithLogitsLoss()` | [`BinaryCrossentropyWithLogits`](crate::losses::BinaryCrossentropyWithLogits) |
//! | `"mse"` | `nn.MSELoss()` | [`MeanSquaredError`](crate::losses::MeanSquaredError) |
//! | `"mae"` | `nn.L1Loss()` | [`MeanAbsoluteError`](crate::losses::MeanAbsoluteError) |
//! | `Huber(delta)` | `nn.HuberLoss(delta=…)` | [`Huber`](crate::losses::Huber) |
//!
//! ## Optimizers
//!
//! | Keras | PyTorch | typenet |
//! |---|---|---|
//! | — | `optim.Adam(params, lr=1e-3)` | [`AdamPrecise { lr: 1e-3, ..Default::default() }`](crate::optim::AdamPrecise) |
//! | `"adam"`, `Adam(learning_rate=1e-3)` | — | [`AdamPrecise::keras()`](crate::optim::AdamPrecise::keras) |
//! | `AdamW(weight_decay=λ)` | `optim.AdamW(…, weight_decay=λ)` | `AdamPrecise { weight_decay: Some(`[`WeightDecay::Decoupled`](crate::prelude::WeightDecay)`(λ)), .. }` |
//! | — | `optim.Adam(…, weight_decay=λ)` | `AdamPrecise { weight_decay: Some(WeightDecay::L2(λ)), .. }` |
//! | `SGD(learning_rate, momentum, nesterov)` | `optim.SGD(params, lr, momentum, nesterov=…)` | [`SgdConfig`](crate::prelude::SgdConfig) with [`Momentum`](crate::prelude::Momentum) (dfdx's; PyTorch's rule) |
//! | — | `optim.RMSprop(params)` | [`RmsProp::default()`](crate::optim::RmsProp) (`momentum`, `centered` as fields) |
//! | `RMSprop()` | — | [`RmsProp::keras()`](crate::optim::RmsProp::keras) |
//! | `optimizer.learning_rate = …` | `group["lr"] = …` | [`LearningRate::set_lr`](crate::optim::LearningRate::set_lr) |
//!
//! [`AdamPrecise`](crate::optim::AdamPrecise) and [`RmsProp`](crate::optim::RmsProp) are
//! resumable (their state saves with [`Trainer::save_state`](crate::train::Trainer::save_state)).
//! dfdx's [`AdamConfig`](crate::prelude::AdamConfig) (→ [`Adam`](crate::prelude::Adam)) also
//! trains, and `Resumable(AdamConfig { … })` makes it resumable; see below for how its numbers
//! differ. dfdx's [`RMSpropConfig`](crate::prelude::RMSpropConfig) is neither framework's rule.
//!
//! ## Where the numbers differ
//!
//! typenet's layers, losses and optimizers are checked against numbers recorded from PyTorch
//! (float32, to `1e-5` relative): `Linear`, `Conv2D` (with stride and padding), `MaxPool2D`,
//! `AvgPool2D`, `Flatten2D`, the activations ([`ExactGeLU`](crate::prelude::ExactGeLU) for GELU), `BatchNorm1D` in training, every loss above
//! (value and gradient) and SGD, [`AdamPrecise`](crate::optim::AdamPrecise) and
//! [`RmsProp`](crate::optim::RmsProp). What is left differs on purpose or by default:
//!
//! - **Adam, dfdx's**: [`AdamConfig`](crate::prelude::AdamConfig) computes the bias corrections
//!   `1 − β₁ᵗ`, `1 − β₂ᵗ` in `f32` (`0.999f32` is not `0.999`), so each update is off by up to
//!   about `1e-5` relative; [`AdamPrecise`](crate::optim::AdamPrecise) computes them in `f64` as
//!   PyTorch and Keras do. dfdx's Adam with `WeightDecay::L2` is PyTorch's `Adam(weight_decay)`,
//!   with `Decoupled` PyTorch's `AdamW`.
//! - **Adam, Keras vs PyTorch**: Keras adds ε to `√v` before the bias correction (its
//!   "epsilon hat"), PyTorch after; the two agree unless `√v` is near ε. Keras's default ε is
//!   `1e-7`, PyTorch's `1e-8`. `AMSGrad` is not provided.
//! - **RMSprop**: PyTorch's default is `lr 1e-2, alpha 0.99, eps 1e-8` with ε outside the root;
//!   Keras's `learning_rate 1e-3, rho 0.9, epsilon 1e-7` with ε inside the root and the learning
//!   rate inside the momentum (the same as PyTorch's while the rate is constant; a schedule makes
//!   them differ). [`RmsProp`](crate::optim::RmsProp) follows either. dfdx's
//!   [`RMSpropConfig`](crate::prelude::RMSpropConfig) starts its square average at 1 instead of
//!   0, so early steps are far smaller (19 times for the first step of a gradient of 0.5).
//! - **SGD**: dfdx's [`SgdConfig`](crate::prelude::SgdConfig) is PyTorch's `SGD` without
//!   `dampening`. Keras's SGD keeps the learning rate inside the velocity (equal while the rate is
//!   constant). `WeightDecay::Decoupled` on SGD is neither framework's `weight_decay`.
//! - **Weight decay in Keras** (`weight_decay=` on any Keras 3 optimizer) is decoupled: write
//!   `WeightDecay::Decoupled`. PyTorch's `weight_decay=` is L2 except in `AdamW`.
//! - **Binary cross-entropy**: [`BinaryCrossentropy`](crate::losses::BinaryCrossentropy) clips
//!   probabilities to `[1e-7, 1 − 1e-7]` as Keras does, so a saturated output costs at most
//!   about 16.1 and has **no gradient**; PyTorch's `BCELoss` clamps the log at −100 (a cost of
//!   100) and keeps the gradient `1/max(p(1 − p), 1e-12)`: [`BceLoss`](crate::losses::BceLoss).
//!   Unsaturated, they agree. [`BinaryCrossentropyWithLogits`](crate::losses::BinaryCrossentropyWithLogits)
//!   never saturates and is the one to train with.
//! - **Losses** take logits and average over every element; PyTorch's `reduction`, class
//!   `weight`, `ignore_index` and `label_smoothing` are not provided.
//! - **GELU**: `nn.GELU()` and Keras's `"gelu"` are the erf form,
//!   [`ExactGeLU`](crate::prelude::ExactGeLU). dfdx's
//!   [`AccurateGeLU`](crate::prelude::AccurateGeLU) computes the same values but a wrong
//!   gradient (`Φ(x) + √2 x φ(x)`); [`FastGeLU`](crate::prelude::FastGeLU) is the tanh
//!   approximation.
//! - **Initialisation**: typenet's `Linear` and `Conv2D` start like PyTorch's
//!   (`U(±1/√fan_in)`), not like Keras's (`glorot_uniform`, zero bias):
//!   [`glorot_uniform`](crate::nn::glorot_uniform) gives the Keras start.
//! - **Batch norm**: `BatchNorm1D`/`BatchNorm2D` follow PyTorch (`momentum 0.1` weighting
//!   the new statistics, `epsilon 1e-5`); Keras's `BatchNormalization(momentum=0.99,
//!   epsilon=1e-3)` weights the old ones: Keras's `momentum m` is `1 − m` here.
//! - **Layout**: images are channels-first `(C, H, W)` as in PyTorch; Keras defaults to
//!   channels-last.
//!
//! ## Training: compile, fit, evaluate, predict
//!
//! | Keras | PyTorch | typenet |
//! |---|---|---|
//! | `model.compile(optimizer, loss, metrics=["accuracy"])` | — | [`Trainer::compile(&dev, model, AdamConfig::default(), loss, &["accuracy"])`](crate::train::Trainer::compile) |
//! | `model.fit(x, y, epochs=5, batch_size=32)` | the loop below | [`trainer.fit(&data, &FitConfig { epochs: 5, batch_size: 32, .. })`](crate::train::Trainer::fit) |
//! | `fit(…, validation_split=0.1)` | `random_split` | [`FitConfig::validation_split`](crate::train::FitConfig::validation_split) |
//! | `fit(…, validation_data=(x, y), callbacks=[…])` | — | [`Trainer::fitting`](crate::train::Trainer::fitting)`(x).validation(v).callback(c).run(cfg)` |
//! | `History.history["val_loss"]` | a list you append to | [`History::series("val_loss")`](crate::train::History::series) |
//! | plotting `history` with matplotlib | — | [`History::plot_png`](crate::train::History::plot_png) |
//! | `model.evaluate(x, y)` | a `no_grad` loop | [`Trainer::evaluate`](crate::train::Trainer::evaluate) → [`Evaluation`](crate::train::Evaluation) |
//! | `model.predict(x)` | `model(x)` under `no_grad` | [`Trainer::predict`](crate::train::Trainer::predict) → [`Predictions`](crate::train::Predictions) |
//! | `np.argmax(pred, axis=1)` | `pred.argmax(1)` | [`Predictions::classes`](crate::train::Predictions::classes) |
//! | `verbose=0 / 1 / 2` | — | [`Verbosity`](crate::train::Verbosity) |
//! | `metrics=["accuracy", "mae", …]` | `torchmetrics` | metric names, see [`metric`](crate::train::metric) |
//!
//! The PyTorch training step, line by line (the `04_pytorch_loop` example runs it on
//! Fashion-MNIST):
//!
//! | PyTorch | typenet (dfdx) |
//! |---|---|
//! | `optimizer.zero_grad()` | `model.try_zero_grads(&mut grads)?` |
//! | `out = model(x)` | `let out = model.try_forward_mut(x.traced(grads))?;` |
//! | `loss = criterion(out, y)` | `let loss = criterion.try_loss(out, &y)?;` ([`Loss`](crate::losses::Loss)) |
//! | `loss.backward()` | `grads = loss.try_backward()?;` |
//! | `optimizer.step()` | `optimizer.update(&mut model, &grads)?;` ([`Optimizer`](crate::prelude::Optimizer)) |
//! | `for x, y in DataLoader(ds, 32, shuffle=True)` | [`for batch in DataLoader::new(&ds, &dev, 32).shuffled(epoch)`](crate::data::DataLoader) |
//!
//! ## Callbacks
//!
//! | Keras | typenet |
//! |---|---|
//! | `EarlyStopping(monitor, patience, restore_best_weights)` | [`EarlyStopping`](crate::train::EarlyStopping) |
//! | `ModelCheckpoint(path, save_best_only=True)` | [`ModelCheckpoint::best_only`](crate::train::ModelCheckpoint::best_only), [`ModelCheckpoint::every_epoch`](crate::train::ModelCheckpoint::every_epoch) |
//! | `CSVLogger(path)` | [`CsvLogger::new`](crate::train::CsvLogger::new) ([`JsonLinesLogger`](crate::train::JsonLinesLogger) for JSON lines) |
//! | `LearningRateScheduler(fn)` | [`LearningRateScheduler::new`](crate::train::LearningRateScheduler::new) with a [`Schedule`](crate::train::Schedule) |
//! | `ReduceLROnPlateau(monitor, factor, patience)` | [`ReduceLrOnPlateau`](crate::train::ReduceLrOnPlateau) |
//! | subclass `Callback`, `on_epoch_end` | implement [`Callback`](crate::train::Callback), [`on_epoch_end`](crate::train::Callback::on_epoch_end) |
//!
//! ## Saving and loading
//!
//! | Keras | PyTorch | typenet |
//! |---|---|---|
//! | `model.save_weights(path)` | `torch.save(model.state_dict(), path)` | [`checkpoint::save_model(&model, path)`](crate::checkpoint::save_model) (safetensors, atomic write) |
//! | `model.load_weights(path)` | `model.load_state_dict(torch.load(path))` | [`checkpoint::load_model(&mut model, path)`](crate::checkpoint::load_model) |
//!
//! | `load_weights(path, skip_mismatch=…)` of part of a model | `sub.load_state_dict({k[2:]: v for k, v in sd.items() if k.startswith("0.")})` | [`load_model_with(&mut sub, path, &LoadOptions { prefix: "0.".into(), .. })`](crate::checkpoint::LoadOptions::prefix) |
//!
//! The architecture is the model's type. Build the model of the type the file was saved from
//! (`dev.build_module::<Model, f32>()`), then `load_model`: a file from another architecture is
//! refused even when its tensors fit (the file records
//! [`architecture::<…>()`](crate::checkpoint::architecture); a deliberate transfer sets
//! [`LoadOptions::allow_architecture_change`](crate::checkpoint::LoadOptions::allow_architecture_change)).
//!
//! ## Data
//!
//! | Keras | PyTorch | typenet |
//! |---|---|---|
//! | `keras.datasets.fashion_mnist.load_data()` | `torchvision.datasets.FashionMNIST` | [`FashionMnist::load(FASHION_MNIST_DIR)`](crate::data::FashionMnist) (installed files, no download) |
//! | `keras.datasets.cifar10.load_data()` | `torchvision.datasets.CIFAR10` | [`Cifar10`](crate::data::Cifar10), [`Cifar100`](crate::data::Cifar100) |
//! | `pd.read_csv` + `x`, `y` arrays | a custom `Dataset` | [`CsvDataset::<F, T>::load(path, label)`](crate::data::CsvDataset::load) |
//! | `(x, y)` NumPy arrays | `TensorDataset(x, y)` | [`InMemory::new(features, labels)`](crate::data::InMemory::new) |
//! | a `Sequence` subclass | subclass `Dataset` | implement [`Dataset`](crate::data::Dataset) |
//! | `train_test_split(…)` | `random_split` | [`InMemory::split`](crate::data::InMemory::split), [`InMemory::split_stratified`](crate::data::InMemory::split_stratified) |
//! | `Normalization()` / `StandardScaler` | `transforms.Normalize` | [`Standardize::fit`](crate::data::Standardize::fit), [`ChannelNorm`](crate::data::ChannelNorm) |
//! | `to_categorical(y)` | `F.one_hot(y)` | [`one_hot`](crate::data::one_hot) |
//! | `RandomFlip`, `RandomCrop` | `transforms.RandomHorizontalFlip`, `RandomCrop` | [`HorizontalFlip`](crate::data::HorizontalFlip), [`RandomCrop`](crate::data::RandomCrop) in [`Augmented`](crate::data::Augmented) |
//! | labels `y` (ints) / targets (floats) | the same | [`Classes<N>`](crate::data::Classes) / [`Values<N>`](crate::data::Values): the width is in the type |
//!
//! ## Looking inside
//!
//! | Keras / TensorFlow | PyTorch (Captum) | typenet |
//! |---|---|---|
//! | `GradientTape` on `model(x)[:, c]` | `Saliency(model)` | [`saliency`](crate::interpret::saliency) |
//! | `tf-explain`'s `IntegratedGradients` | `IntegratedGradients(model)` | [`integrated_gradients`](crate::interpret::integrated_gradients) |
//! | `matplotlib` `imshow` | the same | [`heatmap_png`](crate::interpret::heatmap_png) |
//! | — | `torch.autograd.gradcheck` | [`gradcheck`](crate::gradcheck) |
//!
//! ## One program, both ways
//!
//! The Keras recipe in typenet, each Keras line as a comment above its typenet
//! statement (compiled as a doctest; the `03_keras_recipe` example runs it):
//!
//! ```no_run
//! use typenet::prelude::*;
//!
//! // model = Sequential([Dense(128, activation="relu"), Dense(10)])
//! type Model = (Linear<784, 128>, ReLU, Linear<128, 10>);
//!
//! fn main() -> typenet::Result<()> {
//!     let data = FashionMnist::load(FASHION_MNIST_DIR)?;
//!     let dev = Cpu::seed_from_u64(0);
//!     // model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
//!     let mut model = Trainer::compile(
//!         &dev,
//!         dev.build_module::<Model, f32>(),
//!         AdamConfig::default(),
//!         SparseCategoricalCrossentropy,
//!         &["accuracy"],
//!     )?;
//!     // model.fit(x_train, y_train, epochs=5, validation_split=0.1)
//!     let cfg = FitConfig { epochs: 5, validation_split: Some(0.1), ..Default::default() };
//!     let history = model.fit(&data.train, &cfg)?;
//!     history.plot_png("curves.png")?;
//!     // model.evaluate(x_test, y_test)
//!     println!("{}", model.evaluate(&data.test)?);
//!     // model.save_weights("mlp.safetensors")
//!     typenet::checkpoint::save_model(&model.model, "mlp.safetensors")?;
//!     Ok(())
//! }
//! ```
