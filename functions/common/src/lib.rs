//! What kiln's Lambda functions share (being written).
