//! Token data: fixed-length sequences of integer ids whose length and vocabulary size are types,
//! a character vocabulary, and a loader for line-per-sample text files.
//!
//! A sample of [`Tokens<L, V>`] is `L` ids below `V`. Ids travel to the model as exact `f32`
//! values (every integer below 2²⁴ is one) in a batch of shape `(usize, Const<L>, Vocab<V>)`;
//! the model's first layer, an [`Embedding<V, M>`](crate::nn::Embedding), turns them into rows
//! of its table. The vocabulary size is part of the batch's type, so an embedding of another
//! vocabulary does not compile against the data, and a layer that needs `L` positions (a
//! [`PositionalEmbedding<L, M>`](crate::nn::PositionalEmbedding), a flatten) does not compile
//! against sequences of another length.
//!
//! Id [`PAD`] (0) pads sequences shorter than `L`; a [`CharVocab`] gives id [`OOV`] (1) to
//! characters it does not hold and ids from 2 up to the others, most frequent first.

use super::{BatchShape, Dataset, Target, Targets};
use crate::{Error, Result};
use dfdx::prelude::{Device, Dtype, Tensor};
use dfdx::shapes::Const;
use std::collections::HashMap;
use std::path::Path;

pub use crate::dims::{Vocab, PAD};

/// The id a [`CharVocab`] gives a character it does not hold.
pub const OOV: u32 = 1;
/// Ids must stay below this to be exact as `f32` (2²⁴).
pub const MAX_VOCABULARY: usize = 1 << 24;

/// The class of a position that no loss or metric counts: padding in a per-token target
/// ([`TokenClasses`]), as PyTorch's `ignore_index`.
pub const IGNORE: usize = usize::MAX;

/// A class index in `0..C` (or [`IGNORE`]) for each of `L` positions: the targets of a
/// per-token model, such as a language model's next characters, whose output is
/// `(batch, L, C)` logits. Positions holding [`IGNORE`] (padding) count in no loss or metric.
///
/// It pairs with [`TokenCrossentropy`](crate::losses::TokenCrossentropy) and the metrics
/// `accuracy` (per counted token) and `perplexity`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenClasses<const L: usize, const C: usize>;

impl<const L: usize, const C: usize> Target for TokenClasses<L, C> {
    type Item = [usize; L];
    type Batch<E: Dtype, D: Device<E>> = Tensor<(usize, Const<L>), usize, D>;
    const WIDTH: usize = C;
    fn validate(sample: usize, item: &[usize; L]) -> Result<()> {
        match item.iter().find(|&&c| c >= C && c != IGNORE) {
            None => Ok(()),
            Some(&class) => Err(Error::ClassOutOfRange {
                sample: Some(sample),
                class,
                classes: C,
            }),
        }
    }
    fn to_device<E: Dtype, D: Device<E>>(
        device: &D,
        items: &[[usize; L]],
    ) -> Result<Self::Batch<E, D>> {
        device
            .try_tensor_from_vec(items.as_flattened().to_vec(), (items.len(), Const::<L>))
            .map_err(Error::device)
    }
    fn view(items: &[[usize; L]]) -> Targets<'_> {
        Targets::Classes(items.as_flattened())
    }
}

/// The sample shape of token data: `L` ids, each below `V`.
///
/// ```
/// # use typenet::prelude::*;
/// // 16 characters from a vocabulary of 64 ids: 16 values per sample
/// assert_eq!(<Tokens<16, 64> as ConstShape>::NUMEL, 16);
/// ```
pub type Tokens<const L: usize, const V: usize> = (Const<L>, Vocab<V>);

impl<const L: usize, const V: usize> BatchShape for (Const<L>, Vocab<V>) {
    type Batched = (usize, Const<L>, Vocab<V>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Vocab)
    }
}

/// Where padding goes in a sequence shorter than the data set's length.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Pad {
    /// Tokens first, then padding (PyTorch's `pad_sequence`, Keras's `padding="post"`).
    #[default]
    End,
    /// Padding first, then tokens, so the last position holds the last token (Keras's
    /// default, `padding="pre"`): what a recurrent layer returning its last state wants.
    Start,
}

