//! Baggage (placeholder).
