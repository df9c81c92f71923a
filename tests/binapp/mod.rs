//! The real `stock` binary as a child process (`stock serve` on port 0), its standard error
//! (the logs) collected line by line; for tests of logging and of shutdown on signals.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{self, TestApp, TestDb};

pub struct Proc {
    pub child: Child,
    pub addr: std::net::SocketAddr,
    pub logs: Arc<Mutex<Vec<String>>>,
    /// Set once the reader has taken the last line of standard error (the child closed it).
    logs_done: Arc<AtomicBool>,
}

/// Starts `stock serve` against the test's database and waits for its "serving" line.
pub fn start(db: TestDb, extra_env: &[(&str, &str)]) -> (TestApp, Proc) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stock"));
    cmd.arg("serve")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", db.url())
        .env("STOCK_ROLE_PREFIX", common::PREFIX)
        .env("STOCK_SECRET_KEY", db.config.secret_key.expose())
        .env("STOCK_LISTEN", "127.0.0.1:0")
        .env("STOCK_POOL_SIZE", "4")
        // no spare shops made in the background while a test times the process (tests/spare_shops.rs
        // covers the refill task)
        .env("STOCK_SPARE_SHOPS", "0")
        .env("STOCK_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn stock serve");
    let logs = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().expect("stderr");
    let sink = logs.clone();
    let logs_done = Arc::new(AtomicBool::new(false));
    let done = logs_done.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().expect("logs").push(line);
        }
        done.store(true, Ordering::Release);
    });
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Stock is serving on http://") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let addr = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(a) => a,
        Err(_) => {
            let _ = child.kill();
            panic!("stock serve did not start; logs:\n{}", logs.lock().expect("logs").join("\n"))
        }
    };
    let addr: std::net::SocketAddr = addr.parse().expect("address");
    let app = TestApp { db, base: format!("http://{addr}"), http: common::client(), app: None };
    (app, Proc { child, addr, logs, logs_done })
}

impl Proc {
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("logs").clone()
    }

    /// Waits until some log line contains `needle`.
    pub async fn wait_for_log(&self, needle: &str) {
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if self.logs().iter().any(|l| l.contains(needle)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no log line contains {needle:?}; logs:\n{}", self.logs().join("\n"));
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .expect("run kill")
            .success();
        assert!(ok, "kill -{sig} failed");
    }

    /// The exit status, waiting at most `limit` for the process to exit and for its standard
    /// error to be read to the end (so `logs` holds its last lines).
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                // the process is gone, but its last log lines may still be in the pipe: wait
                // until the reader has them (on a loaded machine it can lag behind the exit)
                while !self.logs_done.load(Ordering::Acquire) && Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                return Some(s);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
