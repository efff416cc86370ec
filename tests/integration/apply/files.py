"""Declared files the apply tests share (format ``every`` into PING)."""

PING = """\
kind: Schedule
name: ping
trigger:
  interval: {every}
action:
  kind: http
  url: http://127.0.0.1:9/ping
"""