/// A data set of token sequences of length `L` over a vocabulary of `V` ids, with one label of
/// kind `T` per sequence; samples have shape [`Tokens<L, V>`].
///
/// Each sequence keeps its length (its number of tokens before padding), so a mask can be read
/// back with [`TokenSet::mask`].
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// # fn main() -> typenet::Result<()> {
/// let vocab = CharVocab::build(["abba", "cab"], None);
/// let words = ["ab", "cab"].map(|w| vocab.encode(w));
/// let data = TokenSet::<4, 8, Classes<2>>::from_sequences(&words, vec![0, 1], Pad::End)?;
/// // ids: a = 2, b = 3 (the most frequent first), c = 4; 0 pads
/// assert_eq!(data.ids(0), [2, 3, 0, 0]);
/// assert_eq!(data.mask(1), [true, true, true, false]);
/// let mut x = [9.0; 4];
/// data.write_features(1, &mut x);
/// assert_eq!(x, [4.0, 2.0, 3.0, 0.0]);
/// # Ok(()) }
/// ```
pub struct TokenSet<const L: usize, const V: usize, T: Target> {
    ids: Vec<u32>,
    lengths: Vec<usize>,
    pad: Pad,
    targets: Vec<T::Item>,
}

impl<const L: usize, const V: usize, T: Target> Clone for TokenSet<L, V, T> {
    fn clone(&self) -> Self {
        TokenSet {
            ids: self.ids.clone(),
            lengths: self.lengths.clone(),
            pad: self.pad,
            targets: self.targets.clone(),
        }
    }
}

impl<const L: usize, const V: usize, T: Target> std::fmt::Debug for TokenSet<L, V, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("len", &self.targets.len())
            .field("length", &L)
            .field("vocabulary", &V)
            .field("pad", &self.pad)
            .finish()
    }
}

impl<const L: usize, const V: usize, T: Target> TokenSet<L, V, T> {
    /// Sequences of at most `L` ids each, padded with [`PAD`] at `pad`, one target each.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if there are not as many targets as sequences;
    /// [`Error::SequenceTooLong`] for a sequence of more than `L` ids;
    /// [`Error::TokenOutOfRange`] for an id of `V` or more; [`Error::VocabularyTooLarge`] if `V`
    /// is above 2²⁴ (ids would not be exact as `f32`); target errors as
    /// [`InMemory::new`](super::InMemory::new).
    pub fn from_sequences<S: AsRef<[u32]>>(
        sequences: &[S],
        targets: Vec<T::Item>,
        pad: Pad,
    ) -> Result<Self> {
        check_vocabulary::<V>()?;
        if sequences.len() != targets.len() {
            return Err(Error::LengthMismatch {
                what: "targets, one per sequence".into(),
                expected: sequences.len(),
                found: targets.len(),
            });
        }
        let mut ids = Vec::with_capacity(sequences.len() * L);
        let mut lengths = Vec::with_capacity(sequences.len());
        for (sample, seq) in sequences.iter().enumerate() {
            let seq = seq.as_ref();
            if seq.len() > L {
                return Err(Error::SequenceTooLong {
                    sample,
                    length: seq.len(),
                    max: L,
                });
            }
            if let Some(position) = seq.iter().position(|&id| id as usize >= V) {
                return Err(Error::TokenOutOfRange {
                    sample,
                    position,
                    id: seq[position].into(),
                    vocabulary: V,
                });
            }
            let padding = std::iter::repeat_n(PAD, L - seq.len());
            match pad {
                Pad::End => ids.extend(seq.iter().copied().chain(padding)),
                Pad::Start => ids.extend(padding.chain(seq.iter().copied())),
            }
            lengths.push(seq.len());
        }
        for (i, t) in targets.iter().enumerate() {
            T::validate(i, t)?;
        }
        Ok(TokenSet {
            ids,
            lengths,
            pad,
            targets,
        })
    }

    /// Every non-blank line of the text file at `path` encoded by `vocab` as one sample, all
    /// with the label `target` (e.g. one file per class), padded at `pad`. Lines are taken as
    /// they are, less a trailing `\r`.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::TextLine`] naming the file and line
    /// for a line that is not UTF-8 or encodes to more than `L` ids;
    /// [`Error::VocabularyTooLarge`] if `vocab` holds more than `V` ids; target errors.
    pub fn from_text_file(
        path: impl AsRef<Path>,
        vocab: &CharVocab,
        target: T::Item,
        pad: Pad,
    ) -> Result<Self> {
        let path = path.as_ref();
        vocab.check_fits::<V>()?;
        let mut sequences = Vec::new();
        for (line, text) in read_lines(path)? {
            if text.trim().is_empty() {
                continue;
            }
            let ids = vocab.encode(&text);
            if ids.len() > L {
                return Err(Error::TextLine {
                    path: path.into(),
                    line,
                    reason: format!("{} tokens, more than the sequence length {L}", ids.len()),
                });
            }
            sequences.push(ids);
        }
        let targets = vec![target; sequences.len()];
        Self::from_sequences(&sequences, targets, pad)
    }

