//! The notification receiver.
