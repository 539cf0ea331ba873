//! The `genuq` command line: train the models, fit the posterior, generate, evaluate.

/// Runs the command; a runtime error is one line on stderr, `error: what: why: ...` (the
/// chain of causes joined), and exit code 1.
#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    match genuq::commands::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
