"""The `sortition` command (installed as the package sortition_cli)."""
