//! The Mp1 server side.
