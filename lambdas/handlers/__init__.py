"""Thin AWS Lambda entry points: parse the event, call a step, map errors, log and count."""
