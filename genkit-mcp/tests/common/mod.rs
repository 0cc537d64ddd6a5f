//! What the MCP tests share: the official SDKs, provisioned on first use, and ports.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

/// The official MCP Python SDK this crate is tested against.
pub const PYTHON_MCP: &str = "mcp==2.3.0";

/// `python` of a venv holding the official MCP Python SDK.
pub fn python() -> PathBuf {
    genkit_testkit::python_env(&[PYTHON_MCP])
}

/// A file under `tests/`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join(path)
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something accepts connections on `port` (at most 60 s).
pub async fn wait_for_port(port: u16) {
    for _ in 0..600 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing listens on 127.0.0.1:{port} after 60 s");
}

/// A child process killed when dropped.
pub struct Child(pub tokio::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}
