//! Alerts posted to an HTTP(S) endpoint, one JSON alert per POST, as Falco's
//! `http_output` does (`Content-Type: application/json`).
//!
//! Posting happens on a background thread behind a bounded queue, so a slow
//! or dead endpoint never slows evaluation: when the queue is full, alerts are
//! dropped and counted, and failures are reported, not retried for ever.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How many alerts may wait for the endpoint.
const QUEUE: usize = 10_000;

/// Counts of what happened to the alerts given to a [`WebhookSink`].
#[derive(Debug, Default)]
pub struct WebhookStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    /// Dropped because the queue was full.
    pub dropped: AtomicU64,
}

/// A background poster of alerts.
pub struct WebhookSink {
    queue: Option<SyncSender<String>>,
    worker: Option<JoinHandle<()>>,
    pub stats: Arc<WebhookStats>,
}

impl WebhookSink {
    /// Starts posting to `url` (http or https). Errors go to `report`
    /// (at most one line per failure kind in a row, so a dead endpoint does not flood).
    pub fn start(
        url: &str,
        report: impl Fn(String) + Send + 'static,
    ) -> Result<WebhookSink, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "--alert-webhook {url:?}: expected an http:// or https:// URL"
            ));
        }
        let (tx, rx) = sync_channel::<String>(QUEUE);
        let stats = Arc::new(WebhookStats::default());
        let worker_stats = stats.clone();
        let url = url.to_string();
        let worker = std::thread::Builder::new()
            .name("alert-webhook".into())
            .spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .timeout_global(Some(Duration::from_secs(10)))
                    .http_status_as_error(true)
                    .build()
                    .into();
                let mut last_error = String::new();
                for body in rx {
                    let result = agent
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .send(body.as_bytes());
                    match result {
                        Ok(_) => {
                            worker_stats.sent.fetch_add(1, Ordering::Relaxed);
                            last_error.clear();
                        }
                        Err(e) => {
                            worker_stats.failed.fetch_add(1, Ordering::Relaxed);
                            let text = e.to_string();
                            if text != last_error {
                                report(format!("alert webhook {url}: {text}"));
                                last_error = text;
                            }
                        }
                    }
                }
            })
            .map_err(|e| format!("cannot start the alert webhook thread: {e}"))?;
        Ok(WebhookSink {
            queue: Some(tx),
            worker: Some(worker),
            stats,
        })
    }

    /// Queues one alert (its JSON). Never blocks.
    pub fn send(&self, json: String) {
        if let Some(queue) = &self.queue {
            if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = queue.try_send(json)
            {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until every queued alert has been posted (or has failed).
    pub fn finish(mut self) -> Arc<WebhookStats> {
        self.queue.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        self.stats.clone()
    }
}

impl Drop for WebhookSink {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A one-thread HTTP server that answers 200 to `n` POSTs and returns their bodies.
    fn server(n: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/alerts", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for stream in listener.incoming().take(n) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0;
                let mut content_type = String::new();
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                    if lower.starts_with("content-type:") {
                        content_type = line.trim().to_string();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                assert!(content_type.ends_with("application/json"), "{content_type}");
                bodies.push(String::from_utf8(body).unwrap());
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .unwrap();
            }
            bodies
        });
        (url, handle)
    }

    #[test]
    fn alerts_are_posted_one_per_request() {
        let (url, handle) = server(2);
        let sink = WebhookSink::start(&url, |e| panic!("{e}")).unwrap();
        sink.send(r#"{"rule":"a"}"#.into());
        sink.send(r#"{"rule":"b"}"#.into());
        let stats = sink.finish();
        assert_eq!(stats.sent.load(Ordering::Relaxed), 2);
        assert_eq!(
            handle.join().unwrap(),
            [r#"{"rule":"a"}"#, r#"{"rule":"b"}"#]
        );
    }

    #[test]
    fn a_dead_endpoint_is_reported_once_and_counted() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = reports.clone();
        let sink = WebhookSink::start(&format!("http://127.0.0.1:{port}/x"), move |e| {
            seen.lock().unwrap().push(e)
        })
        .unwrap();
        for _ in 0..3 {
            sink.send("{}".into());
        }
        let stats = sink.finish();
        assert_eq!(stats.failed.load(Ordering::Relaxed), 3);
        assert_eq!(reports.lock().unwrap().len(), 1);
        assert!(WebhookSink::start("ftp://x", |_| {}).is_err());
    }
}
