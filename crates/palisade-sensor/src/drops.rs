//! Event counters and Falco's "syscall event drop" alert.
//!
//! The kernel side counts, per category, records sent and records it could
//! not put in a full ring buffer. They are read every second; when the
//! share of drops in the last second exceeds a threshold (Falco's
//! `syscall_event_drops.threshold`, 0.1), an alert is raised, at most one per
//! 30 seconds (`rate: .03333`, `max_burst: 1`), with Falco's rule name,
//! message, DEBUG priority and output fields.

use std::collections::BTreeMap;

use palisade_detect::{Alert, Priority, TokenBucket};

use crate::syscalls::CATEGORY_NAMES;

/// Counters, summed over CPUs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Records sent, by category (`file`, `net`, `proc`, `other`).
    pub sent: [u64; 4],
    /// Records dropped because the ring was full, by category.
    pub dropped: [u64; 4],
    /// Records user space could not decode.
    pub decode_errors: u64,
}

impl Counters {
    /// All records the kernel produced (sent or dropped).
    pub fn events(&self) -> u64 {
        self.sent.iter().sum::<u64>() + self.dropped.iter().sum::<u64>()
    }

    /// All drops.
    pub fn drops(&self) -> u64 {
        self.dropped.iter().sum()
    }

    fn minus(&self, o: &Counters) -> Counters {
        let mut d = Counters::default();
        for i in 0..4 {
            d.sent[i] = self.sent[i].saturating_sub(o.sent[i]);
            d.dropped[i] = self.dropped[i].saturating_sub(o.dropped[i]);
        }
        d.decode_errors = self.decode_errors.saturating_sub(o.decode_errors);
        d
    }

    /// The counters in Prometheus' text format.
    pub fn prometheus(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP palisade_sensor_events_total Syscall sensor records sent to user space, by category.\n# TYPE palisade_sensor_events_total counter\n");
        for (i, c) in CATEGORY_NAMES.iter().enumerate() {
            s.push_str(&format!(
                "palisade_sensor_events_total{{category=\"{c}\"}} {}\n",
                self.sent[i]
            ));
        }
        s.push_str("# HELP palisade_sensor_drops_total Syscall sensor records dropped in the kernel because a ring buffer was full, by category.\n# TYPE palisade_sensor_drops_total counter\n");
        for (i, c) in CATEGORY_NAMES.iter().enumerate() {
            s.push_str(&format!(
                "palisade_sensor_drops_total{{category=\"{c}\"}} {}\n",
                self.dropped[i]
            ));
        }
        s.push_str("# HELP palisade_sensor_decode_errors_total Records user space could not decode.\n# TYPE palisade_sensor_decode_errors_total counter\n");
        s.push_str(&format!(
            "palisade_sensor_decode_errors_total {}\n",
            self.decode_errors
        ));
        s
    }
}

/// Watches the counters each second and raises the drop alert.
#[derive(Debug)]
pub struct DropMonitor {
    threshold: f64,
    last: Counters,
    bucket: TokenBucket,
    hostname: String,
    /// Seconds in which the drop share exceeded the threshold.
    pub drop_seconds: u64,
}

/// Falco's alert rule name.
pub const DROP_RULE: &str = "Falco internal: syscall event drop";

impl DropMonitor {
    /// A monitor with Falco's defaults (threshold 0.1, one alert per 30 s).
    pub fn new(hostname: impl Into<String>) -> DropMonitor {
        DropMonitor::with(0.1, 1.0 / 30.0, 1.0, hostname)
    }

    /// A monitor with a threshold (share of drops) and an alert rate limit.
    pub fn with(threshold: f64, rate: f64, burst: f64, hostname: impl Into<String>) -> DropMonitor {
        DropMonitor {
            threshold,
            last: Counters::default(),
            bucket: TokenBucket::new(rate, burst),
            hostname: hostname.into(),
            drop_seconds: 0,
        }
    }

    /// Takes the counters at time `now_ns` (epoch); returns the alert to
    /// raise, if any.
    pub fn tick(&mut self, now: Counters, now_ns: u64) -> Option<Alert> {
        let delta = now.minus(&self.last);
        self.last = now;
        let drops = delta.drops();
        if drops == 0 {
            return None;
        }
        let ratio = drops as f64 / delta.events().max(1) as f64;
        if ratio <= self.threshold {
            return None;
        }
        self.drop_seconds += 1;
        if !self.bucket.claim(now_ns) {
            return None;
        }
        let message = format!("{DROP_RULE}. {drops} system calls dropped in last second.");
        let mut fields = BTreeMap::new();
        let mut put = |k: &str, v: u64| {
            fields.insert(k.to_string(), serde_json::Value::String(v.to_string()));
        };
        put("n_evts", delta.events());
        put("n_drops", drops);
        put("n_drops_buffer_total", drops);
        put("n_drops_buffer_open_exit", delta.dropped[0]);
        put("n_drops_buffer_connect_exit", delta.dropped[1]);
        put("n_drops_buffer_proc_exit", delta.dropped[2]);
        put("n_drops_buffer_other_interest_exit", delta.dropped[3]);
        put("n_drops_scratch_map", 0);
        put("n_drops_page_faults", 0);
        put("n_drops_bug", 0);
        fields.insert("ebpf_enabled".into(), serde_json::Value::String("1".into()));
        Some(Alert {
            time: palisade_detect::output::iso8601(now_ns),
            time_ns: now_ns,
            rule: DROP_RULE.to_string(),
            priority: Priority::Debug,
            output: format!(
                "{}: {} {}",
                palisade_detect::output::clock_time(now_ns),
                Priority::Debug.name(),
                message
            ),
            message,
            output_fields: fields,
            source: "syscall".into(),
            tags: Vec::new(),
            hostname: self.hostname.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_past_the_threshold_once_per_window() {
        let mut m = DropMonitor::new("h");
        let s = 1_000_000_000u64;
        let mut c = Counters::default();
        c.sent[0] = 1000;
        assert!(m.tick(c, s).is_none());
        // 5% drops: below the threshold.
        c.sent[0] += 950;
        c.dropped[0] += 50;
        assert!(m.tick(c, 2 * s).is_none());
        // 50% drops: alert.
        c.sent[0] += 500;
        c.dropped[1] += 500;
        let a = m.tick(c, 3 * s).expect("alert");
        assert_eq!(a.rule, DROP_RULE);
        assert_eq!(a.priority, Priority::Debug);
        assert_eq!(
            a.message,
            "Falco internal: syscall event drop. 500 system calls dropped in last second."
        );
        assert_eq!(a.output_fields["n_evts"], "1000");
        assert_eq!(a.output_fields["n_drops_buffer_connect_exit"], "500");
        // Again a second later: rate limited.
        c.dropped[1] += 500;
        assert!(m.tick(c, 4 * s).is_none());
        assert_eq!(m.drop_seconds, 2);
        // 30 s later: allowed again.
        c.dropped[1] += 500;
        assert!(m.tick(c, 40 * s).is_some());
        assert!(c
            .prometheus()
            .contains("palisade_sensor_drops_total{category=\"net\"} 1500"));
    }
}
