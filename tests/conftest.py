"""Project test configuration. The fixtures come from ``core.testing.pytest_plugin``
(registered as a pytest11 entry point, so third-party plugins get them too)."""
