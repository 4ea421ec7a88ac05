"""The synthesis fixtures (``synth_settings``, ``synthesized``) are session-wide in ``tests/conftest.py``:
the deployment twin applies the same synthesis."""