    /// The `L` ids of sample `index` (padding included).
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn ids(&self, index: usize) -> &[u32] {
        &self.ids[index * L..(index + 1) * L]
    }

    /// Tokens in each sample before padding.
    pub fn lengths(&self) -> &[usize] {
        &self.lengths
    }

    /// Which of sample `index`'s positions hold a token (`false` for padding).
    ///
    /// # Panics
    /// If `index >= len()`.
    pub fn mask(&self, index: usize) -> [bool; L] {
        let n = self.lengths[index];
        std::array::from_fn(|p| match self.pad {
            Pad::End => p < n,
            Pad::Start => p >= L - n,
        })
    }

    /// Where padding goes.
    pub fn pad(&self) -> Pad {
        self.pad
    }

    /// All targets, in order.
    pub fn targets(&self) -> &[T::Item] {
        &self.targets
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Errors
    /// [`Error::IndexOutOfRange`] for the first index that is out of range.
    pub fn select(&self, indices: &[usize]) -> Result<Self> {
        let mut out = TokenSet {
            ids: Vec::with_capacity(indices.len() * L),
            lengths: Vec::with_capacity(indices.len()),
            pad: self.pad,
            targets: Vec::with_capacity(indices.len()),
        };
        for &i in indices {
            if i >= self.targets.len() {
                return Err(Error::IndexOutOfRange {
                    index: i,
                    len: self.targets.len(),
                });
            }
            out.ids.extend_from_slice(self.ids(i));
            out.lengths.push(self.lengths[i]);
            out.targets.push(self.targets[i]);
        }
        Ok(out)
    }
}

impl<const L: usize, const V: usize, T: Target> Dataset for TokenSet<L, V, T> {
    type Sample = Tokens<L, V>;
    type Target = T;
    fn len(&self) -> usize {
        self.targets.len()
    }
    fn write_features(&self, index: usize, out: &mut [f32]) {
        for (o, &id) in out.iter_mut().zip(self.ids(index)) {
            // exact: ids are below V ≤ 2^24
            *o = id as f32;
        }
    }
    fn target(&self, index: usize) -> T::Item {
        self.targets[index]
    }
}

/// `Ok` if ids below `V` are exact as `f32`.
fn check_vocabulary<const V: usize>() -> Result<()> {
    if V > MAX_VOCABULARY {
        return Err(Error::VocabularyTooLarge {
            size: V,
            max: MAX_VOCABULARY,
        });
    }
    Ok(())
}

/// A character vocabulary: id [`PAD`] (0), id [`OOV`] (1), then one id per character from 2
/// up, the most frequent first (ties in character order), with each character's count.
///
/// # Example
/// ```
/// # use typenet::prelude::*;
/// let vocab = CharVocab::build(["hello", "help"], Some(5));
/// // l ×3, e ×2, h ×2 fit in 5 ids with PAD and OOV; o and p do not
/// assert_eq!(vocab.chars(), ['l', 'e', 'h']);
/// assert_eq!(vocab.encode("hole"), [4, OOV, 2, 3]);
/// assert_eq!(vocab.decode(&[4, 3, 2, 2, PAD]), "hell");
/// assert_eq!((vocab.len(), vocab.count('l')), (5, 3));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CharVocab {
    chars: Vec<char>,
    counts: Vec<usize>,
    ids: HashMap<char, u32>,
}

impl CharVocab {
    /// Counts the characters of `texts` and keeps the most frequent, at most `max_ids` ids in
    /// all (padding and out-of-vocabulary included; `None` keeps every character).
    pub fn build<I, S>(texts: I, max_ids: Option<usize>) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut counts: HashMap<char, usize> = HashMap::new();
        for text in texts {
            for c in text.as_ref().chars() {
                *counts.entry(c).or_default() += 1;
            }
        }
        let mut ranked: Vec<(char, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if let Some(max) = max_ids {
            ranked.truncate(max.saturating_sub(2));
        }
        let ids = ranked
            .iter()
            .enumerate()
            .map(|(i, &(c, _))| (c, i as u32 + 2))
            .collect();
        CharVocab {
            chars: ranked.iter().map(|&(c, _)| c).collect(),
            counts: ranked.iter().map(|&(_, n)| n).collect(),
            ids,
        }
    }

