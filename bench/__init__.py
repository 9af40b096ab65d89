"""Benchmarks of the bot against the Telegram and Coachview sandboxes (``python -m bench``).

The bot under test runs as its own process (``python -m bot``), as it does in production; the
sandboxes and the simulated people run in the benchmark's process, so the operating system's
accounting of the bot's process is the bot's cost alone. Every figure is measured beside its
reference in the same run (the floor: a bare python-telegram-bot echo bot, :mod:`bench.echo`),
because the machines are shared and noisy. See ``bench/README.md``.
"""
