#!/usr/bin/env bash
# Checks that typenet's top-level modules import each other only downward, so the module graph
# stays acyclic and the crate reads bottom-up:
#
#   error, type_name, dims  <-  data, nn, checkpoint, gradcheck, plot, distributed  <-  losses, optim
#          (interop: level 2)  <-  train  <-  interpret
#          <-  prelude, for_keras_and_pytorch_users (the doc-only phrase book)
#
# A module may import from modules on lower levels only (not from its own level, not upward).
# Imports are the `crate::…` paths (and `super::…` paths that leave the module) in code: doc and
# other comments, string literals and `#[cfg(test)]` items (with the files of `#[cfg(test)] mod x;`)
# are left out. `crate::Error` and `crate::Result` are `error`'s.
#
# Usage: scripts/check-module-graph.sh [--list] [SRC_DIR]   (--list prints every edge found)
# Exits 1, naming each file and line, when an import breaks the layering.
set -euo pipefail
list=0
if [[ "${1:-}" == "--list" ]]; then
  list=1
  shift
fi
src="${1:-$(dirname "$0")/../src}"

LIST="$list" perl -e '
use strict;
use warnings;
use File::Find;

my %level = (
    error => 0, type_name => 0, dims => 0,
    data => 1, nn => 1, checkpoint => 1, gradcheck => 1, plot => 1, distributed => 1,
    losses => 2, optim => 2, interop => 2,
    train => 3,
    interpret => 4,
    prelude => 5, for_keras_and_pytorch_users => 5,
);
my %root_items = (Error => "error", Result => "error");
my $src = $ARGV[0];
$src =~ s{/+$}{};

my @files;
# src/bin/ holds separate binary crates, which may import anything of the library
find(sub { push @files, $File::Find::name if /\.rs$/ && $File::Find::name !~ m{/bin/} }, $src);
@files = sort @files;

# module path of a file: src/nn/device/mod.rs -> (nn, device); src/lib.rs -> ()
sub module_path {
    my ($f) = @_;
    my $rel = substr($f, length($src) + 1);
    $rel =~ s/\.rs$//;
    my @p = split m{/}, $rel;
    pop @p if $p[-1] eq "mod" || $p[-1] eq "lib";
    return @p;
}

