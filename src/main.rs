//! The `secruna` command line.

fn main() {}
