//! GitHub deliveries: signature verification and parsing into a closed set of domain events.