# the file a `mod name;` declared in $f refers to
sub child_files {
    my ($f, $name) = @_;
    (my $dir = $f) =~ s{/[^/]+$}{};
    my $base = $f =~ m{/(mod|lib)\.rs$} ? $dir : ($f =~ s/\.rs$//r);
    return ("$base/$name.rs", "$base/$name/mod.rs");
}

# code without comments, string/char literals and #[cfg(test)] items; notes test-only files
my %test_only;
sub strip {
    my ($f, $text) = @_;
    my $out = "";
    my $n = length $text;
    my $i = 0;
    while ($i < $n) {
        my $c = substr($text, $i, 1);
        my $two = substr($text, $i, 2);
        if ($two eq "//") {
            my $j = index($text, "\n", $i);
            $j = $n if $j < 0;
            $i = $j;
        } elsif ($two eq "/*") {
            my $depth = 0;
            while ($i < $n) {
                my $t = substr($text, $i, 2);
                if ($t eq "/*") { $depth++; $i += 2; next }
                if ($t eq "*/") { $depth--; $i += 2; last if $depth == 0; next }
                $out .= "\n" if substr($text, $i, 1) eq "\n";
                $i++;
            }
        } elsif ($c eq "r" && substr($text, $i) =~ /^r(#*)"/ && ($i == 0 || substr($text, $i - 1, 1) !~ /\w/)) {
            my $hashes = $1;
            my $end = index($text, "\"$hashes", $i + 2 + length $hashes);
            $end = $n if $end < 0;
            $out .= "\"\"" . ("\n" x (substr($text, $i, $end - $i) =~ tr/\n//));
            $i = $end + 1 + length $hashes;
        } elsif ($c eq "\"") {
            my $j = $i + 1;
            while ($j < $n) {
                my $d = substr($text, $j, 1);
                if ($d eq "\\") { $j += 2; next }
                last if $d eq "\"";
                $j++;
            }
            $out .= "\"\"" . ("\n" x (substr($text, $i, $j - $i) =~ tr/\n//));
            $i = $j + 1;
        } elsif ($c eq "\x27" && substr($text, $i) =~ /^\x27(\\.[^\x27]*|[^\\\x27])\x27/) {
            $i += length($&);   # a char literal (lifetimes do not match)
            $out .= "\x27\x27";
        } else {
            $out .= $c;
            $i++;
        }
    }
    # #[cfg(test)] items: `mod x;` (a file) or an item up to its matching closing brace
    while ($out =~ /#\[cfg\(test\)\]/g) {
        my $start = $-[0];
        my $rest = substr($out, $+[0]);
        if ($rest =~ /^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;/) {
            $test_only{$_} = 1 for child_files($f, $1);
            my $len = $+[0];
            substr($out, $start, $+[0] - $start + $len) =~ s/[^\n]/ /g;
            pos($out) = $start;
            next;
        }
        my $open = index($out, "{", $+[0]);
        my $semi = index($out, ";", $+[0]);
        my $end;
        if ($open < 0 || ($semi >= 0 && $semi < $open)) {
            $end = $semi;
        } else {
            my $depth = 0;
            for ($end = $open; $end < length $out; $end++) {
                my $d = substr($out, $end, 1);
                $depth++ if $d eq "{";
                $depth-- if $d eq "}";
                last if $depth == 0;
            }
        }
        substr($out, $start, $end - $start + 1) =~ s/[^\n]/ /g;
        pos($out) = $start;
    }
    return $out;
}

my (%code, %edges);
for my $f (@files) {
    open my $fh, "<", $f or die "$f: $!";
    local $/;
    $code{$f} = strip($f, scalar <$fh>);
}
my @bad;
for my $f (@files) {
    next if $test_only{$f};
    my @path = module_path($f);
    next unless @path;               # lib.rs: the root declares the modules
    my $from = $path[0];
    my $code = $code{$f};
    my @refs;   # [top-level name, offset]
    while ($code =~ /\bcrate\s*::\s*(\w+|\{)/g) {
        if ($1 ne "{") { push @refs, [$1, $-[1]]; next }
        # crate::{a, b::{…}, c}: the names at depth 1
        my ($depth, $j, $tok) = (1, $+[0], "");
        my $expect = 1;
        while ($j < length $code && $depth > 0) {
            my $d = substr($code, $j, 1);
            if ($d eq "{") { $depth++ }
            elsif ($d eq "}") { $depth-- }
            elsif ($d eq "," && $depth == 1) { $expect = 1 }
            elsif ($expect && $depth == 1 && substr($code, $j) =~ /^(\w+)/) {
                push @refs, [$1, $j];
                $expect = 0;
                $j += length($1) - 1;
            }
            $j++;
        }
    }
    # super:: chains that climb out of the top-level module
    # (module a::b, in src/a/b.rs or src/a/b/mod.rs: `super` is a, `super::super` the root)
    while ($code =~ /\b((?:super\s*::\s*)+)(\w+)/g) {
        my ($chain, $name, $at) = ($1, $2, $-[2]);
        my $ups = () = $chain =~ /super/g;
        push @refs, [$name, $at] if $ups >= @path;
    }
    for my $r (@refs) {
        my ($to, $at) = @$r;
        $to = $root_items{$to} if exists $root_items{$to};
        next if $to eq $from || $to eq "self" || $to eq "super";
        next unless exists $level{$to};
        my $line = 1 + (substr($code, 0, $at) =~ tr/\n//);
        my $where = substr($f, length($src) + 1) . ":$line";
        $edges{"$from -> $to"} //= $where;
        die "unknown top-level module `$from` ($where): give it a level in scripts/check-module-graph.sh\n"
            unless exists $level{$from};
        push @bad, "$where: `$from` (level $level{$from}) imports `$to` (level $level{$to})"
            if $level{$to} >= $level{$from};
    }
}
for my $f (@files) {
    my @p = module_path($f);
    next if !@p || $test_only{$f} || exists $level{$p[0]};
    die "unknown top-level module `$p[0]`: give it a level in scripts/check-module-graph.sh\n";
}
if ($ENV{LIST}) {
    print "$_ ($edges{$_})\n" for sort keys %edges;
}
if (@bad) {
    print STDERR "module graph: imports that are not downward:\n";
    print STDERR "  $_\n" for @bad;
    exit 1;
}
print "module graph: ", scalar(keys %edges), " edges, all downward\n";
' "$src"
