pub mod pod_not_isolated;
