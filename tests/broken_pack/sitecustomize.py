"""Breaks the policy pack mid-run, for tests/test_policy_packs.py: on PYTHONPATH with PACK_BREAK set,
the pack process (started as `python policies/__main__.py`) answers PACK_BREAK_AFTER Analyze calls,
then exits with code 3 (PACK_BREAK=crash, after writing PACK_BREAK_SAY to stderr) or never answers
again (PACK_BREAK=hang); PACK_BREAK_MARK names a file it creates when it breaks. Any other
process (the CLI, the simulation workers) is left alone."""

import os
import sys

# The pack runs as `python -u .../pack_host.py PACK/__main__.py` (analyzer_client.PACK_HOST).
if os.environ.get("PACK_BREAK") and any(os.path.basename(argument) == "__main__.py" for argument in sys.argv[1:2]):
    import time

    from pulumi_policy import policy

    _answer = policy._PolicyAnalyzerServicer.Analyze
    _calls = [0]

    def _breaking(self, request, context):
        _calls[0] += 1
        if _calls[0] > int(os.environ.get("PACK_BREAK_AFTER", "3")) and os.environ.get("PACK_BREAK_MARK"):
            open(os.environ["PACK_BREAK_MARK"], "w").close()  # tells a test the pack is now breaking
        if _calls[0] > int(os.environ.get("PACK_BREAK_AFTER", "3")):
            if os.environ["PACK_BREAK"] == "crash":
                sys.stderr.write(os.environ.get("PACK_BREAK_SAY", ""))  # last words, e.g. a forged command
                sys.stderr.flush()
                os._exit(3)
            time.sleep(3600)
        return _answer(self, request, context)

    policy._PolicyAnalyzerServicer.Analyze = _breaking
