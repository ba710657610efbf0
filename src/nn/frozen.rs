//! Freezing part of a model: [`Frozen<M>`](builder::Frozen) runs `M` with its parameters held
//! fixed, as Keras's `layer.trainable = False` and PyTorch's `requires_grad_(False)` do.
//!
//! A frozen sub-model
//! - is never changed by an optimizer step (its tensors are visited with
//!   `do_gradient_update = false`, which every optimizer, gradient clipping, the non-finite guard
//!   and [`gradcheck`](crate::gradcheck) honour);
//! - runs its inference forward pass during training (the forward pass of evaluation and
//!   prediction), on the recorded input, so the gradient passes through it to the layers before
//!   it: a frozen block may sit anywhere in a model;
//! - keeps its tensors' names: `(Frozen<Body>, Head)` saves and loads `0.…` exactly as
//!   `(Body, Head)` does, so a trained model's file (or part of it, with
//!   [`LoadOptions::prefix`](crate::checkpoint::LoadOptions::prefix)) loads into the frozen one;
//! - counts no trainable parameters ([`Params::PARAMS`] is 0; summaries mark its rows
//!   `(frozen)`).
//!
//! The backward pass still computes the frozen weights' gradients (dfdx's tape records them);
//! they are dropped, not applied. `BatchNorm1D`/`BatchNorm2D` and `Dropout` have no inference
//! forward pass on a recorded input, so a sub-model holding them cannot be frozen (the model then
//! does not compile with the trainer).
//!
//! # Example
//! Fine-tuning: a trained body, frozen, under a new head.
//! ```
//! # use typenet::prelude::*;
//! # fn main() -> typenet::Result<()> {
//! type Body = (Linear<4, 8>, ReLU);
//! type Tuned = (Frozen<Body>, Linear<8, 2>);
//! let dev = Cpu::seed_from_u64(0);
//! let model = dev.build_module::<Tuned, f32>();
//! let body_before = model.0.inner.0.weight.as_vec();
//! let head_before = model.1.weight.as_vec();
//!
//! let x: [[f32; 4]; 4] = [[0., 0., 1., 1.], [1., 0., 0., 1.], [0., 1., 1., 0.], [1., 1., 0., 0.]];
//! let data = InMemory::<Rank1<4>, Classes<2>>::new(x.concat(), vec![0, 1, 0, 1])?;
//! let mut trainer = Trainer::compile(&dev, model, AdamConfig::default(), SparseCategoricalCrossentropy, &[])?;
//! let cfg = FitConfig { epochs: 3, batch_size: 2, verbosity: Verbosity::Silent, ..Default::default() };
//! trainer.fit(&data, &cfg)?;
//!
//! assert_eq!(trainer.model.0.inner.0.weight.as_vec(), body_before); // bit for bit
//! assert_ne!(trainer.model.1.weight.as_vec(), head_before);
//! assert_eq!(<Tuned as Params>::PARAMS, 8 * 2 + 2);
//! # Ok(()) }
//! ```

use super::{LayerRow, Params, Summarize};
use dfdx::nn::tensor_collection::{
    ModuleFields, ModuleVisitor, ScalarOptions, TensorCollection, TensorOptions,
};
use dfdx::prelude::*;
use num_traits::NumCast;
use std::marker::PhantomData;

/// The layer builders (what a model type names).
pub mod builder {
    use std::marker::PhantomData;

    /// `M` with its parameters held fixed during training (see [the module](super)).
    #[derive(Debug, Default, Clone, Copy)]
    pub struct Frozen<M>(PhantomData<M>);
}

/// The built layer: the sub-model `M`, trained by nothing.
#[derive(Debug, Clone)]
pub struct Frozen<M> {
    /// The frozen sub-model; its tensors can still be read, assigned and loaded.
    pub inner: M,
}

impl<M: BuildOnDevice<D, E>, E: Dtype, D: Device<E>> BuildOnDevice<D, E> for builder::Frozen<M> {
    type Built = Frozen<M::Built>;
}

impl<M: TensorCollection<E, D>, E: Dtype, D: Device<E>> TensorCollection<E, D> for Frozen<M> {
    type To<E2: Dtype, D2: Device<E2>> = Frozen<M::To<E2, D2>>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        let mut frozen = FreezingVisitor {
            outer: visitor,
            get_ref: inner_ref::<M>,
            get_mut: inner_mut::<M>,
            path: String::new(),
            marker: PhantomData,
        };
        Ok(M::iter_tensors(&mut frozen)?.map(|inner| Frozen { inner }))
    }
}

/// Training runs the sub-model's inference forward pass.
impl<M> NonMutableModule for Frozen<M> {}

impl<X, M: Module<X>> Module<X> for Frozen<M> {
    type Output = M::Output;
    type Error = M::Error;

    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        self.inner.try_forward(x)
    }
}

impl<M> Params for builder::Frozen<M> {
    const PARAMS: usize = 0;
}

impl<In: ConstShape, M: Summarize<In>> Summarize<In> for builder::Frozen<M> {
    type Output = M::Output;
    const MACS: usize = M::MACS;
    const ACTIVATIONS: usize = M::ACTIVATIONS;

    fn describe(input: In, rows: &mut Vec<LayerRow>) -> Self::Output {
        let first = rows.len();
        let out = M::describe(input, rows);
        for row in &mut rows[first..] {
            row.layer.push_str(" (frozen)");
            row.params = 0;
        }
        out
    }
}

