"""Real servers on loopback that stand in for the outside world in tests and benchmarks.

The fake OpenAI-compatible upstream and the GitHub/Kakao OAuth stand-ins
speak the real protocols over HTTP, so haruchat's clients are exercised on
the wire instead of being patched. The tests import them from here and so
does `bench/`; nothing here is imported by the app itself.
"""
