//! REST gateway for the dashboard API.
