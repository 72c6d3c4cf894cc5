"""Quality gates on the clean warehouse tables (Great Expectations suites as blocking checks)."""
