//! The `genuq` command line: train the models, fit the posterior, generate, evaluate.

#[cfg(not(target_arch = "wasm32"))]
fn main() -> anyhow::Result<()> {
    genuq::commands::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
