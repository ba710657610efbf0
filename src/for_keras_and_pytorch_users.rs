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
//! | `"sigmoid"`, `"tanh"`, `"gelu"` | `nn.Sigmoid()`, `nn.Tanh()`, `nn.GELU()` | [`Sigmoid`](crate::prelude::Sigmoid), [`Tanh`](crate::prelude::Tanh), [`GeLU`](crate::prelude::GeLU) |
//! | `LeakyReLU(0.01)` | `nn.LeakyReLU(0.01)` | [`LeakyReLU(0.01)`](crate::prelude::LeakyReLU) |
//! | `Softmax()` | `nn.Softmax(dim=-1)` | [`Softmax`](crate::prelude::Softmax) (rarely needed: losses take logits) |
//! | `Dropout(0.5)` | `nn.Dropout(0.5)` | [`Dropout`](crate::prelude::Dropout) (probability as a field), [`DropoutOneIn<2>`](crate::prelude::DropoutOneIn) |
//! | `BatchNormalization()` | `nn.BatchNorm1d(n)` | [`BatchNorm1D<N>`](crate::prelude::BatchNorm1D) |
//! | `LayerNormalization()` | `nn.LayerNorm(n)` | [`LayerNorm1D<N>`](crate::prelude::LayerNorm1D) |
//! | `Embedding(v, d)` | `nn.Embedding(v, d)` | [`Embedding<V, D>`](crate::prelude::Embedding) |
//! | a skip connection | `x + f(x)` in `forward` | [`Residual<F>`](crate::prelude::Residual) |
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
//! | `"binary_crossentropy"` | `nn.BCELoss()` | [`BinaryCrossentropy`](crate::losses::BinaryCrossentropy) (after a [`Sigmoid`](crate::prelude::Sigmoid) layer) |
//! | `BinaryCrossentropy(from_logits=True)` | `nn.BCEWithLogitsLoss()` | [`BinaryCrossentropyWithLogits`](crate::losses::BinaryCrossentropyWithLogits) |
//! | `"mse"` | `nn.MSELoss()` | [`MeanSquaredError`](crate::losses::MeanSquaredError) |
//! | `"mae"` | `nn.L1Loss()` | [`MeanAbsoluteError`](crate::losses::MeanAbsoluteError) |
//! | `Huber(delta)` | `nn.HuberLoss(delta=…)` | [`Huber`](crate::losses::Huber) |
//!
//! ## Optimizers
//!
//! | Keras | PyTorch | typenet (dfdx) |
//! |---|---|---|
//! | `"adam"`, `Adam(learning_rate=1e-3)` | `optim.Adam(params, lr=1e-3)` | [`AdamConfig { lr: 1e-3, ..Default::default() }`](crate::prelude::AdamConfig) → [`Adam`](crate::prelude::Adam) |
//! | `SGD(learning_rate, momentum)` | `optim.SGD(params, lr, momentum)` | [`SgdConfig`](crate::prelude::SgdConfig) with [`Momentum`](crate::prelude::Momentum) → [`Sgd`](crate::prelude::Sgd) |
//! | `RMSprop()` | `optim.RMSprop(params)` | [`RMSpropConfig`](crate::prelude::RMSpropConfig) → [`RMSprop`](crate::prelude::RMSprop) |
//! | `AdamW(weight_decay=…)` | `optim.AdamW(…)` | `AdamConfig { weight_decay: Some(`[`WeightDecay::Decoupled`](crate::prelude::WeightDecay)`(…)), .. }` |
//! | `optimizer.learning_rate = …` | `group["lr"] = …` | [`LearningRate::set_lr`](crate::optim::LearningRate::set_lr) |
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
//! The architecture is not stored in the file: it is the model's type. Load a file into a model
//! of the type it was saved from (`dev.build_module::<Model, f32>()`, then `load_model`).
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