/// Visits the tensors of a module `T` inside `Frozen<…>` (`Root`) on behalf of the visitor of
/// `Root`, marking every tensor `do_gradient_update = false`.
///
/// It walks the sub-modules itself (rather than through the outer visitor's `visit_module`, which
/// would go on with the outer visitor and forget the freezing), so it carries the path from
/// `Root` to `T`: getters composed level by level and the dotted name.
struct FreezingVisitor<'v, V, R, W, Root, T> {
    outer: &'v mut V,
    get_ref: R,
    get_mut: W,
    path: String,
    marker: PhantomData<fn(&Root) -> &T>,
}

impl<V, R, W, Root, T> FreezingVisitor<'_, V, R, W, Root, T> {
    /// The name of field `name` of `T` seen from `Root`, joined as dfdx joins names.
    fn name(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.path)
        }
    }
}

/// `first`, then `then`: the getter of a field of the module `first` leads to.
///
/// The getters held by [`FreezingVisitor`] return pointers because a closure returning
/// references through an intermediate module type would need that type to be `'static`; each
/// pointer comes from a live borrow of the root and is turned back into a reference at once, for
/// no longer than that borrow.
fn chain_ref<'f, A, B, C, F, G>(first: &'f mut F, mut then: G) -> impl FnMut(&A) -> *const C + 'f
where
    F: FnMut(&A) -> *const B,
    G: FnMut(&B) -> &C + 'f,
{
    move |a| {
        // SAFETY: `first(a)` points into `*a`, which is borrowed for the whole call.
        let b = unsafe { &*first(a) };
        then(b) as *const C
    }
}

/// [`chain_ref`] for mutable getters.
fn chain_mut<'f, A, B, C, F, G>(first: &'f mut F, mut then: G) -> impl FnMut(&mut A) -> *mut C + 'f
where
    F: FnMut(&mut A) -> *mut B,
    G: FnMut(&mut B) -> &mut C + 'f,
{
    move |a| {
        // SAFETY: `first(a)` points into `*a`, which is borrowed mutably for the whole call, and
        // nothing else refers to it meanwhile.
        let b = unsafe { &mut *first(a) };
        then(b) as *mut C
    }
}

/// The getters from `Frozen<M>` to `M`.
fn inner_ref<M>(frozen: &Frozen<M>) -> *const M {
    &frozen.inner
}

/// [`inner_ref`], mutably.
fn inner_mut<M>(frozen: &mut Frozen<M>) -> *mut M {
    &mut frozen.inner
}

impl<V, R, W, Root, T, E, D> ModuleVisitor<T, E, D> for FreezingVisitor<'_, V, R, W, Root, T>
where
    E: Dtype,
    D: Device<E>,
    Root: TensorCollection<E, D>,
    T: TensorCollection<E, D>,
    V: ModuleVisitor<Root, E, D>,
    R: FnMut(&Root) -> *const T,
    W: FnMut(&mut Root) -> *mut T,
{
    type Err = V::Err;
    type E2 = V::E2;
    type D2 = V::D2;

    fn visit_module<Field, GetRef, GetMut>(
        &mut self,
        name: &str,
        get_refs: GetRef,
        get_muts: GetMut,
    ) -> Result<Option<Field::To<Self::E2, Self::D2>>, Self::Err>
    where
        GetRef: FnMut(&T) -> &Field,
        GetMut: FnMut(&mut T) -> &mut Field,
        Field: TensorCollection<E, D>,
    {
        let path = self.name(name);
        let mut inner = FreezingVisitor {
            outer: &mut *self.outer,
            get_ref: chain_ref(&mut self.get_ref, get_refs),
            get_mut: chain_mut(&mut self.get_mut, get_muts),
            path,
            marker: PhantomData,
        };
        Field::iter_tensors(&mut inner)
    }

    fn visit_tensor<S: Shape, GetRef, GetMut>(
        &mut self,
        name: &str,
        get_refs: GetRef,
        get_muts: GetMut,
        mut opts: TensorOptions<S, E, D>,
    ) -> Result<Option<Tensor<S, Self::E2, Self::D2>>, Self::Err>
    where
        GetRef: FnMut(&T) -> &Tensor<S, E, D>,
        GetMut: FnMut(&mut T) -> &mut Tensor<S, E, D>,
    {
        opts.do_gradient_update = false;
        let name = self.name(name);
        let mut get_ref = chain_ref(&mut self.get_ref, get_refs);
        let mut get_mut = chain_mut(&mut self.get_mut, get_muts);
        self.outer.visit_tensor(
            &name,
            // SAFETY: as in `chain_ref`: the pointer comes from the borrow passed in.
            |root| unsafe { &*get_ref(root) },
            |root| unsafe { &mut *get_mut(root) },
            opts,
        )
    }

    fn visit_scalar<N, GetRef, GetMut>(
        &mut self,
        name: &str,
        get_refs: GetRef,
        get_muts: GetMut,
        opts: ScalarOptions<N>,
    ) -> Result<Option<N>, Self::Err>
    where
        N: NumCast,
        GetRef: FnMut(&T) -> &N,
        GetMut: FnMut(&mut T) -> &mut N,
    {
        let name = self.name(name);
        let mut get_ref = chain_ref(&mut self.get_ref, get_refs);
        let mut get_mut = chain_mut(&mut self.get_mut, get_muts);
        self.outer.visit_scalar(
            &name,
            // SAFETY: as in `chain_ref`: the pointer comes from the borrow passed in.
            |root| unsafe { &*get_ref(root) },
            |root| unsafe { &mut *get_mut(root) },
            opts,
        )
    }

    fn visit_fields<F: ModuleFields<T, E, D>>(
        &mut self,
        fields: F,
        builder: impl FnOnce(F::Output<Self::E2, Self::D2>) -> T::To<Self::E2, Self::D2>,
    ) -> Result<Option<T::To<Self::E2, Self::D2>>, Self::Err> {
        let options = fields.visit_fields(self)?;
        Ok(F::handle_options(options).map(builder))
    }
}
