"""Executor tests: real function processes driven through Executor.invoke."""
