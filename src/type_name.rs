//! Type names without module paths, as summaries print layers and checkpoints record
//! architectures: `dfdx::nn::modules::Linear<4, 8, f32, dfdx::tensor::cpu::Cpu>` reads
//! `Linear<4, 8, f32, Cpu>`.

/// `T`'s name with every module path removed.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    without_paths(std::any::type_name::<T>())
}

/// `name` with every module path removed: `a::b::Linear<2, c::D>` becomes `Linear<2, D>`.
pub(crate) fn without_paths(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut segment = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            segment.clear();
        } else if c.is_alphanumeric() || c == '_' {
            segment.push(c);
        } else {
            out.push_str(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out.push_str(&segment);
    out
}

#[cfg(test)]
mod tests {
    use super::without_paths;

    #[test]
    fn paths_are_dropped_and_everything_else_kept() {
        assert_eq!(
            without_paths("(dfdx::nn::modules::linear::Linear<4, 8, f32, dfdx::tensor::cpu::Cpu>, dfdx::nn::modules::activations::ReLU)"),
            "(Linear<4, 8, f32, Cpu>, ReLU)"
        );
        assert_eq!(without_paths("[f32; 3]"), "[f32; 3]");
        assert_eq!(without_paths("&mut a::B"), "&mut B");
    }
}
