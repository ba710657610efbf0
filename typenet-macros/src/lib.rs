//! typenet's procedural macros, re-exported by `typenet` (documented there):
//!
//! - `#[network([C, H, W])]` on a model's type alias computes every conv, pool and flatten size
//!   of the model from its literals and emits exactly the shape rules that model needs, on a
//!   marker type local to the user's crate (`__{Alias}Shapes`), so any kernel, stride, padding
//!   and input size compiles; a layer that does not fit is a `compile_error!` on its literal;
//! - `seq!(A, B, …)` writes a sequence of any length as balanced tuples of at most six layers
//!   (dfdx implements `Module` for tuples of up to six).

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::BTreeSet;
use std::fmt;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprArray, GenericArgument, ItemType, Lit, PathArguments, Token, Type, TypePath};

/// The longest tuple dfdx implements `Module` (and typenet `Params`/`Summarize`) for.
const TUPLE_MAX: usize = 6;

/// `#[network([C, H, W])]` or `#[network([N])]` on `type Model = (…);`: see `typenet::network`.
#[proc_macro_attribute]
pub fn network(attr: TokenStream, item: TokenStream) -> TokenStream {
    let alias = syn::parse_macro_input!(item as ItemType);
    match parse_input(attr.into()) {
        Ok(input) => expand(alias, input).into(),
        Err(e) => {
            let mut out = e.to_compile_error();
            out.extend(alias.to_token_stream());
            out.into()
        }
    }
}

/// `seq!(A, B, C, …)`: the layers as balanced tuples of at most six; see `typenet::seq`.
#[proc_macro]
pub fn seq(input: TokenStream) -> TokenStream {
    let parser = Punctuated::<Type, Token![,]>::parse_terminated;
    match parser.parse(input) {
        Ok(layers) => group(layers.iter().map(regroup).collect()).into_token_stream(),
        Err(e) => e.to_compile_error(),
    }
    .into()
}

/// The shape of one sample between two layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Channels × height × width.
    Map(usize, usize, usize),
    /// A flat feature vector.
    Flat(usize),
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Map(c, h, w) => write!(f, "{c}x{h}x{w}"),
            Shape::Flat(n) => write!(f, "{n} features"),
        }
    }
}

fn parse_input(attr: Tokens) -> syn::Result<Shape> {
    let usage =
        "expected the input shape of one sample: `#[network([C, H, W])]` or `#[network([N])]`";
    let array: ExprArray = syn::parse2(attr).map_err(|e| syn::Error::new(e.span(), usage))?;
    let dims = array
        .elems
        .iter()
        .map(|e| {
            int_of_expr(e)
                .map(|(n, _)| n)
                .ok_or_else(|| syn::Error::new(e.span(), usage))
        })
        .collect::<syn::Result<Vec<usize>>>()?;
    match dims[..] {
        [n] => Ok(Shape::Flat(n)),
        [c, h, w] => Ok(Shape::Map(c, h, w)),
        _ => Err(syn::Error::new(array.span(), usage)),
    }
}

