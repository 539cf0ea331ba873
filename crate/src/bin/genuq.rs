//! The `genuq` command line: train the models, fit the posterior, generate, evaluate.

/// Runs the command; a runtime error is one line on stderr, `error: what: why: ...` (the
/// chain of causes joined), and exit code 1.
#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    private_runtime_dir();
    match genuq::commands::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("error: {}", chain.join(": "));
            std::process::ExitCode::FAILURE
        }
    }
}

/// While wgpu probes for an adapter (`--compute auto` does on every run), the Vulkan loader's
/// Wayland support prints "XDG_RUNTIME_DIR is invalid or not set" to stderr where the session
/// has none (a server, CI, a container): a private one, `~/.cache/genuq/xdg` (0700, as
/// dev.sh makes), keeps those runs quiet. Only where it is unset; before any thread starts.
#[cfg(all(unix, not(target_arch = "wasm32")))]
fn private_runtime_dir() {
    use std::os::unix::fs::DirBuilderExt;
    let (None, Some(home)) = (
        std::env::var_os("XDG_RUNTIME_DIR"),
        std::env::var_os("HOME"),
    ) else {
        return;
    };
    let dir = std::path::Path::new(&home).join(".cache/genuq/xdg");
    let made = std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir);
    if made.is_ok() {
        // SAFETY: the first statement of main, before any thread exists; nothing reads the
        // environment concurrently.
        unsafe { std::env::set_var("XDG_RUNTIME_DIR", &dir) };
    }
}

#[cfg(all(not(unix), not(target_arch = "wasm32")))]
fn private_runtime_dir() {}

#[cfg(target_arch = "wasm32")]
fn main() {}
