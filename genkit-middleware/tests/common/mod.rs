//! Shared helpers: a local Gemini-compatible server on 127.0.0.1 and a Genkit on it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use genkit_core::Genkit;
use genkit_googleai::GoogleAi;
use genkit_googleai::server::{LocalGemini, ServerOptions};

pub const KEY: &str = "middleware-test-key";

pub async fn server() -> LocalGemini {
    LocalGemini::start_with(ServerOptions::default().api_key(KEY))
        .await
        .expect("the local Gemini server starts on 127.0.0.1")
}

pub async fn genkit(server: &LocalGemini) -> Genkit {
    Genkit::builder()
        .without_submitted_actions()
        .plugin(
            GoogleAi::new(KEY)
                .with_base_url(server.base_url())
                .with_timeout(Duration::from_secs(20)),
        )
        .plugin(genkit_middleware::Middlewares)
        .model("googleai/gemini-2.0-flash")
        .build()
        .await
        .expect("genkit builds")
}

/// The delays a `Retry` asked for, recorded instead of slept.
#[derive(Clone, Default)]
pub struct Delays(Arc<Mutex<Vec<Duration>>>);

impl Delays {
    pub fn retry(&self) -> genkit_middleware::Retry {
        let d = self.0.clone();
        genkit_middleware::Retry::new().sleep_with(move |delay| {
            d.lock().unwrap().push(delay);
            async {}
        })
    }

    pub fn get(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A fresh directory under the system temp dir (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "genkit-middleware-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