fn expand(mut alias: ItemType, input: Shape) -> Tokens {
    if !alias.generics.params.is_empty() {
        let e = syn::Error::new(
            alias.generics.span(),
            "#[network] computes sizes from literals: the model alias cannot have generic parameters",
        );
        let mut out = e.to_compile_error();
        out.extend(alias.to_token_stream());
        return out;
    }
    let marker = format_ident!("__{}Shapes", alias.ident);
    let mut walker = Walker {
        marker: marker.clone(),
        planes: BTreeSet::new(),
        flats: BTreeSet::new(),
        errors: Vec::new(),
        flat_from: None,
    };
    let rewritten = walker.walk(&alias.ty, Some(input)).0;
    if !walker.errors.is_empty() {
        // The errors, and the alias as written (long tuples still grouped), so that its uses do
        // not add errors of their own.
        let errors = walker.errors.iter().map(syn::Error::to_compile_error);
        *alias.ty = regroup(&alias.ty);
        return quote!(#(#errors)* #alias);
    }
    *alias.ty = rewritten;
    let vis = &alias.vis;
    let n = Literal::usize_unsuffixed;
    let planes = walker.planes.iter().map(|&[h, w, k, s, p, d, ho, wo]| {
        let (h, w, k, s, p, d, ho, wo) = (n(h), n(w), n(k), n(s), n(p), n(d), n(ho), n(wo));
        quote! {
            impl ::typenet::nn::shape::PlaneRule<::typenet::prelude::Const<#h>, ::typenet::prelude::Const<#w>, #k, #s, #p, #d> for #marker {
                type OutH = ::typenet::prelude::Const<#ho>;
                type OutW = ::typenet::prelude::Const<#wo>;
            }
        }
    });
    let flats = walker.flats.iter().map(|&[c, h, w]| {
        let (out, c, h, w) = (n(c * h * w), n(c), n(h), n(w));
        quote! {
            impl ::typenet::nn::shape::FlatRule<::typenet::prelude::Const<#c>, ::typenet::prelude::Const<#h>, ::typenet::prelude::Const<#w>> for #marker {
                type Out = ::typenet::prelude::Const<#out>;
            }
        }
    });
    let doc = format!(
        "The shape rules of [`{}`], generated by `#[network]`.",
        alias.ident
    );
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #vis struct #marker;
        #(#planes)*
        #(#flats)*
        // Runtime (`usize`) spatial sizes: computed when the layer runs.
        impl<const K: usize, const S: usize, const P: usize, const D: usize> ::typenet::nn::shape::PlaneRule<usize, usize, K, S, P, D> for #marker {
            type OutH = usize;
            type OutW = usize;
        }
        impl<C: ::typenet::prelude::Dim> ::typenet::nn::shape::FlatRule<C, usize, usize> for #marker {
            type Out = usize;
        }
        #alias
    }
}

/// Walks a model type, computing each layer's output shape and rewriting the shape-changing
/// layers to carry the model's marker.
struct Walker {
    marker: syn::Ident,
    /// `[H, W, K, S, P, H', W']` of every conv/pool window in the model.
    planes: BTreeSet<[usize; 8]>,
    /// `[C, H, W]` of every flatten in the model.
    flats: BTreeSet<[usize; 3]>,
    errors: Vec<syn::Error>,
    /// The map the current flat input was flattened from (for messages).
    flat_from: Option<Shape>,
}

/// A layer's integer literal argument and where it is written.
type Arg = (usize, Span);

impl Walker {
    fn error(&mut self, span: Span, message: String) -> (Type, Option<Shape>) {
        self.errors.push(syn::Error::new(span, message));
        (unit(), None)
    }