    /// Ids in all: the characters, padding and out-of-vocabulary.
    pub fn len(&self) -> usize {
        self.chars.len() + 2
    }

    /// Whether the vocabulary holds no character (only padding and out-of-vocabulary).
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, by id from 2 up (the most frequent first).
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// How often `c` was counted (0 if it is not in the vocabulary).
    pub fn count(&self, c: char) -> usize {
        self.ids
            .get(&c)
            .map_or(0, |&id| self.counts[id as usize - 2])
    }

    /// The id of `c`: [`OOV`] if it is not in the vocabulary.
    pub fn id(&self, c: char) -> u32 {
        self.ids.get(&c).copied().unwrap_or(OOV)
    }

    /// The character of `id`, if it is one (not [`PAD`], [`OOV`] or beyond the vocabulary).
    pub fn char(&self, id: u32) -> Option<char> {
        (id as usize)
            .checked_sub(2)
            .and_then(|i| self.chars.get(i).copied())
    }

    /// The ids of `text`'s characters.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        text.chars().map(|c| self.id(c)).collect()
    }

    /// The text of `ids`: padding dropped, anything else that is not a character as `�`.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter()
            .filter(|&&id| id != PAD)
            .map(|&id| self.char(id).unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect()
    }

    /// `Ok` if the vocabulary's ids fit a vocabulary type of `V` ids.
    ///
    /// # Errors
    /// [`Error::VocabularyTooLarge`].
    pub fn check_fits<const V: usize>(&self) -> Result<()> {
        check_vocabulary::<V>()?;
        if self.len() > V {
            return Err(Error::VocabularyTooLarge {
                size: self.len(),
                max: V,
            });
        }
        Ok(())
    }
}

/// The lines of the text file at `path`, numbered from 1, without line endings (`\n` or
/// `\r\n`).
///
/// # Errors
/// [`Error::Io`] naming the file if it cannot be read; [`Error::TextLine`] naming the file and
/// line of the first line that is not UTF-8.
pub fn read_lines(path: impl AsRef<Path>) -> Result<Vec<(usize, String)>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })?;
    let mut lines = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    if body.is_empty() && bytes.len() <= 1 {
        return Ok(lines);
    }
    for (i, raw) in body.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = std::str::from_utf8(raw).map_err(|e| Error::TextLine {
            path: path.into(),
            line: i + 1,
            reason: format!("not UTF-8 at byte {}", e.valid_up_to()),
        })?;
        lines.push((i + 1, text.to_string()));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Classes;

    #[test]
    fn start_padding_puts_tokens_last() {
        let data =
            TokenSet::<4, 5, Classes<2>>::from_sequences(&[vec![3u32, 4]], vec![1], Pad::Start)
                .unwrap();
        assert_eq!(data.ids(0), [0, 0, 3, 4]);
        assert_eq!(data.mask(0), [false, false, true, true]);
    }

    #[test]
    fn an_id_outside_the_vocabulary_names_sample_and_position() {
        let err = TokenSet::<3, 5, Classes<2>>::from_sequences(
            &[vec![1u32], vec![2, 5]],
            vec![0, 1],
            Pad::End,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::TokenOutOfRange {
                    sample: 1,
                    position: 1,
                    id: 5,
                    vocabulary: 5
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_sequence_longer_than_the_type_is_an_error() {
        let err =
            TokenSet::<2, 5, Classes<2>>::from_sequences(&[vec![1u32, 1, 1]], vec![0], Pad::End)
                .unwrap_err();
        assert!(
            matches!(
                err,
                Error::SequenceTooLong {
                    sample: 0,
                    length: 3,
                    max: 2
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn vocabulary_counts_and_ranks_by_frequency_then_character() {
        let v = CharVocab::build(["ba", "cab"], None);
        // a ×2, b ×2 (tie: a first), c ×1
        assert_eq!(v.chars(), ['a', 'b', 'c']);
        assert_eq!((v.count('a'), v.count('c'), v.count('z')), (2, 1, 0));
        assert_eq!(v.encode("cz"), [4, OOV]);
        assert!(v.check_fits::<5>().is_ok());
        assert!(matches!(
            v.check_fits::<4>(),
            Err(Error::VocabularyTooLarge { size: 5, max: 4 })
        ));
    }
}
