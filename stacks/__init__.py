"""The ready-made stack(s) and their settings."""