    /// The rewritten type and its output shape; `None` once the shape is unknown (a layer the
    /// macro cannot see into), after which the rest of the model is left to typenet's tables.
    fn walk(&mut self, ty: &Type, input: Option<Shape>) -> (Type, Option<Shape>) {
        match ty {
            Type::Paren(p) => self.walk(&p.elem, input),
            Type::Group(g) => self.walk(&g.elem, input),
            Type::Tuple(t) => {
                let mut shape = input;
                let mut layers = Vec::with_capacity(t.elems.len());
                for layer in &t.elems {
                    let (rewritten, out) = self.walk(layer, shape);
                    layers.push(rewritten);
                    shape = out;
                }
                if t.elems.len() == 1 {
                    return (syn::parse_quote!((#(#layers,)*)), shape);
                }
                (group(layers), shape)
            }
            Type::Path(p) if p.qself.is_none() => match input {
                Some(input) => self.layer(p, input),
                None => (regroup(ty), None),
            },
            _ => (regroup(ty), None),
        }
    }

    fn layer(&mut self, ty: &TypePath, input: Shape) -> (Type, Option<Shape>) {
        let Some(seg) = ty.path.segments.last() else {
            return (Type::Path(ty.clone()), None);
        };
        let name = seg.ident.to_string();
        let args: Vec<&GenericArgument> = match &seg.arguments {
            PathArguments::None => Vec::new(),
            PathArguments::AngleBracketed(a) => a.args.iter().collect(),
            PathArguments::Parenthesized(_) => return (Type::Path(ty.clone()), None),
        };
        let ints: Option<Vec<Arg>> = args.iter().map(|a| int_of_arg(a)).collect();
        let span = ty.span();
        let label = || {
            let text: Vec<String> = ints.iter().flatten().map(|(n, _)| n.to_string()).collect();
            if text.is_empty() {
                name.clone()
            } else {
                format!("{name}<{}>", text.join(", "))
            }
        };
        let opaque = (Type::Path(ty.clone()), None);
        let keep = (Type::Path(ty.clone()), Some(input));
        let m = self.marker.clone();
        let lit = Literal::usize_unsuffixed;
        let from = self.flat_from.take();
        match (name.as_str(), ints.as_deref()) {
            ("Conv2D", Some(a @ [_, _, _, ..])) if a.len() <= 6 => {
                let (i, o, k) = (a[0], a[1].0, a[2]);
                let s = a.get(3).copied().unwrap_or((1, k.1));
                let p = a.get(4).copied().unwrap_or((0, k.1));
                let d = a.get(5).copied().unwrap_or((1, k.1));
                let Shape::Map(c, h, w) = input else {
                    return self.error(span, format!("`{}` needs a channels x height x width input, but its input is {input}", label()));
                };
                if c != i.0 {
                    return self.error(i.1, format!("`{}` expects {} input channels, but its input has {c} ({input})", label(), i.0));
                }
                let Some((ho, wo)) = self.window(&label(), (h, w), k, s, p, d) else {
                    return (unit(), None);
                };
                let (i, o, k, s, p, d) = (lit(i.0), lit(o), lit(k.0), lit(s.0), lit(p.0), lit(d.0));
                let t = quote_spanned!(span=> ::typenet::nn::Conv2DBy<#i, #o, #k, #s, #p, #m, #d>);
                (Type::Verbatim(t), Some(Shape::Map(a[1].0, ho, wo)))
            }
            (pool @ ("MaxPool2D" | "AvgPool2D"), Some(a @ [_, ..])) if a.len() <= 3 => {
                let k = a[0];
                let s = a.get(1).copied().unwrap_or((1, k.1));
                let p = a.get(2).copied().unwrap_or((0, k.1));
                let Shape::Map(c, h, w) = input else {
                    return self.error(span, format!("`{}` needs a channels x height x width input, but its input is {input}", label()));
                };
                if 2 * p.0 > k.0 {
                    return self.error(p.1, format!("`{}`: padding {} is more than half the kernel {} (PyTorch rejects it too)", label(), p.0, k.0));
                }
                let Some((ho, wo)) = self.window(&label(), (h, w), k, s, p, (1, k.1)) else {
                    return (unit(), None);
                };
                let by = format_ident!("{pool}By", span = seg.ident.span());
                let (k, s, p) = (lit(k.0), lit(s.0), lit(p.0));
                let t = quote_spanned!(span=> ::typenet::nn::#by<#k, #s, #p, #m>);
                (Type::Verbatim(t), Some(Shape::Map(c, ho, wo)))
            }
            ("Flatten2D", Some([])) => {
                let Shape::Map(c, h, w) = input else {
                    return self.error(span, format!("`Flatten2D` needs a channels x height x width input, but its input is {input}"));
                };
                self.flats.insert([c, h, w]);
                self.flat_from = Some(input);
                let t = quote_spanned!(span=> ::typenet::nn::Flatten2DBy<#m>);
                (Type::Verbatim(t), Some(Shape::Flat(c * h * w)))
            }
            ("Linear" | "UnbiasedLinear", Some([i, o])) => match input {
                Shape::Flat(n) if n != i.0 => {
                    let via = match from {
                        Some(map) => format!(" (Flatten2D of {map})"),
                        None => String::new(),
                    };
                    self.error(i.1, format!("`{}` takes {} input features, but its input has {n}{via}", label(), i.0))
                }
                Shape::Flat(_) => (Type::Path(ty.clone()), Some(Shape::Flat(o.0))),
                // typenet's and dfdx's Linear act on the last axis of a 3-D input.
                Shape::Map(_, _, w) if w != i.0 => self.error(
                    i.1,
                    format!("`{}` takes {} input features, but its input has {w} on its last axis ({input}; flatten it first with Flatten2D)", label(), i.0),
                ),
                Shape::Map(c, h, _) => (Type::Path(ty.clone()), Some(Shape::Map(c, h, o.0))),
            },
            (norm @ ("BatchNorm2D" | "Bias2D"), Some([ch])) => match input {
                Shape::Map(c, _, _) if c == ch.0 => keep,
                _ => {
                    let what = if norm == "Bias2D" { "adds a bias to" } else { "normalises" };
                    let has = match input {
                        Shape::Map(c, _, _) => format!("{c} ({input})"),
                        Shape::Flat(_) => format!("no channels ({input})"),
                    };
                    self.error(ch.1, format!("`{}` {what} {} channels, but its input has {has}", label(), ch.0))
                }
            },
            ("BatchNorm1D", Some([ch])) => match input {
                Shape::Flat(n) if n != ch.0 => self.error(ch.1, format!("`{}` normalises {} features, but its input has {n}", label(), ch.0)),
                Shape::Flat(_) => keep,
                Shape::Map(..) => opaque,
            },
            ("LayerNorm1D", Some([d])) => {
                let last = match input {
                    Shape::Flat(n) | Shape::Map(_, _, n) => n,
                };
                if last != d.0 {
                    return self.error(d.1, format!("`{}` normalises {} values on the last axis, but its input has {last} ({input})", label(), d.0));
                }
                keep
            }
            ("AvgPoolGlobal" | "MaxPoolGlobal" | "MinPoolGlobal", Some([])) => match input {
                Shape::Map(c, _, _) => (Type::Path(ty.clone()), Some(Shape::Flat(c))),
                Shape::Flat(_) => self.error(span, format!("`{name}` needs a channels x height x width input, but its input is {input}")),
            },
            (
                "ReLU" | "Sigmoid" | "Tanh" | "GeLU" | "FastGeLU" | "AccurateGeLU" | "Softmax"
                | "LogSoftmax" | "Dropout" | "DropoutOneIn" | "Sin" | "Cos" | "Ln" | "Exp"
                | "Square" | "Sqrt" | "Abs" | "LeakyReLU" | "PReLU",
                _,
            ) => {
                self.flat_from = from;
                keep
            }
            ("Residual", _) => match &args[..] {
                [GenericArgument::Type(f)] => {
                    let (f2, out) = self.walk(f, Some(input));
                    if let Some(out) = out.filter(|o| *o != input) {
                        return self.error(span, format!("`Residual`: its branch turns {input} into {out}; a residual branch must keep its input's shape"));
                    }
                    (with_type_args(ty, vec![f2]), Some(input))
                }
                _ => opaque,
            },
            ("Repeated", _) => match &args[..] {
                [GenericArgument::Type(f), _] => {
                    let (f2, out) = self.walk(f, Some(input));
                    if let Some(out) = out.filter(|o| *o != input) {
                        return self.error(span, format!("`Repeated`: its layer turns {input} into {out}; a repeated layer must keep its input's shape"));
                    }
                    (with_type_args(ty, vec![f2]), Some(input))
                }
                _ => opaque,
            },
            ("GeneralizedResidual", _) => match &args[..] {
                [GenericArgument::Type(f), GenericArgument::Type(r)] => {
                    let (f2, a) = self.walk(f, Some(input));
                    let (r2, b) = self.walk(r, Some(input));
                    if let (Some(a), Some(b)) = (a, b)
                        && a != b
                    {
                        return self.error(span, format!("`GeneralizedResidual`: its branches give {a} and {b}; both must give the same shape"));
                    }
                    (with_type_args(ty, vec![f2, r2]), a.or(b))
                }
                _ => opaque,
            },
            _ => (regroup(&Type::Path(ty.clone())), None),
        }
    }

    /// The output size of a window over `(h, w)` (taps `d` apart), recorded as a rule; `None`
    /// (with the error recorded) when it does not fit.
    fn window(
        &mut self,
        label: &str,
        (h, w): (usize, usize),
        k: Arg,
        s: Arg,
        p: Arg,
        d: Arg,
    ) -> Option<(usize, usize)> {
        if k.0 == 0 {
            self.error(
                k.1,
                format!("`{label}`: the kernel size must be at least 1"),
            );
            return None;
        }
        if s.0 == 0 {
            self.error(s.1, format!("`{label}`: the stride must be at least 1"));
            return None;
        }
        if d.0 == 0 {
            self.error(d.1, format!("`{label}`: the dilation must be at least 1"));
            return None;
        }
        let Some(span) = d.0.checked_mul(k.0 - 1).and_then(|x| x.checked_add(1)) else {
            self.error(d.1, format!("`{label}`: the dilated kernel is too large"));
            return None;
        };
        let (hp, wp) = (h + 2 * p.0, w + 2 * p.0);
        if hp < span || wp < span {
            let what = match d.0 {
                1 => format!("kernel {}", k.0),
                _ => format!("kernel {} dilated by {} (span {span})", k.0, d.0),
            };
            self.error(
                k.1,
                format!(
                    "`{label}`: {what} is larger than its input {h}x{w} padded by {} ({hp}x{wp})",
                    p.0
                ),
            );
            return None;
        }
        let (ho, wo) = ((hp - span) / s.0 + 1, (wp - span) / s.0 + 1);
        self.planes.insert([h, w, k.0, s.0, p.0, d.0, ho, wo]);
        Some((ho, wo))
    }
}

/// `()`: what a layer that does not fit is replaced with while the walk goes on (the alias is
/// then emitted as written).
fn unit() -> Type {
    syn::parse_quote!(())
}

/// `ty` with its type arguments replaced by `args`, in order (the other arguments kept).
fn with_type_args(ty: &TypePath, args: Vec<Type>) -> Type {
    let mut out = ty.clone();
    if let Some(seg) = out.path.segments.last_mut()
        && let PathArguments::AngleBracketed(a) = &mut seg.arguments
    {
        let mut new = args.into_iter();
        for arg in a.args.iter_mut() {
            if let GenericArgument::Type(t) = arg
                && let Some(n) = new.next()
            {
                *t = n;
            }
        }
    }
    Type::Path(out)
}

/// `ty` with every tuple longer than six (here and inside type arguments) grouped.
fn regroup(ty: &Type) -> Type {
    match ty {
        Type::Paren(p) => regroup(&p.elem),
        Type::Group(g) => regroup(&g.elem),
        Type::Tuple(t) if t.elems.len() > TUPLE_MAX => group(t.elems.iter().map(regroup).collect()),
        Type::Tuple(t) => {
            let mut out = t.clone();
            for e in out.elems.iter_mut() {
                *e = regroup(e);
            }
            Type::Tuple(out)
        }
        Type::Path(p) => {
            let mut out = p.clone();
            if let Some(seg) = out.path.segments.last_mut()
                && let PathArguments::AngleBracketed(a) = &mut seg.arguments
            {
                for arg in a.args.iter_mut() {
                    if let GenericArgument::Type(t) = arg {
                        *t = regroup(t);
                    }
                }
            }
            Type::Path(out)
        }
        other => other.clone(),
    }
}

/// `layers` as one tuple when there are at most six, else as six balanced groups (recursively),
/// so the nesting depth grows with the logarithm of the length (right-nested tuples make type
/// checking exponential in their depth).
fn group(mut layers: Vec<Type>) -> Type {
    if layers.len() <= TUPLE_MAX {
        return syn::parse_quote!((#(#layers),*));
    }
    let (base, extra) = (layers.len() / TUPLE_MAX, layers.len() % TUPLE_MAX);
    let mut parts = Vec::with_capacity(TUPLE_MAX);
    for i in 0..TUPLE_MAX {
        let rest = layers.split_off(base + usize::from(i < extra));
        let part = std::mem::replace(&mut layers, rest);
        parts.push(if part.len() == 1 {
            part.into_iter().next().unwrap_or_else(unit)
        } else {
            group(part)
        });
    }
    syn::parse_quote!((#(#parts),*))
}

/// An integer literal (`5`, `{ 5 }`) and its span.
fn int_of_expr(e: &Expr) -> Option<Arg> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Int(i) => i.base10_parse().ok().map(|n| (n, i.span())),
            _ => None,
        },
        Expr::Block(b) if b.block.stmts.len() == 1 => match &b.block.stmts[0] {
            syn::Stmt::Expr(e, None) => int_of_expr(e),
            _ => None,
        },
        Expr::Paren(p) => int_of_expr(&p.expr),
        Expr::Group(g) => int_of_expr(&g.expr),
        _ => None,
    }
}

fn int_of_arg(a: &GenericArgument) -> Option<Arg> {
    match a {
        GenericArgument::Const(e) => int_of_expr(e),
        _ => None,
    }
}
