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
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(path)
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
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
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

/// Genkit's spans (target `genkit`) of this test binary, with their fields, collected by
/// a global subscriber installed on first use.
pub mod spans {
    use std::collections::BTreeMap;
    use std::sync::{Mutex, OnceLock};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

    /// One span: its fields by name (`genkit:name`, `genkit:path`, …).
    pub type Fields = BTreeMap<String, String>;

    static SPANS: Mutex<Vec<(u64, Fields)>> = Mutex::new(Vec::new());

    struct Rec<'a>(&'a mut Fields);

    impl Visit for Rec<'_> {
        fn record_str(&mut self, f: &Field, v: &str) {
            self.0.insert(f.name().into(), v.into());
        }
        fn record_bool(&mut self, f: &Field, v: bool) {
            self.0.insert(f.name().into(), v.to_string());
        }
        fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
            self.0.insert(f.name().into(), format!("{v:?}"));
        }
    }

    struct Collect;

    impl<S: tracing::Subscriber> Layer<S> for Collect {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _cx: Context<'_, S>) {
            if attrs.metadata().target() == "genkit" {
                let mut fields = Fields::new();
                attrs.record(&mut Rec(&mut fields));
                SPANS.lock().unwrap().push((id.into_u64(), fields));
            }
        }
        fn on_record(&self, id: &Id, values: &Record<'_>, _cx: Context<'_, S>) {
            let mut spans = SPANS.lock().unwrap();
            if let Some((_, f)) = spans.iter_mut().rev().find(|(i, _)| *i == id.into_u64()) {
                values.record(&mut Rec(f));
            }
        }
    }

    /// Starts collecting (once per test binary).
    pub fn collect() {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            let subscriber = tracing_subscriber::registry().with(Collect);
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        });
    }

    /// The spans collected so far whose `genkit:path` contains `needle`.
    pub fn with_path(needle: &str) -> Vec<Fields> {
        SPANS
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, f)| f.get("genkit:path").is_some_and(|p| p.contains(needle)))
            .map(|(_, f)| f.clone())
            .collect()
    }
}
